// Package proctest runs graphgate as separate processes, for the tests and
// scripts that kill, stop, restart and load them: the crash loop and the
// replica run. The sandbox tenant runs in the calling process.
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/app"
	"graphgate/internal/config"
	"graphgate/internal/microsoft365"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/sandboxtest"
)

// Build compiles graphgate into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "graphgate")
	out, err := exec.Command("go", "build", "-o", bin, "graphgate/cmd/graphgate").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Person is a seeded graphgate user with a linked account and agent tokens.
type Person struct {
	UPN         string
	UserID      int64
	AgentTokens []string
}

// Seed prepares the database env names: Microsoft 365 configured for the
// sandbox at sbURL, and for each upn a user whose Microsoft account is
// linked (through the sandbox's real code flow) with tokensEach agent tokens.
func Seed(ctx context.Context, env map[string]string, sb *sandbox.Sandbox, sbURL string, upns []string, tokensEach int) ([]Person, error) {
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if _, err := a.Web.Admin().ConfigureM365(ctx, nil, microsoft365.Setup{ClientID: sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret, RedirectURI: cfg.CallbackURL()}); err != nil {
		return nil, err
	}
	oc := &oauth2.Config{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RedirectURL: sandbox.DefaultRedirectURI,
		Scopes: microsoft365.Scopes, Endpoint: oauth2.Endpoint{AuthURL: sbURL + "/common/oauth2/v2.0/authorize",
			TokenURL: sbURL + "/common/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
	var people []Person
	for _, upn := range upns {
		p, ok := sb.Directory.Person(upn)
		if !ok {
			return nil, fmt.Errorf("no sandbox person %s", upn)
		}
		u, err := a.Web.Admin().CreateUser(ctx, nil, admin.NewUser{Email: upn, Name: p.DisplayName, Password: "seeded-password-1", Role: graphgate.RoleUser})
		if err != nil {
			return nil, err
		}
		code, err := sandboxtest.Code(oc.AuthCodeURL("seed"), upn)
		if err != nil {
			return nil, err
		}
		tok, err := oc.Exchange(ctx, code)
		if err != nil {
			return nil, err
		}
		if err := a.Store.PutLink(ctx, &graphgate.Link{UserID: u.ID, TenantID: p.Tenant.ID, ObjectID: p.ObjectID, Personal: p.Personal(), Username: upn,
			DisplayName: p.DisplayName, RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, AccessExpiresAt: tok.Expiry}); err != nil {
			return nil, err
		}
		person := Person{UPN: upn, UserID: u.ID}
		for i := range max(tokensEach, 1) {
			token, display, hash := apitoken.New()
			if err := a.Store.CreateAPIToken(ctx, &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: fmt.Sprintf("agent %d", i+1),
				Prefix: display, Hash: hash}); err != nil {
				return nil, err
			}
			person.AgentTokens = append(person.AgentTokens, token)
		}
		people = append(people, person)
	}
	return people, nil
}

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Proc is a running `graphgate serve`.
type Proc struct {
	URL  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// Start runs `graphgate serve` on addr with env (GRAPHGATE_* variables) and
// waits until it answers /healthz.
func Start(bin, addr string, env map[string]string) (*Proc, error) {
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "GRAPHGATE_ADDR="+addr)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{URL: "http://" + addr, cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("graphgate exited: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(p.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
	}
	_ = p.Kill()
	return nil, fmt.Errorf("graphgate did not answer /healthz:\n%s", out.String())
}

// Kill ends the process with SIGKILL, as a crash or an OOM kill would.
func (p *Proc) Kill() error {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return nil
}

// Stop sends SIGTERM and waits for the process to drain and exit.
func (p *Proc) Stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.Kill()
		return fmt.Errorf("graphgate did not stop within 30 s of SIGTERM")
	}
}

// RSS is the process's resident memory in bytes, from /proc (Linux).
func (p *Proc) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// Output is what the process logged.
func (p *Proc) Output() string { return p.out.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)
