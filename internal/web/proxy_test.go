package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"graphgate/internal/apptest"
)

// from is a client whose requests say, in X-Forwarded-For, that they come
// from addr.
func from(srv *apptest.Server, addr string) *apptest.Client {
	c := srv.NewClient()
	c.Header = http.Header{"X-Forwarded-For": {addr}}
	return c
}

func register(t *testing.T, c *apptest.Client, redirect string) int {
	t.Helper()
	return c.Do("POST", "/oauth/register", fmt.Sprintf(`{"client_name":"agent","redirect_uris":[%q]}`, redirect)).Status
}

// Behind a trusted proxy, limits count each client: one address's wrong
// passwords and registrations do not lock out another's. And a sign-in that
// succeeds clears only its own email's failures: an address that sprays
// passwords across many emails is not let off by signing in to an account
// of its own.
func TestLimitsCountTheClientBehindATrustedProxy(t *testing.T) {
	srv := apptest.Start(t, map[string]string{"GRAPHGATE_TRUSTED_PROXIES": "127.0.0.1/32, ::1"})
	attacker, other := from(srv, "198.51.100.1"), from(srv, "198.51.100.2")
	signIn := func(c *apptest.Client, email, password string) int {
		c.Get("/login")
		return c.Post("/login", url.Values{"email": {email}, "password": {password}}).Status
	}

	// 49 wrong passwords, each for another email (under each email's
	// limit), four at a time as a spray would come (graphgate checks four
	// at once; more would only wait their turn).
	var wg sync.WaitGroup
	var unexpected atomic.Int32
	turns := make(chan struct{}, 4)
	for i := range 49 {
		wg.Go(func() {
			turns <- struct{}{}
			defer func() { <-turns }()
			c := from(srv, "198.51.100.1")
			if signIn(c, fmt.Sprintf("person%d@contoso.test", i), "guess") != http.StatusUnauthorized {
				unexpected.Add(1)
			}
		})
	}
	wg.Wait()
	if unexpected.Load() != 0 {
		t.Fatalf("%d of 49 wrong passwords were not simply refused", unexpected.Load())
	}
	if status := signIn(attacker, apptest.AdminEmail, apptest.AdminPassword); status != http.StatusSeeOther {
		t.Fatalf("the attacker's own good sign-in: %d", status)
	}
	// The good sign-in did not reset the address: one failure is left.
	if status := signIn(from(srv, "198.51.100.1"), "person99@contoso.test", "guess"); status != http.StatusUnauthorized {
		t.Fatalf("the 50th failure: %d", status)
	}
	if status := signIn(from(srv, "198.51.100.1"), "person100@contoso.test", "guess"); status != http.StatusTooManyRequests {
		t.Fatalf("the 51st failure from one address: %d, want 429", status)
	}
	// Another client behind the same proxy is not affected.
	if status := signIn(other, apptest.AdminEmail, apptest.AdminPassword); status != http.StatusSeeOther {
		t.Fatalf("another client's sign-in: %d", status)
	}

	// Registrations: ten an hour per client, counted behind the proxy.
	for i := range 10 {
		if status := register(t, attacker, "http://127.0.0.1:9999/cb"); status != http.StatusCreated {
			t.Fatalf("registration %d: %d", i, status)
		}
	}
	if status := register(t, attacker, "http://127.0.0.1:9999/cb"); status != http.StatusTooManyRequests {
		t.Fatalf("the 11th registration: %d", status)
	}
	if status := register(t, other, "http://127.0.0.1:9999/cb"); status != http.StatusCreated {
		t.Fatalf("another client's registration: %d", status)
	}
}

// From a connection that is not a trusted proxy, X-Forwarded-For is never
// read: a new forged address per request escapes no limit.
func TestForgedForwardedForIsIgnored(t *testing.T) {
	srv := apptest.Start(t, nil)
	created := 0
	for i := range 12 {
		if register(t, from(srv, fmt.Sprintf("203.0.113.%d", i+1)), "http://127.0.0.1:9999/cb") == http.StatusCreated {
			created++
		}
	}
	if created != 10 {
		t.Fatalf("%d registrations with forged addresses, want 10", created)
	}
}

// Refused registrations count for nothing, so nobody closes registration by
// sending bad ones; parallel good ones meet the limit exactly.
func TestOnlyRegistrationsThatSucceedCount(t *testing.T) {
	srv := apptest.Start(t, nil)
	c := srv.NewClient()
	for range 20 {
		if status := register(t, c, "javascript:alert(1)"); status != http.StatusBadRequest {
			t.Fatalf("a bad registration: %d", status)
		}
	}
	var wg sync.WaitGroup
	var created, refused atomic.Int32
	for range 30 {
		wg.Go(func() {
			switch register(t, srv.NewClient(), "http://127.0.0.1:9999/cb") {
			case http.StatusCreated:
				created.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if created.Load() != 10 || refused.Load() != 20 {
		t.Fatalf("30 parallel registrations after 20 bad ones: %d created, %d refused; want 10 and 20", created.Load(), refused.Load())
	}
}

// /oauth/token is limited per address: a flood of refreshes (with junk
// tokens, in parallel) meets 429 with Retry-After long before it ends.
func TestTokenEndpointIsLimited(t *testing.T) {
	srv := apptest.Start(t, nil)
	var wg sync.WaitGroup
	var limited, refused atomic.Int32
	for range 80 {
		wg.Go(func() {
			r := srv.NewClient()
			resp, err := r.HTTP.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"ggc_x"},
				"refresh_token": {"ggr_junk"}})
			if err != nil {
				return
			}
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
				limited.Add(1)
			case resp.StatusCode == http.StatusBadRequest:
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if limited.Load() == 0 || refused.Load() > 40 || limited.Load()+refused.Load() != 80 {
		t.Fatalf("80 token requests from one address: %d limited, %d answered", limited.Load(), refused.Load())
	}
}
