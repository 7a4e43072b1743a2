package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/storetest"
)

// mcpClient is an MCP client connecting with the URL alone, as Claude or VS
// Code do: discovery from a 401, registration, PKCE, the consent page (here
// through a signed-in browser-like client), the token endpoint.
type mcpClient struct {
	t                          *testing.T
	l                          *apptest.Linked
	authorize, token, register string
	revoke                     string
	clientID, redirect         string
	verifier                   string
}

func postJSON(t *testing.T, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return out
}

var resourceMetadataRE = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// discover finds the authorization server from /mcp's 401, as clients do.
func discover(t *testing.T, l *apptest.Linked) *mcpClient {
	t.Helper()
	resp, err := http.Post(l.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	challenge := resp.Header.Get("WWW-Authenticate")
	m := resourceMetadataRE.FindStringSubmatch(challenge)
	if resp.StatusCode != 401 || m == nil || !strings.Contains(challenge, `scope="mail.read`) {
		t.Fatalf("401 challenge: %d %q", resp.StatusCode, challenge)
	}
	prm := getJSON(t, m[1])
	servers, _ := prm["authorization_servers"].([]any)
	if prm["resource"] != l.URL+"/mcp" || len(servers) != 1 {
		t.Fatalf("protected resource metadata: %v", prm)
	}
	as := getJSON(t, servers[0].(string)+"/.well-known/oauth-authorization-server")
	if as["issuer"] != l.URL || as["client_id_metadata_document_supported"] != true || as["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("authorization server metadata: %v", as)
	}
	c := &mcpClient{t: t, l: l, authorize: as["authorization_endpoint"].(string), token: as["token_endpoint"].(string),
		revoke: as["revocation_endpoint"].(string)}
	c.register, _ = as["registration_endpoint"].(string)
	return c
}

// registerClient uses Dynamic Client Registration with a loopback redirect.
func (c *mcpClient) registerClient(name string) {
	c.t.Helper()
	status, out := postJSON(c.t, c.register, map[string]any{"client_name": name, "redirect_uris": []string{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}})
	if status != http.StatusCreated || out["client_id"] == "" {
		c.t.Fatalf("register: %d %v", status, out)
	}
	c.clientID = out["client_id"].(string)
	c.redirect = "http://127.0.0.1:53682/callback" // any port on loopback
}

// authURL is an authorization request; change edits its parameters.
func (c *mcpClient) authURL(scope string, change func(q url.Values)) string {
	c.verifier = oauth2.GenerateVerifier()
	q := url.Values{"response_type": {"code"}, "client_id": {c.clientID}, "redirect_uri": {c.redirect}, "state": {"st-123"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(c.verifier)}, "code_challenge_method": {"S256"},
		"resource": {c.l.URL + "/mcp"}, "scope": {scope}}
	if change != nil {
		change(q)
	}
	return c.authorize + "?" + q.Encode()
}

// consent opens the authorization URL in a signed-in browser and decides.
func consent(t *testing.T, browser *apptest.Client, authURL string, form url.Values) apptest.Response {
	t.Helper()
	page := browser.Get(strings.TrimPrefix(authURL, browserBase(browser)))
	if page.Status != http.StatusOK {
		t.Fatalf("consent page: %d %s", page.Status, page.Body)
	}
	u, _ := url.Parse(authURL)
	form.Set("request", u.RawQuery)
	return browser.Post("/oauth/authorize", form)
}

func browserBase(c *apptest.Client) string { return c.Base() }

// redeem exchanges the code in a redirect for tokens.
func (c *mcpClient) redeem(location string, change func(f url.Values)) (int, map[string]any) {
	c.t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		c.t.Fatal(err)
	}
	f := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {c.redirect},
		"client_id": {c.clientID}, "code_verifier": {c.verifier}, "resource": {c.l.URL + "/mcp"}}
	if change != nil {
		change(f)
	}
	return c.form(c.token, f)
}

