package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"graphgate"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// background runs a long-lived command and waits until its output matches
// re; it returns the first submatch and a stop function that cancels the
// command and returns its error.
func background(t *testing.T, re string, args ...string) (match string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- realMain(ctx, args, out, out) }()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(20 * time.Second); match == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := rx.FindStringSubmatch(out.String()); m != nil {
			match = m[1]
		}
	}
	if match == "" {
		cancel()
		t.Fatalf("%s did not start:\n%s", args[0], out.String())
	}
	return match, out, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not stop", args[0])
			return nil
		}
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := realMain(context.Background(), []string{name, "--help"}, &out, &errOut)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err = %v", err)
			}
			if !strings.HasPrefix(out.String(), "Usage: graphgate "+name) || errOut.Len() != 0 {
				t.Fatalf("help output:\n%s\nerrors:\n%s", out.String(), errOut.String())
			}
			// A Flags: heading only above flags.
			if strings.HasSuffix(strings.TrimSpace(out.String()), "Flags:") {
				t.Fatalf("an empty Flags: section:\n%s", out.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "sandbox") {
		t.Fatalf("top-level help: %v\n%s", err, out.String())
	}
	// Bare graphgate is a mistake: usage on standard error, exit status 2.
	out.Reset()
	err := realMain(context.Background(), nil, &out, &errOut)
	var u usageError
	if !errors.As(err, &u) || out.Len() != 0 || !strings.Contains(errOut.String(), "sandbox") {
		t.Fatalf("bare graphgate: %v, stdout %q", err, out.String())
	}
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := realMain(context.Background(), []string{"frobnicate"}, &out, &out); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("unknown command: %v", err)
	}
	for _, args := range [][]string{
		{"sandbox", "--secret-expires", "next tuesday"},
		{"sandbox", "--access-token-ttl", "-1m"},
		{"sandbox", "--no-such-flag"},
		{"sandbox", "stray"},
		{"version", "extra"},
		{"config", "--addr", ":1", "leftover"},
		{"healthcheck", "--data-dir", "/tmp"},
		{"tokens", "create", "--user", "a@b.test", "--name", "n", "--admin", "--read-only"},
		{"tokens", "create", "--user", "a@b.test", "--name", "n", "--admin", "--toolsets", "mail"},
		{"tokens", "create", "--user", "a@b.test", "--name", "n", "--admin", "--confirm-writes"},
	} {
		out.Reset()
		err := realMain(context.Background(), args, &out, &out)
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		// Said once: the flag package prints nothing of its own, and no
		// prefix is doubled.
		if out.Len() != 0 || strings.Contains(err.Error(), "graphgate:") {
			t.Errorf("%v: %v, and printed %q", args, err, out.String())
		}
	}
}

func TestErrorsAreSaidOnce(t *testing.T) {
	err := graphgate.Errorf(graphgate.EINVALID, "GRAPHGATE_ADMIN_EMAIL/GRAPHGATE_ADMIN_PASSWORD: Use at least 12 characters.")
	if got := said(err); strings.HasPrefix(got, "graphgate") || !strings.HasPrefix(got, "GRAPHGATE_ADMIN_EMAIL") {
		t.Fatalf("said %q", got)
	}
	wrapped := fmt.Errorf("opening the store: %w", err)
	if got := said(wrapped); !strings.HasPrefix(got, "opening the store") {
		t.Fatalf("said %q", got)
	}
}

// healthcheck --url takes graphgate's URL, with or without /healthz.
func TestHealthcheckURL(t *testing.T) {
	srv := http.NewServeMux()
	srv.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for _, u := range []string{ts.URL, ts.URL + "/", ts.URL + "/healthz"} {
		var out bytes.Buffer
		if err := realMain(context.Background(), []string{"healthcheck", "--url", u}, &out, &out); err != nil {
			t.Errorf("--url %s: %v", u, err)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := realMain(context.Background(), []string{"version"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "graphgate ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

func TestSandboxCommandServesAndShutsDown(t *testing.T) {
	base, out, stop := background(t, `sandbox tenant at (http://\S+)`, "sandbox", "--addr", "127.0.0.1:0",
		"--client-id", "0e6f3a52-7d1c-4b8a-9f2e-3c4d5e6f7a8b",
		"--redirect-uri", "https://gg.example.com/api/v1/microsoft365/auth/callback", "--single-tenant")
	for _, want := range []string{"0e6f3a52-7d1c-4b8a-9f2e-3c4d5e6f7a8b", "https://gg.example.com/api/v1/microsoft365/auth/callback",
		"single-tenant", "alex@contoso.test", "jo@outlook.test", "sam@fabrikam.test", "admin@contoso.test"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	resp, err := http.Get(base + "/sandbox/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("control API: %v", err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
