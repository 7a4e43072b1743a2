package graphapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/sandboxtest"
)

// tenant is a sandbox and an access token for alex, got through the real
// code flow.
type tenant struct {
	sb    *sandbox.Sandbox
	url   string
	token string
}

func startTenant(t *testing.T) *tenant {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	// The control API's trouble needs no browser; get a token the quick way.
	return &tenant{sb: sb, url: srv.URL, token: issueToken(t, srv.URL)}
}

func issueToken(t *testing.T, base string) string {
	t.Helper()
	cfg := &oauth2.Config{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		RedirectURL: sandbox.DefaultRedirectURI, Scopes: []string{"offline_access", "User.Read", "Mail.ReadWrite", "Mail.Send", "Files.ReadWrite"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/common/oauth2/v2.0/authorize", TokenURL: base + "/common/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
	code, err := sandboxtest.Code(cfg.AuthCodeURL("s"), "alex@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return nil
}

func (tn *tenant) client(t *testing.T) (*Client, *sleeper) {
	c, err := New(tn.url, nil, func(context.Context, bool) (string, error) { return tn.token, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeper{}
	c.sleep = s.sleep
	return c, s
}

func fault(t *testing.T, sb *sandbox.Sandbox, f sandbox.Fault) {
	t.Helper()
	if _, err := sb.AddFault(f); err != nil {
		t.Fatal(err)
	}
}

type page struct {
	Value []struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
	} `json:"value"`
	Next string `json:"@odata.nextLink"`
}

func TestPagingAndLinks(t *testing.T) {
	tn := startTenant(t)
	c, _ := tn.client(t)
	ctx := context.Background()
	seen := 0
	next := "me/mailFolders/inbox/messages"
	q := url.Values{"$top": {"50"}, "$select": {"subject"}}
	for next != "" {
		var p page
		if _, err := c.Do(ctx, Request{Method: "GET", Path: next, Query: q, Safe: true}, &p); err != nil {
			t.Fatal(err)
		}
		seen += len(p.Value)
		next, q = p.Next, nil
	}
	if seen < 200 {
		t.Fatalf("paged %d messages", seen)
	}
	// A link elsewhere never gets the token.
	for _, bad := range []string{"https://evil.example.com/v1.0/me", strings.Replace(tn.url, "127.0.0.1", "localhost", 1) + "/v1.0/me",
		tn.url + "/sandbox/requests", "../../sandbox/requests", tn.url + "@evil.example.com/v1.0/me"} {
		if _, err := c.Do(ctx, Request{Method: "GET", Path: bad, Safe: true}, nil); err == nil {
			t.Errorf("followed %s", bad)
		}
	}
	// Errors are typed.
	_, err := c.Do(ctx, Request{Method: "GET", Path: "me/messages/AAMkADnothere", Safe: true}, nil)
	var ge *Error
	if !errors.As(err, &ge) || ge.Code != "ErrorItemNotFound" || ge.RequestID == "" || !IsNotFound(err) {
		t.Fatalf("not found: %#v", err)
	}
}

func TestThrottlingAndRetries(t *testing.T) {
	tn := startTenant(t)
	c, sl := tn.client(t)
	ctx := context.Background()
	fault(t, tn.sb, sandbox.Fault{Path: "^/v1.0/me$", Status: 429, RetryAfter: "2.128", Times: 2})
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "me", Safe: true}, nil); err != nil {
		t.Fatalf("throttled read: %v", err)
	}
	if len(sl.waits) != 2 || sl.waits[0] != 2128*time.Millisecond {
		t.Fatalf("waits %v, want two of 2.128s", sl.waits)
	}
	// The budget bounds it: a Retry-After beyond it gives up with the error.
	fault(t, tn.sb, sandbox.Fault{Path: "^/v1.0/me$", Status: 429, RetryAfter: "120", Times: 1})
	_, err := c.Do(ctx, Request{Method: "GET", Path: "me", Safe: true}, nil)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 429 {
		t.Fatalf("over budget: %v", err)
	}
	tn.sb.ClearFaults()
	// 503 on a read: retried.
	fault(t, tn.sb, sandbox.Fault{Path: "^/v1.0/me$", Status: 503, Times: 2})
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "me", Safe: true}, nil); err != nil {
		t.Fatalf("503 read: %v", err)
	}
	// 503 on a send: not retried.
	fault(t, tn.sb, sandbox.Fault{Path: "^/v1.0/me/sendMail$", Status: 503, Times: 1})
	mail := map[string]any{"message": map[string]any{"subject": "once", "toRecipients": []any{map[string]any{"emailAddress": map[string]string{"address": "sam@fabrikam.test"}}}}}
	if _, err := c.Do(ctx, Request{Method: "POST", Path: "me/sendMail", Body: mail}, nil); err == nil {
		t.Fatal("a 503 send was retried into success")
	}
	// A connection dropped after the send: ambiguous, never repeated.
	tn.sb.ResetRequests()
	fault(t, tn.sb, sandbox.Fault{Path: "^/v1.0/me/sendMail$", Drop: "after", Times: 1})
	if _, err := c.Do(ctx, Request{Method: "POST", Path: "me/sendMail", Body: mail}, nil); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("dropped send: %v", err)
	}
	if n := tn.sb.Requests()["POST /v1.0/me/sendMail"]; n != 1 {
		t.Fatalf("sendMail reached Graph %d times", n)
	}
	// Throttling is safe to retry even for a send: Graph did not act.
	fault(t, tn.sb, sandbox.Fault{Path: "^/v1.0/me/sendMail$", Status: 429, RetryAfter: "0.5", Times: 1})
	if _, err := c.Do(ctx, Request{Method: "POST", Path: "me/sendMail", Body: mail}, nil); err != nil {
		t.Fatalf("throttled send: %v", err)
	}
}