func (c *mcpClient) form(endpoint string, f url.Values) (int, map[string]any) {
	c.t.Helper()
	resp, err := http.PostForm(endpoint, f)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (c *mcpClient) refresh(token string) (int, map[string]any) {
	return c.form(c.token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {c.clientID}})
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func sdkSession(t *testing.T, l *apptest.Linked, token string) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1"}, nil)
	return c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: l.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearerTransport{token}}}, nil)
}

func allowForm(toolsets ...string) url.Values {
	return url.Values{"decision": {"allow"}, "toolsets": toolsets, "expires": {"90"}}
}

func TestOAuthWithTheURLAlone(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	browser := l.NewClient()
	browser.SignIn("alex@contoso.test", apptest.UserPassword)
	c := discover(t, l)
	c.registerClient("Test Agent")

	// The consent page names the app and where the person goes back to.
	authURL := c.authURL("mail.read mail.write profile", nil)
	page := browser.Get(strings.TrimPrefix(authURL, l.URL))
	for _, want := range []string{"Test Agent", "unverified", `id="redirect-host">127.0.0.1<`, `value="mail" checked`, `value="profile" checked`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:53682") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("consent CSP: %s", csp)
	}
	res := consent(t, browser, authURL, allowForm("mail", "profile"))
	back, _ := url.Parse(res.Location)
	if res.Status != http.StatusSeeOther || back.Host != "127.0.0.1:53682" || back.Query().Get("state") != "st-123" || back.Query().Get("iss") != l.URL {
		t.Fatalf("after Allow: %d %s", res.Status, res.Location)
	}
	status, tok := c.redeem(res.Location, nil)
	if status != 200 || tok["token_type"] != "Bearer" || tok["scope"] != "mail.read mail.write profile" {
		t.Fatalf("token: %d %v", status, tok)
	}

	// Codes and tokens are stored only hashed.
	dump := storetest.DumpTables(t, l.App.Store.DB())
	code, _ := url.Parse(res.Location)
	for _, secret := range []string{tok["access_token"].(string), tok["refresh_token"].(string), code.Query().Get("code")} {
		if strings.Contains(dump, secret) {
			t.Fatal("an OAuth code or token is stored in clear")
		}
	}

	// The access token works at /mcp, for what was allowed.
	s, err := sdkSession(t, l, tok["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	tools, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tool := range tools.Tools {
		names[tool.Name] = true
	}
	if !names["send_message"] || !names["get_profile"] || names["list_files"] || names["list_events"] {
		t.Fatalf("tools for mail and profile: %v", names)
	}
	if r, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_profile"}); err != nil || r.IsError {
		t.Fatalf("get_profile: %v %v", err, r)
	}
	s.Close()

	// A tool outside the grant: 403 insufficient_scope with the scope to ask for.
	status, _, hdr := rawCall(t, l, tok["access_token"].(string), "list_files")
	if status != http.StatusForbidden || !strings.Contains(hdr, `error="insufficient_scope"`) || !strings.Contains(hdr, `scope="files.read"`) {
		t.Fatalf("a tool outside the grant: %d %s", status, hdr)
	}

	// The scope check reads the body as the SDK does: a 2025-03-26 batch
	// that calls a tool outside the grant is refused the same way; keys
	// that differ in case, which the SDK does not take as a call, are not
	// taken as one by the check either.
	for _, tc := range []struct {
		name, version, body string
		want                int
	}{
		{"a batch", "2025-03-26", `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_profile","arguments":{}}},` +
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_files","arguments":{}}}]`, http.StatusForbidden},
		{"METHOD in capitals", "2025-11-25", `{"jsonrpc":"2.0","id":1,"METHOD":"tools/call","params":{"name":"list_files","arguments":{}}}`, http.StatusAccepted},
		{"NAME in capitals", "2025-11-25", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"list_files","arguments":{}}}`, http.StatusOK},
	} {
		status, body, hdr := rawPost(t, l, tok["access_token"].(string), tc.version, tc.body)
		if status != tc.want || (status == http.StatusForbidden) != strings.Contains(hdr, "insufficient_scope") {
			t.Errorf("%s: %d %s %s, want %d", tc.name, status, hdr, body, tc.want)
		}
	}

	// The app shows on the person's Integrations page and the console.
	if page := browser.Get("/integrations"); !strings.Contains(page.Body, "Test Agent") || !strings.Contains(page.Body, "mail.read mail.write profile") {
		t.Fatal("the connected app is not on the Integrations page")
	}
	adminC := l.NewClient()
	adminC.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	if page := adminC.Get("/admin/servers"); !strings.Contains(page.Body, "Test Agent") || !strings.Contains(page.Body, "alex@contoso.test") {
		t.Fatal("the connected app is not in the console")
	}

	// Refresh tokens rotate. The old one presented again right after (a
	// client whose answer was lost) is answered once, and the successor it
	// never received is spent; that successor presented later is a reuse,
	// which revokes the grant.
	status, lost := c.refresh(tok["refresh_token"].(string))
	if status != 200 || lost["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh: %d %v", status, lost)
	}
	status, next := c.refresh(tok["refresh_token"].(string))
	if status != 200 || next["refresh_token"] == lost["refresh_token"] {
		t.Fatalf("the retry after a lost answer: %d %v", status, next)
	}
	if status, _, _ := rawCall(t, l, next["access_token"].(string), "get_profile"); status != 200 {
		t.Fatalf("the new access token: %d", status)
	}
	if status, out := c.refresh(tok["refresh_token"].(string)); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("an old refresh token a third time: %d %v", status, out)
	}
	if status, _, _ := rawCall(t, l, next["access_token"].(string), "get_profile"); status != http.StatusUnauthorized {
		t.Fatalf("after refresh token reuse, the access token still works: %d", status)
	}
	if status, _ := c.refresh(next["refresh_token"].(string)); status != 400 {
		t.Fatalf("after reuse, the newest refresh token still works: %d", status)
	}
	if page := browser.Get("/integrations"); strings.Contains(page.Body, "Test Agent") {
		t.Fatal("a revoked grant is still listed")
	}
	if page := adminC.Get("/admin/audit"); !strings.Contains(page.Body, "oauth.grant") || !strings.Contains(page.Body, "oauth.revoke") {
		t.Fatal("grant and revocation are not audited")
	}
}

// rawCall makes one tools/call and returns the status, body and challenge.
func rawCall(t *testing.T, l *apptest.Linked, token, tool string) (int, string, string) {
	t.Helper()
	return rawPost(t, l, token, "2025-11-25", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"`+tool+`","arguments":{}}}`)
}

