package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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

func TestHelpOnEveryCommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := realMain(context.Background(), []string{name, "--help"}, &out, &errOut)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err = %v", err)
			}
			if !strings.HasPrefix(out.String(), "Usage: graphgate "+name) {
				t.Fatalf("help output:\n%s", out.String())
			}
		})
	}
	var out bytes.Buffer
	if err := realMain(context.Background(), nil, &out, &out); err != nil || !strings.Contains(out.String(), "sandbox") {
		t.Fatalf("top-level usage: %v\n%s", err, out.String())
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
	} {
		if err := realMain(context.Background(), args, &out, &out); err == nil {
			t.Errorf("%v: no error", args)
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
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--client-id", "0e6f3a52-7d1c-4b8a-9f2e-3c4d5e6f7a8b",
			"--redirect-uri", "https://gg.example.com/api/v1/microsoft365/auth/callback", "--single-tenant"}, &out, &out)
	}()
	urlRE := regexp.MustCompile(`sandbox tenant at (http://\S+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no banner:\n%s", out.String())
	}
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the sandbox did not stop")
	}
}
