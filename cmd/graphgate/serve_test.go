package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/config"
	"graphgate/internal/sqlstore"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := realMain(context.Background(), args, &out, &out)
	return out.String(), err
}

func TestConfigCommandRedacts(t *testing.T) {
	t.Setenv("GRAPHGATE_DATA_DIR", privateDir(t))
	t.Setenv("GRAPHGATE_ADMIN_EMAIL", "admin@contoso.test")
	t.Setenv("GRAPHGATE_ADMIN_PASSWORD", "super-secret-pw")
	t.Setenv("GRAPHGATE_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	out, err := run(t, "config", "--addr", "127.0.0.1:1234")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "super-secret-pw") || strings.Contains(out, "AAAAAAAA") || !strings.Contains(out, "GRAPHGATE_ADDR=127.0.0.1:1234") {
		t.Fatalf("config output:\n%s", out)
	}
	t.Setenv("GRAPHGATE_M365_AUTHORITY", "contoso")
	if _, err := run(t, "config"); err == nil || !strings.Contains(err.Error(), "GRAPHGATE_M365_AUTHORITY") {
		t.Fatalf("bad authority: %v", err)
	}
}

func TestUsersTokensAndRotateKey(t *testing.T) {
	dir := privateDir(t)
	t.Setenv("GRAPHGATE_DATA_DIR", dir)
	pwFile := filepath.Join(dir, "pw")
	_ = os.WriteFile(pwFile, []byte("admin-password-1\n"), 0o600)
	if out, err := run(t, "users", "create", "--email", "Admin@Contoso.test", "--password-file", pwFile, "--admin"); err != nil || !strings.Contains(out, "admin@contoso.test (admin)") {
		t.Fatalf("users create: %v %s", err, out)
	}
	if _, err := run(t, "users", "create", "--email", "admin@contoso.test", "--password", "another-password"); err == nil {
		t.Fatal("duplicate user accepted")
	}
	if _, err := run(t, "users", "create", "--email", "x@y.test", "--password", "short"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("short password: %v", err)
	}
	if _, err := run(t, "users", "create", "--email", "alex@contoso.test", "--password", "user-password-1"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "tokens", "create", "--user", "admin@contoso.test", "--name", "ci", "--admin")
	if err != nil || !regexp.MustCompile(`^ggt_[A-Za-z0-9]{43}\n$`).MatchString(out) {
		t.Fatalf("tokens create: %v %q", err, out)
	}
	if _, err := run(t, "tokens", "create", "--user", "alex@contoso.test", "--name", "ci", "--admin"); err == nil {
		t.Fatal("admin token for a non-admin")
	}
	if _, err := run(t, "tokens", "create", "--user", "alex@contoso.test", "--name", "x", "--toolsets", "mail,teleport"); err == nil {
		t.Fatal("unknown toolset accepted")
	}
	if out, err := run(t, "tokens", "create", "--user", "alex@contoso.test", "--name", "reader", "--read-only", "--confirm-writes", "--toolsets", "mail,files"); err != nil || !strings.HasPrefix(out, "ggt_") {
		t.Fatalf("agent token: %v %s", err, out)
	}
	if s, _ := storeOf(t); s != nil {
		u, _ := s.UserByEmail(context.Background(), "alex@contoso.test")
		toks, _ := s.ListAPITokens(context.Background(), u.ID)
		s.Close()
		if len(toks) == 0 || !toks[0].ConfirmWrites || !toks[0].ReadOnly {
			t.Fatalf("--confirm-writes not stored: %+v", toks)
		}
	}

	// Configure Microsoft 365 through the store, then rotate the key file.
	s, cfg := storeOf(t)
	if _, err := s.UpdateM365Config(context.Background(), func(*graphgate.M365Config) (*graphgate.M365Config, error) {
		return &graphgate.M365Config{ClientID: "5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59", ClientSecret: "abc8Q~value-0000000000000000000000000000",
			RedirectURI: "http://localhost:8080/api/v1/microsoft365/auth/callback", Enabled: true, SecretSetAt: time.Now()}, nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(cfg.KeyFile())
	out, err = run(t, "rotate-key", "--new-key")
	if err != nil || !strings.Contains(out, "re-encrypted 1 value") {
		t.Fatalf("rotate-key: %v %s", err, out)
	}
	after, _ := os.ReadFile(cfg.KeyFile())
	if len(strings.Fields(string(after))) != 2 || !strings.HasSuffix(string(after), string(before)) {
		t.Fatal("the key file did not gain a new first key")
	}
	// Drop the old key: everything still reads.
	_ = os.WriteFile(cfg.KeyFile(), []byte(strings.Fields(string(after))[0]+"\n"), 0o600)
	s, _ = storeOf(t)
	defer s.Close()
	if got, err := s.M365Config(context.Background()); err != nil || !strings.HasPrefix(got.ClientSecret, "abc8Q~") {
		t.Fatalf("after rotation without the old key: %v", err)
	}
}

func TestServeCommand(t *testing.T) {
	t.Setenv("GRAPHGATE_DATA_DIR", privateDir(t))
	t.Setenv("GRAPHGATE_ADMIN_EMAIL", "admin@contoso.test")
	t.Setenv("GRAPHGATE_ADMIN_PASSWORD", "admin-password-1")
	addr, out, stop := background(t, `"addr":"(127\.0\.0\.1:\d+)"`, "serve", "--addr", "127.0.0.1:0")
	// A request that continues a trace: its log line names the trace.
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/readyz", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v", err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"route":"GET /readyz","status":200`) || !strings.Contains(out.String(), `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`) {
		t.Fatalf("the request's log line does not name its trace:\n%s", out.String())
	}
	if strings.Contains(out.String(), "admin-password-1") {
		t.Fatal("the log shows the admin password")
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Fatalf("a log line is not JSON: %q", line)
		}
	}
	// A bad configuration names the variable and does not start.
	t.Setenv("GRAPHGATE_BASE_URL", "graphgate.example.com")
	if _, err := run(t, "serve"); err == nil || !strings.Contains(err.Error(), "GRAPHGATE_BASE_URL") {
		t.Fatalf("bad base URL: %v", err)
	}
	// graphgate config is the dry run: what serve would refuse, it refuses,
	// and neither writes anything (no data folder, no key file).
	t.Setenv("GRAPHGATE_BASE_URL", "http://localhost:8080")
	fresh := filepath.Join(t.TempDir(), "data")
	t.Setenv("GRAPHGATE_DATA_DIR", fresh)
	t.Setenv("GRAPHGATE_ADMIN_PASSWORD", "x")
	for _, cmd := range []string{"config", "serve"} {
		if _, err := run(t, cmd); err == nil || !strings.Contains(err.Error(), "GRAPHGATE_ADMIN_PASSWORD") {
			t.Fatalf("%s with a one-character admin password: %v", cmd, err)
		}
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("a refused configuration wrote the data folder: %v", err)
	}
}

// A serve with nobody to sign in says how to make the first admin, and a
// loopback base URL on another port than the one listened on is named.
func TestServeSaysWhatIsMissing(t *testing.T) {
	t.Setenv("GRAPHGATE_DATA_DIR", privateDir(t))
	_, out, stop := background(t, `"addr":"(127\.0\.0\.1:\d+)"`, "serve", "--addr", "127.0.0.1:0")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"graphgate users create", "GRAPHGATE_ADMIN_EMAIL", "GRAPHGATE_BASE_URL is http://localhost:8080 but graphgate listens on port"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, out.String())
		}
	}
}

func TestDemoCommand(t *testing.T) {
	dir := privateDir(t)
	base, out, stop := background(t, `Open (http://\S+) and sign in`, "demo", "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0", "--data-dir", dir)
	for _, want := range []string{"admin@contoso.test", "alex@contoso.test", "sam@fabrikam.test", "jo@outlook.test", `password "demo"`, dir, base + "/mcp",
		"nina@contoso.test", "Sign in with Microsoft"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	resp, err := http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `id="signin-microsoft"`) {
		t.Error("the demo's sign-in page does not offer Sign in with Microsoft")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The data folder has serve's layout: the store opens with the key file,
	// Microsoft 365 points at the sandbox app, and the demo accounts exist.
	t.Setenv("GRAPHGATE_DATA_DIR", dir)
	s, _ := storeOf(t)
	defer s.Close()
	m, err := s.M365Config(context.Background())
	if err != nil || m.Status() != graphgate.StatusActive || m.RedirectURI != base+"/api/v1/microsoft365/auth/callback" {
		t.Fatalf("demo integration: %+v %v", m, err)
	}
	if len(m.Capabilities) != len(graphgate.Capabilities) {
		t.Fatalf("a new demo starts with every capability on, not %v", m.Capabilities)
	}
	if n, _ := s.CountUsers(context.Background()); n != 5 {
		t.Fatalf("%d demo users", n)
	}
	if out, err := run(t, "tokens", "create", "--user", "alex@contoso.test", "--name", "agent"); err != nil || !strings.HasPrefix(out, "ggt_") {
		t.Fatalf("tokens create against the demo data: %v %s", err, out)
	}
}

// storeOf opens the configured store the way the one-off commands do.
func storeOf(t *testing.T) (*sqlstore.Store, *config.Config) {
	t.Helper()
	s, cfg, err := openStore(context.Background(), &configFlags{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// privateDir is a temporary data folder as graphgate wants it: owner only.
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHealthcheckCommand(t *testing.T) {
	t.Setenv("GRAPHGATE_DATA_DIR", privateDir(t))
	addr, _, stop := background(t, `"addr":"(127\.0\.0\.1:\d+)"`, "serve", "--addr", "127.0.0.1:0")
	if out, err := run(t, "healthcheck", "--url", "http://"+addr); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("healthcheck of a running graphgate: %v %s", err, out)
	}
	_, port, _ := strings.Cut(addr, ":")
	if _, err := run(t, "healthcheck", "--addr", ":"+port); err != nil {
		t.Fatalf("healthcheck by GRAPHGATE_ADDR's port: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "healthcheck", "--url", "http://"+addr); err == nil {
		t.Fatal("healthcheck passed with graphgate stopped")
	}
}

// A demo without --data-dir leaves nothing behind.
func TestDemoRemovesItsTemporaryFolder(t *testing.T) {
	dir, _, stop := background(t, `Data folder: +(\S+) \(removed when the demo stops\)`, "demo", "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(dir, "graphgate.db")); err != nil {
		t.Fatalf("the demo's database: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the temporary data folder is still there: %v", err)
	}
}

func TestDemoCapabilitiesFlag(t *testing.T) {
	if _, err := run(t, "demo", "--capabilities", "people,teams"); err == nil || !strings.Contains(err.Error(), `unknown capability "teams"`) {
		t.Fatalf("an unknown capability: %v", err)
	}
	for v, want := range map[string]int{"all": len(graphgate.Capabilities), "none": 0, "people": 1, " calendar.write , people ": 2} {
		got, err := capabilitiesFlag(v)
		if err != nil || len(got) != want {
			t.Errorf("--capabilities %q: %v %v", v, got, err)
		}
	}
}