// rawPost posts a JSON-RPC body to /mcp and returns the status, body and challenge.
func rawPost(t *testing.T, l *apptest.Linked, token, version, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, l.URL+"/mcp", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", version)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("WWW-Authenticate")
}

func TestOAuthRefusals(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	browser := l.NewClient()
	browser.SignIn("alex@contoso.test", apptest.UserPassword)
	c := discover(t, l)
	c.registerClient("Refusal Agent")

	errorOf := func(location string) string {
		u, _ := url.Parse(location)
		return u.Query().Get("error")
	}
	t.Run("errors redirected to the client", func(t *testing.T) {
		for _, tc := range []struct {
			name, want string
			change     func(q url.Values)
		}{
			{"no PKCE", "invalid_request", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
			{"plain PKCE", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
			{"no state", "invalid_request", func(q url.Values) { q.Del("state") }},
			{"wrong resource", "invalid_target", func(q url.Values) { q.Set("resource", "https://evil.example/mcp") }},
			{"no resource", "invalid_target", func(q url.Values) { q.Del("resource") }},
			{"unknown scope", "invalid_scope", func(q url.Values) { q.Set("scope", "mail.read admin") }},
			{"token response type", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		} {
			r := browser.Get(strings.TrimPrefix(c.authURL("profile", tc.change), l.URL))
			if r.Status != http.StatusFound || !strings.HasPrefix(r.Location, "http://127.0.0.1:53682/callback?") || errorOf(r.Location) != tc.want {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Location)
			}
		}
	})
	t.Run("errors shown on graphgate's page, never redirected", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			change func(q url.Values)
		}{
			{"unknown client", func(q url.Values) { q.Set("client_id", "ggc_nobody") }},
			{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
			{"another loopback path", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/other") }},
			{"client metadata on a private address", func(q url.Values) { q.Set("client_id", "https://10.0.0.1/client.json") }},
			{"client metadata over http", func(q url.Values) { q.Set("client_id", "http://example.com/client.json") }},
		} {
			r := browser.Get(strings.TrimPrefix(c.authURL("profile", tc.change), l.URL))
			if r.Status != http.StatusBadRequest || r.Location != "" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Location)
			}
		}
	})
	t.Run("denied consent", func(t *testing.T) {
		r := consent(t, browser, c.authURL("profile", nil), url.Values{"decision": {"deny"}})
		if errorOf(r.Location) != "access_denied" {
			t.Fatalf("deny: %s", r.Location)
		}
	})
	t.Run("wrong PKCE verifier, reused code, another client", func(t *testing.T) {
		r := consent(t, browser, c.authURL("profile", nil), allowForm("profile"))
		if status, out := c.redeem(r.Location, func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }); status != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("wrong verifier: %d %v", status, out)
		}
		// The code was spent by that attempt.
		if status, out := c.redeem(r.Location, nil); status != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("a used code: %d %v", status, out)
		}
		// A code redeemed twice: the second is refused, and the tokens
		// the first gave stop working (RFC 6749 4.1.2).
		r = consent(t, browser, c.authURL("profile", nil), allowForm("profile"))
		status, tok := c.redeem(r.Location, nil)
		if status != 200 {
			t.Fatalf("redeeming: %d %v", status, tok)
		}
		if status, out := c.redeem(r.Location, nil); status != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("a code redeemed twice: %d %v", status, out)
		}
		if status, _, _ := rawCall(t, l, tok["access_token"].(string), "get_profile"); status != http.StatusUnauthorized {
			t.Fatalf("the tokens of a code redeemed twice still work: %d", status)
		}
		if status, _ := c.refresh(tok["refresh_token"].(string)); status != 400 {
			t.Fatalf("the refresh token of a code redeemed twice still works: %d", status)
		}
		r = consent(t, browser, c.authURL("profile", nil), allowForm("profile"))
		if status, out := c.redeem(r.Location, func(f url.Values) { f.Set("client_id", "ggc_other") }); status != 400 || out["error"] != "invalid_grant" {
			t.Fatalf("another client: %d %v", status, out)
		}
		r = consent(t, browser, c.authURL("profile", nil), allowForm("profile"))
		if status, out := c.redeem(r.Location, func(f url.Values) { f.Set("resource", "https://evil.example/mcp") }); status != 400 || out["error"] != "invalid_target" {
			t.Fatalf("another resource: %d %v", status, out)
		}
	})
	t.Run("read-only grant calling a write tool", func(t *testing.T) {
		form := allowForm("mail")
		form.Set("readOnly", "on")
		r := consent(t, browser, c.authURL("mail.read mail.write", nil), form)
		status, tok := c.redeem(r.Location, nil)
		if status != 200 || tok["scope"] != "mail.read" {
			t.Fatalf("read-only: %d %v", status, tok)
		}
		status, _, hdr := rawCall(t, l, tok["access_token"].(string), "send_message")
		if status != http.StatusForbidden || !strings.Contains(hdr, `scope="mail.write"`) {
			t.Fatalf("send_message with mail.read: %d %s", status, hdr)
		}
	})
	t.Run("disconnected, revoked and another audience", func(t *testing.T) {
		r := consent(t, browser, c.authURL("profile", nil), allowForm("profile"))
		_, tok := c.redeem(r.Location, nil)
		access := tok["access_token"].(string)
		// An OAuth access token is for /mcp only, not the admin API.
		if r := browser.Do("GET", "/api/v1/admin/users", "", "Authorization", "Bearer "+access); r.Status != http.StatusUnauthorized {
			t.Fatalf("the admin API took an OAuth access token: %d", r.Status)
		}
		page := browser.Get("/integrations")
		id := regexp.MustCompile(`/integrations/apps/(\d+)/disconnect`).FindStringSubmatch(page.Body)
		if id == nil {
			t.Fatal("no Disconnect button")
		}
		browser.Post("/integrations/apps/"+id[1]+"/disconnect", nil)
		if status, _, _ := rawCall(t, l, access, "get_profile"); status != http.StatusUnauthorized {
			t.Fatalf("after Disconnect: %d", status)
		}
		if status, _ := c.refresh(tok["refresh_token"].(string)); status != 400 {
			t.Fatalf("refresh after Disconnect: %d", status)
		}
		// RFC 7009 revocation of a refresh token ends the grant.
		r = consent(t, browser, c.authURL("profile", nil), allowForm("profile"))
		_, tok = c.redeem(r.Location, nil)
		if status, _ := c.form(c.revoke, url.Values{"token": {tok["refresh_token"].(string)}, "client_id": {c.clientID}}); status != 200 {
			t.Fatalf("revoke: %d", status)
		}
		if status, _, _ := rawCall(t, l, tok["access_token"].(string), "get_profile"); status != http.StatusUnauthorized {
			t.Fatalf("after revocation: %d", status)
		}
	})
	t.Run("the person removed", func(t *testing.T) {
		pat := l.NewClient()
		adminC := l.NewClient()
		adminC.SignIn(apptest.AdminEmail, apptest.AdminPassword)
		addUser(t, adminC, "pat@contoso.test", "user")
		pat.SignIn("pat@contoso.test", "user-password-1")
		u, _ := l.App.Store.UserByEmail(context.Background(), "pat@contoso.test")
		// Consent needs a link: give pat one directly (the grant is what matters).
		alexLink, _ := l.App.Store.Link(context.Background(), mustUserID(t, l, "alex@contoso.test"))
		copyLink := *alexLink
		copyLink.UserID = u.ID
		if err := l.App.Store.PutLink(context.Background(), &copyLink); err != nil {
			t.Fatal(err)
		}
		r := consent(t, pat, c.authURL("profile", nil), allowForm("profile"))
		_, tok := c.redeem(r.Location, nil)
		adminC.Get("/admin/users")
		adminC.Post("/admin/users/"+itoa(u.ID)+"/remove", nil)
		if status, _, _ := rawCall(t, l, tok["access_token"].(string), "get_profile"); status != http.StatusUnauthorized {
			t.Fatalf("a removed person's app still works: %d", status)
		}
	})
	t.Run("unlinked person", func(t *testing.T) {
		jo := l.NewClient()
		jo.SignIn("jo@outlook.test", apptest.UserPassword)
		authURL := c.authURL("profile", nil)
		page := jo.Get(strings.TrimPrefix(authURL, l.URL))
		if !strings.Contains(page.Body, `id="consent-link-account"`) {
			t.Fatal("the consent page does not offer Link Account")
		}
		if r := consent(t, jo, authURL, allowForm("profile")); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Link your Microsoft account first") {
			t.Fatalf("allow while unlinked: %d", r.Status)
		}
	})
	t.Run("registration turned off in the console", func(t *testing.T) {
		off := apptest.Start(t, nil)
		adminC := off.NewClient()
		adminC.SignIn(apptest.AdminEmail, apptest.AdminPassword)
		adminC.Get("/admin/servers")
		if r := adminC.Post("/admin/oauth", url.Values{"clientHosts": {"https://claude.ai/"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "is not a host name") {
			t.Fatalf("a URL as a host: %d", r.Status)
		}
		if st, _ := off.App.Store.OAuthSettings(context.Background()); !st.Registration {
			t.Fatal("a refused form changed the settings")
		}
		adminC.Get("/admin/servers")
		if r := adminC.Post("/admin/oauth", url.Values{"clientHosts": {"claude.ai, vscode.dev"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d", r.Status)
		}
		if as := getJSON(t, off.URL+"/.well-known/oauth-authorization-server"); as["registration_endpoint"] != nil {
			t.Fatal("registration advertised while off")
		}
		if status, _ := postJSON(t, off.URL+"/oauth/register", map[string]any{"redirect_uris": []string{"https://x.example/cb"}}); status != http.StatusForbidden {
			t.Fatalf("registration while off: %d", status)
		}
		if page := adminC.Get("/admin/servers"); !strings.Contains(page.Body, `value="claude.ai, vscode.dev"`) || strings.Contains(page.Body, `id="registration" checked`) {
			t.Fatal("the console does not show the saved rules")
		}
		// The same through the admin API.
		token, _ := adminToken(t, off, apptest.AdminEmail, graphgate.TokenAdmin)
		if r := adminC.Do("PUT", "/api/v1/admin/oauth", `{"registration":true,"clientHosts":[]}`, "Authorization", "Bearer "+token); r.Status != http.StatusOK {
			t.Fatalf("API: %d %s", r.Status, r.Body)
		}
		if status, _ := postJSON(t, off.URL+"/oauth/register", map[string]any{"redirect_uris": []string{"https://x.example/cb"}}); status != http.StatusCreated {
			t.Fatalf("registration after turning it on: %d", status)
		}
	})
	t.Run("registration refuses dangerous redirects and bursts", func(t *testing.T) {
		for _, uri := range []string{"javascript:alert(1)", "http://evil.example/cb", "data:text/html,x", "https://x.example/cb#frag", "/relative"} {
			if status, _ := postJSON(t, c.register, map[string]any{"client_name": "x", "redirect_uris": []string{uri}}); status != http.StatusBadRequest {
				t.Errorf("registered %q: %d", uri, status)
			}
		}
		for _, name := range []string{"Claude\u202eedualC", "bell\x07", "nul\x00", "two\nlines"} {
			if status, out := postJSON(t, c.register, map[string]any{"client_name": name, "redirect_uris": []string{"http://127.0.0.1:9/cb"}}); status != http.StatusBadRequest ||
				out["error"] != "invalid_client_metadata" {
				t.Errorf("registered the name %q: %d %v", name, status, out)
			}
		}
		fresh := apptest.Start(t, nil)
		codes := map[int]int{}
		for range 15 {
			status, _ := postJSON(t, fresh.URL+"/oauth/register", map[string]any{"client_name": "burst", "redirect_uris": []string{"https://x.example/cb"}})
			codes[status]++
		}
		if codes[http.StatusCreated] != 10 || codes[http.StatusTooManyRequests] != 5 {
			t.Fatalf("15 registrations from one address: %v", codes)
		}
	})
}

func mustUserID(t *testing.T, l *apptest.Linked, email string) int64 {
	t.Helper()
	u, err := l.App.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// Client ID Metadata Documents: the client_id is the URL of a JSON document.
func TestOAuthClientMetadataDocument(t *testing.T) {
	var docURL string
	var fetches atomic.Int32
	doc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved.json":
			http.Redirect(w, r, "/oauth/client.json", http.StatusFound)
			return
		case "/huge.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"client_name":"` + strings.Repeat("x", 70<<10) + `"}`))
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=60")
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": docURL, "client_name": "Metadata Agent",
			"redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "none"})
	}))
	defer doc.Close()
	docURL = doc.URL + "/oauth/client.json"
	// The document is on loopback: allowed only with private clients on.
	l := apptest.StartWithSandbox(t, map[string]string{"GRAPHGATE_OAUTH_PRIVATE_CLIENTS": "on"}, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	browser := l.NewClient()
	browser.SignIn("alex@contoso.test", apptest.UserPassword)
	c := discover(t, l)
	c.clientID, c.redirect = docURL, "http://127.0.0.1:41234/callback"
	authURL := c.authURL("calendar.read", nil)
	if page := browser.Get(strings.TrimPrefix(authURL, l.URL)); !strings.Contains(page.Body, "Metadata Agent") {
		t.Fatalf("consent for a metadata client: %d", page.Status)
	}
	r := consent(t, browser, authURL, allowForm("calendar"))
	if status, tok := c.redeem(r.Location, nil); status != 200 || tok["scope"] != "calendar.read" {
		t.Fatalf("token: %d %v", status, tok)
	}
	// The document said max-age=60: it was fetched once for all of that.
	if n := fetches.Load(); n != 1 {
		t.Fatalf("the metadata document was fetched %d times", n)
	}
	for _, bad := range []string{doc.URL + "/moved.json", doc.URL + "/huge.json", doc.URL + "/missing.json"} {
		cb := *c
		cb.clientID = bad
		if page := browser.Get(strings.TrimPrefix(cb.authURL("calendar.read", nil), l.URL)); page.Status != http.StatusBadRequest {
			t.Errorf("client metadata at %s: %d", bad, page.Status)
		}
	}

	// An admin can accept client metadata from some hosts only (the console's setting).
	listed := apptest.StartWithSandbox(t, map[string]string{"GRAPHGATE_OAUTH_PRIVATE_CLIENTS": "on"}, sandbox.Options{})
	if _, err := listed.App.Web.Admin().SetOAuthSettings(context.Background(), nil, true, "claude.ai vscode.dev"); err != nil {
		t.Fatal(err)
	}
	listed.SignInAndLink(t, "alex@contoso.test")
	lb := listed.NewClient()
	lb.SignIn("alex@contoso.test", apptest.UserPassword)
	cl := discover(t, listed)
	cl.clientID, cl.redirect = docURL, "http://127.0.0.1:41234/callback"
	if page := lb.Get(strings.TrimPrefix(cl.authURL("calendar.read", nil), listed.URL)); page.Status != http.StatusBadRequest || !strings.Contains(page.Body, "not allowed here") {
		t.Fatalf("a host outside GRAPHGATE_OAUTH_CLIENT_HOSTS: %d", page.Status)
	}

	// Without private clients allowed, the same document is refused.
	strict := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	sb := strict.NewClient()
	strict.SignInAndLink(t, "alex@contoso.test")
	sb.SignIn("alex@contoso.test", apptest.UserPassword)
	cs := discover(t, strict)
	cs.clientID, cs.redirect = docURL, "http://127.0.0.1:41234/callback"
	if page := sb.Get(strings.TrimPrefix(cs.authURL("calendar.read", nil), strict.URL)); page.Status != http.StatusBadRequest || !strings.Contains(page.Body, "not known to graphgate") {
		t.Fatalf("metadata on a private address: %d", page.Status)
	}
}

// TestOAuthAskBeforeSending: "Ask me before sending or deleting" on the
// consent page reaches the grant, and the app's sends wait for the person.
func TestOAuthAskBeforeSending(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	browser := l.NewClient()
	browser.SignIn("alex@contoso.test", apptest.UserPassword)
	c := discover(t, l)
	c.registerClient("Careful Agent")
	authURL := c.authURL("mail.read mail.write", nil)
	if page := browser.Get(strings.TrimPrefix(authURL, l.URL)); !strings.Contains(page.Body, `id="consent-confirm"`) {
		t.Fatal("the consent page does not offer asking before sending")
	}
	form := allowForm("mail")
	form.Set("confirmWrites", "on")
	res := consent(t, browser, authURL, form)
	status, tok := c.redeem(res.Location, nil)
	if status != 200 {
		t.Fatalf("token: %d %v", status, tok)
	}
	grants, _ := l.App.Store.Grants(context.Background(), alex)
	if len(grants) != 1 || !grants[0].ConfirmWrites {
		t.Fatalf("grant: %+v", grants)
	}
	if page := browser.Get("/integrations").Body; !strings.Contains(page, "asks before sending or deleting") {
		t.Error("connected apps do not show the choice")
	}
	var asked []string
	client := mcp.NewClient(&mcp.Implementation{Name: "careful", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			asked = append(asked, r.Params.Message)
			return &mcp.ElicitResult{Action: "decline"}, nil
		}})
	s, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: l.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearerTransport{tok["access_token"].(string)}}}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "send_message", Arguments: map[string]any{
		"to": []string{"sam@fabrikam.test"}, "subject": "Wait for me", "body": "hi"}})
	if err != nil || !r.IsError || len(asked) != 1 || !strings.Contains(asked[0], "Subject: Wait for me") {
		t.Fatalf("send with a declining person: %v %+v asked %q", err, r, asked)
	}
}
