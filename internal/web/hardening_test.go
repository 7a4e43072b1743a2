package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphgate/internal/app"
	"graphgate/internal/apptest"
	"graphgate/internal/config"
)

// get sends a GET with the given Host header.
func get(t *testing.T, base, path, host string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestHostCheck(t *testing.T) {
	srv := apptest.Start(t, map[string]string{"GRAPHGATE_ALLOWED_HOSTS": "graphgate.internal, Proxy.Example"})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	for _, tc := range []struct {
		name, path, host string
		want             int
	}{
		{"the base URL's host", "/login", "127.0.0.1:" + port, http.StatusOK},
		{"another loopback name for a loopback base URL", "/login", "localhost:" + port, http.StatusOK},
		{"an allowed proxy name", "/login", "graphgate.internal", http.StatusOK},
		{"an allowed name in other case", "/login", "PROXY.example:443", http.StatusOK},
		{"a rebinding page's name", "/login", "evil.example:" + port, http.StatusMisdirectedRequest},
		{"a rebinding page's name at /mcp", "/mcp", "evil.example", http.StatusMisdirectedRequest},
		{"a rebinding page's name at the API", "/api/v1/users", "evil.example", http.StatusMisdirectedRequest},
		{"a name that ends like an allowed one", "/login", "xgraphgate.internal", http.StatusMisdirectedRequest},
		{"health probes by address", "/healthz", "10.1.2.3:8080", http.StatusOK},
		{"readiness probes by address", "/readyz", "10.1.2.3:8080", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(t, srv.URL, tc.path, tc.host).StatusCode; got != tc.want {
				t.Fatalf("Host %q %s: %d, want %d", tc.host, tc.path, got, tc.want)
			}
		})
	}

	// A public base URL: loopback names are refused too.
	public := apptest.Start(t, map[string]string{"GRAPHGATE_BASE_URL": "https://graphgate.example.com"})
	for host, want := range map[string]int{"graphgate.example.com": 200, "localhost": 421, "127.0.0.1": 421} {
		if got := get(t, public.URL, "/login", host).StatusCode; got != want {
			t.Errorf("public base URL, Host %q: %d, want %d", host, got, want)
		}
	}
	if _, err := config.Load(func(k string) (string, bool) {
		return map[string]string{"GRAPHGATE_ALLOWED_HOSTS": "https://x.example/"}[k], k == "GRAPHGATE_ALLOWED_HOSTS"
	}, nil); err == nil || !strings.Contains(err.Error(), "GRAPHGATE_ALLOWED_HOSTS") {
		t.Fatalf("a URL as an allowed host: %v", err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	plain := apptest.Start(t, nil)
	c := plain.NewClient()
	c.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	for _, path := range []string{"/integrations", "/admin/servers", "/admin/users", "/login"} {
		if r := c.Get(path); r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, r.Header.Get("Cache-Control"))
		}
	}
	if r := c.Get("/integrations"); r.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain http")
	}
	secure := apptest.Start(t, map[string]string{"GRAPHGATE_BASE_URL": "https://graphgate.example.com"})
	if h := get(t, secure.URL, "/login", "graphgate.example.com").Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("https base URL: HSTS %q", h)
	}
}

func TestMetricsTokenAndAddress(t *testing.T) {
	withToken := apptest.Start(t, map[string]string{"GRAPHGATE_METRICS_TOKEN": "scrape-me-please"})
	if got := get(t, withToken.URL, "/metrics", "").StatusCode; got != http.StatusUnauthorized {
		t.Fatalf("metrics without the token: %d", got)
	}
	if got := get(t, withToken.URL, "/metrics", "", "Authorization", "Bearer wrong").StatusCode; got != http.StatusUnauthorized {
		t.Fatalf("metrics with a wrong token: %d", got)
	}
	if got := get(t, withToken.URL, "/metrics", "", "Authorization", "bearer scrape-me-please").StatusCode; got != http.StatusOK {
		t.Fatalf("metrics with the token, scheme in lower case: %d", got)
	}
	if got := get(t, withToken.URL, "/metrics", "", "Authorization", "Bearer scrape-me-please").StatusCode; got != http.StatusOK {
		t.Fatalf("metrics with the token: %d", got)
	}
	// Prometheus scrapes by pod address: with the token, any Host; without
	// it, still 401, never the page of another host.
	if got := get(t, withToken.URL, "/metrics", "10.1.2.3:8080", "Authorization", "Bearer scrape-me-please").StatusCode; got != http.StatusOK {
		t.Fatalf("metrics by pod address with the token: %d", got)
	}
	if got := get(t, withToken.URL, "/metrics", "10.1.2.3:8080").StatusCode; got != http.StatusUnauthorized {
		t.Fatalf("metrics by pod address without the token: %d", got)
	}
	if got := get(t, withToken.URL, "/login", "10.1.2.3:8080").StatusCode; got != http.StatusMisdirectedRequest {
		t.Fatalf("a page by pod address: %d", got)
	}

	// On a separate address, /metrics leaves the main one.
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	metricsAddr := free.Addr().String()
	free.Close()
	dir := t.TempDir()
	vars := map[string]string{"GRAPHGATE_DATA_DIR": dir, "GRAPHGATE_METRICS_ADDR": metricsAddr}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	main := "http://" + ln.Addr().String()
	var metricsStatus int
	for range 100 {
		req, _ := http.NewRequest(http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			metricsStatus = resp.StatusCode
			resp.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if metricsStatus != http.StatusOK {
		t.Fatalf("metrics address: %d", metricsStatus)
	}
	// The metrics address serves /metrics only.
	for _, path := range []string{"/", "/login", "/healthz", "/metrics/x"} {
		if got := get(t, "http://"+metricsAddr, path, "").StatusCode; got != http.StatusNotFound {
			t.Errorf("%s on the metrics address: %d", path, got)
		}
	}
	if got := get(t, main, "/metrics", "").StatusCode; got != http.StatusNotFound {
		t.Fatalf("/metrics on the main address: %d", got)
	}
}

func TestDataFilesAreOwnerOnly(t *testing.T) {
	srv := apptest.Start(t, map[string]string{"GRAPHGATE_DATA_DIR": filepath.Join(t.TempDir(), "new", "data")})
	// Write something so that the WAL exists.
	srv.NewClient().SignIn(apptest.AdminEmail, apptest.AdminPassword)
	fi, err := os.Stat(srv.DataDir())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data folder: %v %v", fi.Mode(), err)
	}
	for _, name := range []string{"graphgate.db", "graphgate.db-wal", "graphgate.db-shm", "encryption.key"} {
		fi, err := os.Stat(filepath.Join(srv.DataDir(), name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	// An existing folder open to others gets a warning.
	wide := t.TempDir()
	if err := os.Chmod(wide, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg, _ := config.Load(func(k string) (string, bool) { return wide, k == "GRAPHGATE_DATA_DIR" }, nil)
	if err := app.PrepareDataDir(cfg, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "chmod 700") {
		t.Fatalf("no warning for a folder others can read: %q", logs.String())
	}
}
