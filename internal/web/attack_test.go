package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"graphgate/internal/apptest"
)

func TestSignInRedirectStaysOnSite(t *testing.T) {
	srv := apptest.Start(t, nil)
	admin := srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	addUser(t, admin, "pat@contoso.test", "user")
	for _, tc := range []struct {
		name, next, want string
	}{
		{"a page", "/integrations?tab=tokens", "/integrations?tab=tokens"},
		{"tab after the slash", "/\t/evil.example", "/connect"},
		{"newline after the slash", "/\n/evil.example", "/connect"},
		{"carriage return", "/\r/evil.example", "/connect"},
		{"scheme-relative", "//evil.example", "/connect"},
		{"backslash", `/\evil.example`, "/connect"},
		{"backslash later", `/a\..\\evil.example`, "/connect"},
		{"absolute", "https://evil.example/", "/connect"},
		{"userinfo", "https://ok@evil.example", "/connect"},
		{"javascript", "javascript:alert(1)", "/connect"},
		{"space", "/ /evil.example", "/connect"},
		{"encoded slash pair kept on site", "/%2F/evil.example", "/connect"},
		{"null", "/\x00/evil.example", "/connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.NewClient()
			c.Get("/login?next=" + url.QueryEscape(tc.next))
			r := c.Post("/login", url.Values{"email": {"pat@contoso.test"}, "password": {"user-password-1"}, "next": {tc.next}})
			if got := r.Header.Get("Location"); r.Status != http.StatusSeeOther || got != tc.want {
				t.Fatalf("next %q redirected to %q, want %q", tc.next, got, tc.want)
			}
		})
	}
}

// A burst of parallel wrong passwords for one account meets the limit: only
// five are checked, the rest are refused before any hashing.
func TestSignInLimitHoldsUnderParallelAttempts(t *testing.T) {
	srv := apptest.Start(t, nil)
	var wg sync.WaitGroup
	var checked, refused atomic.Int32
	for range 40 {
		wg.Go(func() {
			c := srv.NewClient()
			c.Get("/login")
			switch r := c.Post("/login", url.Values{"email": {apptest.AdminEmail}, "password": {"guess"}}); r.Status {
			case http.StatusUnauthorized:
				checked.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			default:
				t.Errorf("status %d", r.Status)
			}
		})
	}
	wg.Wait()
	if checked.Load() != 5 || refused.Load() != 35 {
		t.Fatalf("checked %d, refused %d; want 5 and 35", checked.Load(), refused.Load())
	}
	c := srv.NewClient()
	c.Get("/login")
	if r := c.Post("/login", url.Values{"email": {apptest.AdminEmail}, "password": {apptest.AdminPassword}}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("the right password after the burst: %d", r.Status)
	}
}

// Sign-ins for many different emails are each within their limit, but only a
// few argon2id checks (about 19 MiB each) run at once.
func TestPasswordChecksAreBounded(t *testing.T) {
	srv := apptest.Start(t, nil)
	gauge := func() float64 {
		var m dto.Metric
		_ = srv.App.Metrics.PasswordChecks.Write(&m)
		return m.GetGauge().GetValue()
	}
	stop := make(chan struct{})
	var peak atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				if v := int64(gauge()); v > peak.Load() {
					peak.Store(v)
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			c := srv.NewClient()
			c.Get("/login")
			if r := c.Post("/login", url.Values{"email": {"person" + strings.Repeat("x", i) + "@contoso.test"}, "password": {"guess"}}); r.Status != http.StatusUnauthorized {
				t.Errorf("status %d", r.Status)
			}
		})
	}
	wg.Wait()
	close(stop)
	if p := peak.Load(); p < 1 || p > 4 {
		t.Fatalf("at most %d password checks ran at once; want 1 to 4", p)
	}
}

// Resetting your own password ends your sessions on every other browser and
// keeps the one you used.
func TestOwnPasswordResetEndsOtherSessions(t *testing.T) {
	srv := apptest.Start(t, nil)
	here := srv.NewClient()
	here.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	elsewhere := srv.NewClient()
	elsewhere.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	me, _ := srv.App.Store.UserByEmail(context.Background(), apptest.AdminEmail)

	here.Get("/admin/users")
	if r := here.Post("/admin/users/"+itoa(me.ID)+"/password", url.Values{"password": {"a-brand-new-one"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.Status)
	}
	if r := elsewhere.Get("/admin/users"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("the other browser is still signed in: %d", r.Status)
	}
	if r := here.Get("/admin/users"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Password reset") {
		t.Fatalf("the browser that reset it was signed out: %d", r.Status)
	}
	srv.NewClient().SignIn(apptest.AdminEmail, "a-brand-new-one")
}
