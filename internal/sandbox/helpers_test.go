package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"graphgate/internal/sandbox"
)

// clock is a settable time source for tests of expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// tenant is a sandbox served over real HTTP for one test.
type tenant struct {
	t     testing.TB
	sb    *sandbox.Sandbox
	srv   *httptest.Server
	URL   string
	clock *clock
}

const redirectURI = "http://localhost:8080/api/v1/microsoft365/auth/callback"

func startTenant(t testing.TB, opts sandbox.Options) *tenant {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &tenant{t: t, sb: sb, srv: srv, URL: srv.URL, clock: c}
}

// oauthConfig is how a client such as graphgate would configure x/oauth2.
func (tn *tenant) oauthConfig(authority string, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"openid", "email", "profile", "offline_access", "User.Read", "Mail.Read", "Mail.Send",
			"Mail.ReadWrite", "Calendars.Read", "Files.Read", "Files.ReadWrite"}
	}
	return &oauth2.Config{
		ClientID:     sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret,
		RedirectURL:  redirectURI,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   tn.URL + "/" + authority + "/oauth2/v2.0/authorize",
			TokenURL:  tn.URL + "/" + authority + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// browser is an HTTP client that stops at redirects, as a test needs to see them.
func browser() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// signIn walks the account picker and, when shown, the consent page the way
// a person would, answering consent with decision ("accept" or "cancel").
// It returns where the sandbox finally sent the browser.
func (tn *tenant) signIn(authURL, account, decision string) *url.URL {
	tn.t.Helper()
	c := browser()
	resp, err := c.Get(authURL)
	if err != nil {
		tn.t.Fatal(err)
	}
	page := readBody(tn.t, resp)
	if resp.StatusCode == http.StatusFound {
		return location(tn.t, resp)
	}
	m := requestField.FindStringSubmatch(page)
	if m == nil {
		tn.t.Fatalf("no account picker at %s (status %d):\n%s", authURL, resp.StatusCode, page)
	}
	u, _ := url.Parse(authURL)
	tenantSeg := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")[0]
	resp, err = c.PostForm(tn.URL+"/"+tenantSeg+"/login/account", url.Values{"request": {m[1]}, "account": {account}})
	if err != nil {
		tn.t.Fatal(err)
	}
	page = readBody(tn.t, resp)
	if resp.StatusCode == http.StatusFound {
		return location(tn.t, resp)
	}
	if !strings.Contains(page, "Permissions requested") {
		tn.t.Fatalf("expected the consent page, got %d:\n%s", resp.StatusCode, page)
	}
	resp, err = c.PostForm(tn.URL+"/"+tenantSeg+"/login/consent", url.Values{"request": {m[1]}, "decision": {decision}})
	if err != nil {
		tn.t.Fatal(err)
	}
	readBody(tn.t, resp)
	if resp.StatusCode != http.StatusFound {
		tn.t.Fatalf("consent answer: status %d, want a redirect", resp.StatusCode)
	}
	return location(tn.t, resp)
}

func location(t testing.TB, resp *http.Response) *url.URL {
	t.Helper()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// link runs the whole authorization code flow with PKCE for one person and
// returns the tokens, as graphgate's Link Account will.
func (tn *tenant) link(account string, scopes ...string) *oauth2.Token {
	tn.t.Helper()
	cfg := tn.oauthConfig("common", scopes...)
	verifier := oauth2.GenerateVerifier()
	back := tn.signIn(cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-1"), oauth2.SetAuthURLParam("login_hint", account)), account, "accept")
	code := back.Query().Get("code")
	if code == "" {
		tn.t.Fatalf("no code in %s", back)
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		tn.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// graph calls Graph with a bearer token and decodes a JSON answer into out
// (when out is not nil). It returns the response with its body consumed.
func (tn *tenant) graph(token, method, path string, body any, out any, headers ...string) *http.Response {
	tn.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tn.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = tn.URL + "/v1.0" + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		tn.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := browser().Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	raw := readBody(tn.t, resp)
	if out != nil && raw != "" {
		if err := json.Unmarshal([]byte(raw), out); err != nil {
			tn.t.Fatalf("%s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	resp.Body = io.NopCloser(strings.NewReader(raw))
	return resp
}

// graphError is Graph's error body.
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

func (tn *tenant) expectGraphError(token, method, path string, body any, status int, code string) graphError {
	tn.t.Helper()
	var ge graphError
	resp := tn.graph(token, method, path, body, &ge)
	if resp.StatusCode != status || ge.Error.Code != code {
		tn.t.Fatalf("%s %s: got %d %q, want %d %q", method, path, resp.StatusCode, ge.Error.Code, status, code)
	}
	return ge
}

// tokenError is the identity platform's error body.
type tokenError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
	SubError      string `json:"suberror"`
}

// postToken posts a raw token request and decodes whatever comes back.
func (tn *tenant) postToken(authority string, form url.Values, basic ...string) (int, tokenError, map[string]any) {
	tn.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tn.URL+"/"+authority+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	raw := readBody(tn.t, resp)
	var te tokenError
	var ok map[string]any
	_ = json.Unmarshal([]byte(raw), &te)
	_ = json.Unmarshal([]byte(raw), &ok)
	return resp.StatusCode, te, ok
}

// control calls the /sandbox/ control API.
func (tn *tenant) control(method, path string, body any) (int, map[string]any) {
	tn.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, tn.URL+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	raw := readBody(tn.t, resp)
	var out map[string]any
	_ = json.Unmarshal([]byte(raw), &out)
	return resp.StatusCode, out
}

func jsonUnmarshal(raw string, v any) error { return json.Unmarshal([]byte(raw), v) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