func TestRefreshOnceOn401(t *testing.T) {
	tn := startTenant(t)
	calls := []bool{}
	c, err := New(tn.url, nil, func(_ context.Context, refresh bool) (string, error) {
		calls = append(calls, refresh)
		if refresh {
			return tn.token, nil
		}
		return "stale-token", nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "me", Safe: true}, nil); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0] || !calls[1] {
		t.Fatalf("token calls %v, want one plain then one refresh", calls)
	}
	// A token that stays bad: one refresh, then the 401 comes back.
	bad, _ := New(tn.url, nil, func(context.Context, bool) (string, error) { return "bad", nil }, nil)
	_, err = bad.Do(context.Background(), Request{Method: "GET", Path: "me", Safe: true}, nil)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 401 {
		t.Fatalf("bad token: %v", err)
	}
}

func TestPathsStayInsideTheirResource(t *testing.T) {
	c, err := New("https://graph.example", nil, func(context.Context, bool) (string, error) { return "t", nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       string // "" when refused
	}{
		{"plain", "me/messages/AAMk=", "https://graph.example/v1.0/me/messages/AAMk="},
		{"query kept", "me/messages?$skip=10", "https://graph.example/v1.0/me/messages?$skip=10"},
		{"escaped segment kept", "me/drive/root:/a%20b.txt:", "https://graph.example/v1.0/me/drive/root:/a%20b.txt:"},
		{"dot dot at the end", "me/messages/..", ""},
		{"dot at the end", "me/messages/.", ""},
		{"encoded dot dot", "me/messages/%2e%2E", ""},
		{"dot dot in the middle", "me/messages/../events", ""},
		{"leading dot dot", "../v2.0/me", ""},
		{"absolute link with dot dot", "https://graph.example/v1.0/me/messages/../events", ""},
		{"another host", "https://evil.example/v1.0/me", ""},
		{"scheme-relative stays on Graph", "//evil.example/v1.0/me", "https://graph.example/v1.0//evil.example/v1.0/me"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := c.resolve(tc.path, nil)
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("resolved to %s", u)
			case tc.want != "" && (err != nil || u.String() != tc.want):
				t.Fatalf("got %v, %v; want %s", u, err, tc.want)
			}
		})
	}
}
