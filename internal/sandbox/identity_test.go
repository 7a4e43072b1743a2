package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
)

func TestCodeFlowWithOAuth2Client(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test")
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token = %+v", tok)
	}
	scope, _ := tok.Extra("scope").(string)
	if !strings.Contains(scope, "https://graph.microsoft.com/Mail.Read") || strings.Contains(scope, "offline_access") {
		t.Errorf("scope = %q: want Graph scopes qualified and offline_access not echoed", scope)
	}
	if ttl := time.Until(tok.Expiry); ttl < 59*time.Minute || ttl > 91*time.Minute {
		t.Errorf("access token lifetime %v, want 60-90 minutes", ttl)
	}

	// The access token works at Graph for the person who signed in.
	var me struct {
		ID, UserPrincipalName string
	}
	if resp := tn.graph(tok.AccessToken, "GET", "/me", nil, &me); resp.StatusCode != 200 {
		t.Fatalf("/me: %d", resp.StatusCode)
	}
	if me.UserPrincipalName != "alex@contoso.test" {
		t.Errorf("/me = %+v", me)
	}

	// The refresh token works through x/oauth2's TokenSource too, and rotates.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := tn.oauthConfig("common").TokenSource(context.Background(), &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Error("refresh did not rotate the tokens")
	}
}

// verifyIDToken checks an id_token the way graphgate does: signature against
// the JWKS, audience and expiry with go-oidc, then the tenant-aware issuer.
func verifyIDToken(t *testing.T, tn *tenant, raw, nonce string) map[string]any {
	t.Helper()
	ctx := context.Background()
	var disco struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	resp, err := http.Get(tn.URL + "/common/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&disco); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if disco.Issuer != tn.URL+"/{tenantid}/v2.0" {
		t.Fatalf("common issuer = %q, want the {tenantid} template", disco.Issuer)
	}
	keys := oidc.NewRemoteKeySet(ctx, disco.JWKSURI)
	v := oidc.NewVerifier(disco.Issuer, keys, &oidc.Config{ClientID: sandbox.DefaultClientID, SkipIssuerCheck: true})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if want := tn.URL + "/" + claims["tid"].(string) + "/v2.0"; idt.Issuer != want {
		t.Errorf("iss = %q, want %q", idt.Issuer, want)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	return claims
}

func TestIDTokenVerifiesWithOIDCLibrary(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	for _, tc := range []struct {
		name, account, tid string
	}{
		{"work account", "alex@contoso.test", directory.Contoso.ID},
		{"other work tenant", "sam@fabrikam.test", directory.Fabrikam.ID},
		{"personal account", "jo@outlook.test", directory.ConsumerTenantID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tn.link(tc.account)
			raw, _ := tok.Extra("id_token").(string)
			if raw == "" {
				t.Fatal("no id_token")
			}
			claims := verifyIDToken(t, tn, raw, "nonce-1")
			p, _ := tn.sb.Directory.Person(tc.account)
			for k, want := range map[string]string{"tid": tc.tid, "oid": p.ObjectID, "preferred_username": tc.account,
				"name": p.DisplayName, "email": tc.account, "ver": "2.0", "aud": sandbox.DefaultClientID} {
				if claims[k] != want {
					t.Errorf("%s = %v, want %v", k, claims[k], want)
				}
			}
			if sub, _ := claims["sub"].(string); sub == "" || sub == p.ObjectID {
				t.Errorf("sub = %q: want a pairwise subject distinct from oid", sub)
			}
		})
	}
}

func TestTamperedIDTokenIsRejected(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	raw := tn.link("alex@contoso.test").Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	parts[1] = changeChar(parts[1])
	keys := oidc.NewRemoteKeySet(context.Background(), tn.URL+"/common/discovery/v2.0/keys")
	v := oidc.NewVerifier("", keys, &oidc.Config{ClientID: sandbox.DefaultClientID, SkipIssuerCheck: true})
	if _, err := v.Verify(context.Background(), strings.Join(parts, ".")); err == nil {
		t.Fatal("a tampered id_token verified")
	}
}

func TestDiscoveryAndKeys(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	for _, tc := range []struct{ authority, issuer string }{
		{"common", tn.URL + "/{tenantid}/v2.0"},
		{"organizations", tn.URL + "/{tenantid}/v2.0"},
		{"consumers", tn.URL + "/" + directory.ConsumerTenantID + "/v2.0"},
		{directory.Contoso.ID, tn.URL + "/" + directory.Contoso.ID + "/v2.0"},
		{"contoso.test", tn.URL + "/" + directory.Contoso.ID + "/v2.0"},
	} {
		var d map[string]any
		resp, err := http.Get(tn.URL + "/" + tc.authority + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if d["issuer"] != tc.issuer {
			t.Errorf("%s: issuer %v, want %v", tc.authority, d["issuer"], tc.issuer)
		}
		if algs, _ := d["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
			t.Errorf("%s: algs %v", tc.authority, algs)
		}
	}
	var jwks struct{ Keys []map[string]any }
	resp, _ := http.Get(tn.URL + "/common/discovery/v2.0/keys")
	_ = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if len(jwks.Keys) != 1 {
		t.Fatalf("keys = %v", jwks.Keys)
	}
	for _, f := range []string{"kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"} {
		if jwks.Keys[0][f] == nil {
			t.Errorf("JWKS key lacks %s", f)
		}
	}
	resp, _ = http.Get(tn.URL + "/nosuchtenant.test/v2.0/.well-known/openid-configuration")
	if resp.StatusCode != 400 {
		t.Errorf("unknown tenant discovery: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// authURL builds an authorize URL by hand for the error cases.
func (tn *tenant) authURL(authority string, params url.Values) string {
	base := url.Values{"client_id": {sandbox.DefaultClientID}, "redirect_uri": {redirectURI},
		"response_type": {"code"}, "scope": {"openid offline_access Mail.Read"}, "state": {"s1"}}
	for k, v := range params {
		if v[0] == "" {
			base.Del(k)
		} else {
			base[k] = v
		}
	}
	return tn.URL + "/" + authority + "/oauth2/v2.0/authorize?" + base.Encode()
}

func TestAuthorizeErrors(t *testing.T) {
	multi := startTenant(t, sandbox.Options{})
	single := startTenant(t, sandbox.Options{SingleTenant: true})

	// Errors shown on the sandbox's own page, never redirected.
	for _, tc := range []struct {
		name, url, code string
	}{
		{"unregistered redirect URI", multi.authURL("common", url.Values{"redirect_uri": {"https://evil.test/cb"}}), "AADSTS50011"},
		{"unknown client", multi.authURL("common", url.Values{"client_id": {"00000000-0000-0000-0000-000000000001"}}), "AADSTS700016"},
		{"missing client", multi.authURL("common", url.Values{"client_id": {""}}), "AADSTS900144"},
		{"unknown tenant", multi.authURL("nowhere.test", nil), "AADSTS90002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := browser().Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			page := readBody(t, resp)
			if resp.StatusCode == http.StatusFound || !strings.Contains(page, tc.code) {
				t.Fatalf("status %d, page lacks %s:\n%s", resp.StatusCode, tc.code, page)
			}
		})
	}

	// Errors redirected back to the app.
	for _, tc := range []struct {
		name     string
		tn       *tenant
		url      string
		account  string
		decision string
		err      string
		code     string
	}{
		{"declined consent", multi, multi.authURL("common", nil), "alex@contoso.test", "cancel", "access_denied", "AADSTS65004"},
		{"single-tenant app on common", single, single.authURL("common", nil), "", "", "invalid_request", "AADSTS50194"},
		{"other tenant's person, single-tenant app", single, single.authURL(directory.Contoso.ID, nil), "sam@fabrikam.test", "", "access_denied", "AADSTS50020"},
		{"personal account on organizations", multi, multi.authURL("organizations", nil), "jo@outlook.test", "", "access_denied", "AADSTS50020"},
		{"work account on consumers", multi, multi.authURL("consumers", nil), "alex@contoso.test", "", "access_denied", "AADSTS50020"},
		{"tenant authority, person of another tenant", multi, multi.authURL(directory.Fabrikam.ID, nil), "alex@contoso.test", "", "access_denied", "AADSTS50020"},
		{"missing scope", multi, multi.authURL("common", url.Values{"scope": {""}}), "", "", "invalid_request", "AADSTS900144"},
		{"unknown scope", multi, multi.authURL("common", url.Values{"scope": {"openid Mail.Teleport"}}), "", "", "invalid_scope", "AADSTS70011"},
		{"token response type", multi, multi.authURL("common", url.Values{"response_type": {"token"}}), "", "", "unsupported_response_type", "AADSTS700054"},
		{"silent sign-in without a session", multi, multi.authURL("common", url.Values{"prompt": {"none"}}), "", "", "login_required", "AADSTS50058"},
		{"silent sign-in without consent", multi, multi.authURL("common", url.Values{"prompt": {"none"}, "login_hint": {"alex@contoso.test"}}), "", "", "interaction_required", "AADSTS65001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var back *url.URL
			if tc.account == "" {
				resp, err := browser().Get(tc.url)
				if err != nil {
					t.Fatal(err)
				}
				readBody(t, resp)
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("status %d, want a redirect", resp.StatusCode)
				}
				back = location(t, resp)
			} else {
				back = tc.tn.signIn(tc.url, tc.account, tc.decision)
			}
			q := back.Query()
			if !strings.HasPrefix(back.String(), redirectURI) {
				t.Fatalf("redirected to %s", back)
			}
			if q.Get("error") != tc.err || !strings.HasPrefix(q.Get("error_description"), tc.code+": ") {
				t.Fatalf("error=%q description=%q, want %s %s", q.Get("error"), q.Get("error_description"), tc.err, tc.code)
			}
			if !strings.Contains(q.Get("error_description"), "\r\nTrace ID: ") || q.Get("state") != "s1" {
				t.Errorf("description lacks the trace trailer or state: %q state=%q", q.Get("error_description"), q.Get("state"))
			}
			if q.Get("code") != "" {
				t.Error("an error redirect carried a code")
			}
		})
	}
}

func TestConsentIsRememberedAndPromptConsentAsksAgain(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tn.link("alex@contoso.test")
	// Second sign-in: no consent page, straight back with a code.
	back := tn.signIn(tn.authURL("common", nil), "alex@contoso.test", "")
	if back.Query().Get("code") == "" {
		t.Fatalf("no code: %s", back)
	}
	// prompt=none with a hint now succeeds silently.
	resp, _ := browser().Get(tn.authURL("common", url.Values{"prompt": {"none"}, "login_hint": {"alex@contoso.test"}}))
	readBody(t, resp)
	if location(t, resp).Query().Get("code") == "" {
		t.Fatalf("silent sign-in failed: %s", resp.Header.Get("Location"))
	}
	// prompt=consent shows the consent page again; cancelling declines.
	back = tn.signIn(tn.authURL("common", url.Values{"prompt": {"consent"}}), "alex@contoso.test", "cancel")
	if back.Query().Get("error") != "access_denied" {
		t.Fatalf("prompt=consent cancel: %s", back)
	}
}

func TestResponseModes(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	back := tn.signIn(tn.authURL("common", url.Values{"response_mode": {"fragment"}}), "alex@contoso.test", "accept")
	if frag, _ := url.ParseQuery(back.Fragment); frag.Get("code") == "" || back.RawQuery != "" {
		t.Errorf("fragment mode: %s", back)
	}
	// form_post answers with a self-submitting form instead of a redirect.
	c := browser()
	resp, _ := c.Get(tn.authURL("common", url.Values{"response_mode": {"form_post"}}))
	m := requestField.FindStringSubmatch(readBody(t, resp))
	resp, _ = c.PostForm(tn.URL+"/common/login/account", url.Values{"request": {m[1]}, "account": {"alex@contoso.test"}})
	page := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `action="`+redirectURI+`"`) || !strings.Contains(page, `name="code"`) {
		t.Errorf("form_post page (%d):\n%s", resp.StatusCode, page)
	}
}

// codeFor runs the picker and consent for account and returns a fresh code
// and its verifier.
func (tn *tenant) codeFor(account string) (code, verifier string) {
	tn.t.Helper()
	verifier = oauth2.GenerateVerifier()
	cfg := tn.oauthConfig("common")
	back := tn.signIn(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), account, "accept")
	return back.Query().Get("code"), verifier
}

func TestTokenEndpointErrors(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	redeem := func(code, verifier string) url.Values {
		return url.Values{"client_id": {sandbox.DefaultClientID}, "client_secret": {sandbox.DefaultClientSecret},
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	}
	with := func(v url.Values, k, val string) url.Values {
		c := url.Values{}
		for kk, vv := range v {
			c[kk] = vv
		}
		if val == "" {
			c.Del(k)
		} else {
			c.Set(k, val)
		}
		return c
	}
	code, verifier := tn.codeFor("alex@contoso.test")
	base := redeem(code, verifier)

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		err    string
		aadsts int
	}{
		{"missing grant_type", with(base, "grant_type", ""), 400, "invalid_request", 900144},
		{"unknown client", with(base, "client_id", "11111111-2222-3333-4444-555555555555"), 400, "unauthorized_client", 700016},
		{"missing secret", with(base, "client_secret", ""), 401, "invalid_client", 7000218},
		{"secret ID instead of value", with(base, "client_secret", "0b7f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"), 401, "invalid_client", 7000215},
		{"missing code", with(base, "code", ""), 400, "invalid_request", 900144},
		{"garbage code", with(base, "code", "nonsense"), 400, "invalid_grant", 9002313},
		{"wrong verifier", with(base, "code_verifier", oauth2.GenerateVerifier()), 400, "invalid_grant", 501481},
		{"missing verifier", with(base, "code_verifier", ""), 400, "invalid_grant", 501481},
		{"redirect mismatch", with(base, "redirect_uri", "http://localhost:8080/other"), 400, "invalid_grant", 500112},
		{"unsupported grant", with(base, "grant_type", "password"), 400, "unsupported_grant_type", 70003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, te, _ := tn.postToken("common", tc.form)
			if status != tc.status || te.Error != tc.err || len(te.Codes) != 1 || te.Codes[0] != tc.aadsts {
				t.Fatalf("got %d %s %v (%s), want %d %s %d", status, te.Error, te.Codes, te.Description, tc.status, tc.err, tc.aadsts)
			}
			if te.TraceID == "" || te.CorrelationID == "" || te.Timestamp == "" || !strings.HasPrefix(te.Description, "AADSTS") {
				t.Errorf("error body incomplete: %+v", te)
			}
		})
	}

	// The failed attempts above did not spend the code: it still redeems once,
	// with the secret sent as HTTP Basic this time ...
	status, te, ok := tn.postToken("common", with(base, "client_secret", ""), sandbox.DefaultClientID, sandbox.DefaultClientSecret)
	if status != 200 || ok["access_token"] == nil {
		t.Fatalf("basic-auth redemption: %d %+v", status, te)
	}
	// ... and only once.
	status, te, _ = tn.postToken("common", base)
	if status != 400 || te.Codes[0] != 54005 {
		t.Fatalf("reuse: %d %+v, want AADSTS54005", status, te)
	}

	// A code expires after 10 minutes.
	code, verifier = tn.codeFor("alex@contoso.test")
	tn.clock.Advance(11 * time.Minute)
	status, te, _ = tn.postToken("common", redeem(code, verifier))
	if status != 400 || te.Codes[0] != 70008 {
		t.Fatalf("expired code: %d %+v, want AADSTS70008", status, te)
	}
}

func TestPlainPKCEAndNoPKCE(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	cfg := tn.oauthConfig("common")
	// plain: the challenge is the verifier itself (and plain is assumed when
	// the method is omitted).
	back := tn.signIn(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", "plain-verifier-0123456789012345678901234567890")), "alex@contoso.test", "accept")
	if _, err := cfg.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption("plain-verifier-0123456789012345678901234567890")); err != nil {
		t.Fatalf("plain PKCE: %v", err)
	}
	// A confidential client may skip PKCE.
	back = tn.signIn(cfg.AuthCodeURL("s"), "alex@contoso.test", "")
	if _, err := cfg.Exchange(context.Background(), back.Query().Get("code")); err != nil {
		t.Fatalf("no PKCE: %v", err)
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"client_id": {sandbox.DefaultClientID}, "client_secret": {sandbox.DefaultClientSecret},
		"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

func TestRefreshRotationAndGrantTrouble(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	first := tn.link("alex@contoso.test")
	status, _, ok := tn.postToken("common", refreshForm(first.RefreshToken))
	if status != 200 {
		t.Fatalf("refresh: %d", status)
	}
	second := ok["refresh_token"].(string)
	if second == first.RefreshToken {
		t.Fatal("refresh token did not rotate")
	}
	// The old refresh token is not revoked by rotation.
	if status, te, _ := tn.postToken("common", refreshForm(first.RefreshToken)); status != 200 {
		t.Fatalf("old refresh token after rotation: %d %+v", status, te)
	}
	// A narrower scope is allowed, and the token carries every permission
	// granted all the same, as Microsoft's do; a wider one needs consent.
	if status, _, ok := tn.postToken("common", with1(refreshForm(second), "scope", "https://graph.microsoft.com/Mail.Read")); status != 200 ||
		!strings.Contains(ok["scope"].(string), "https://graph.microsoft.com/Mail.Read") || !strings.Contains(ok["scope"].(string), "/Files.ReadWrite") {
		t.Fatalf("subset scope: %d %v", status, ok["scope"])
	}
	if status, te, _ := tn.postToken("common", with1(refreshForm(second), "scope", "Files.ReadWrite.All")); status != 400 || te.Codes[0] != 65001 || te.SubError != "consent_required" {
		t.Fatalf("wider scope: %d %+v", status, te)
	}
	// Another person's grant is not affected by what happens to alex's.
	jo := tn.link("jo@outlook.test")

	for _, tc := range []struct {
		action string
		aadsts int
	}{
		{"revoke", 50173},
		{"expire-grants", 700082},
		{"withdraw-consent", 65001},
	} {
		t.Run(tc.action, func(t *testing.T) {
			tok := tn.link("alex@contoso.test")
			if status, out := tn.control("POST", "/sandbox/people/alex@contoso.test/"+tc.action, nil); status != 200 || out["affected"].(float64) < 1 {
				t.Fatalf("control: %d %v", status, out)
			}
			status, te, _ := tn.postToken("common", refreshForm(tok.RefreshToken))
			if status != 400 || te.Error != "invalid_grant" || te.Codes[0] != tc.aadsts {
				t.Fatalf("after %s: %d %+v, want invalid_grant %d", tc.action, status, te, tc.aadsts)
			}
			// Relinking gives a working grant again.
			fresh := tn.link("alex@contoso.test")
			if status, _, _ := tn.postToken("common", refreshForm(fresh.RefreshToken)); status != 200 {
				t.Fatalf("relinked grant refresh: %d", status)
			}
		})
	}
	if status, _, _ := tn.postToken("common", refreshForm(jo.RefreshToken)); status != 200 {
		t.Fatalf("jo's grant was affected: %d", status)
	}

	// Unused for more than 90 days, a refresh token expires by itself.
	tok := tn.link("sam@fabrikam.test")
	tn.clock.Advance(91 * 24 * time.Hour)
	if status, te, _ := tn.postToken("common", refreshForm(tok.RefreshToken)); status != 400 || te.Codes[0] != 700082 {
		t.Fatalf("idle refresh token: %d %+v", status, te)
	}
}

func with1(v url.Values, k, val string) url.Values {
	v.Set(k, val)
	return v
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test", "openid", "User.Read")
	if tok.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
	tok = tn.link("alex@contoso.test", "User.Read", "offline_access")
	if tok.Extra("id_token") != nil {
		t.Error("id_token issued without openid")
	}
}

func TestClientSecretRotationAndExpiry(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test")
	refreshWith := func(secret string) (int, tokenError) {
		status, te, _ := tn.postToken("common", with1(refreshForm(tok.RefreshToken), "client_secret", secret))
		return status, te
	}
	// Add a second secret: both work, as during a rotation in Entra.
	status, out := tn.control("POST", "/sandbox/app/secrets", map[string]string{"action": "add"})
	newSecret, _ := out["value"].(string)
	if status != 200 || !strings.Contains(newSecret, "~") {
		t.Fatalf("add secret: %d %v", status, out)
	}
	for _, s := range []string{sandbox.DefaultClientSecret, newSecret} {
		if status, te := refreshWith(s); status != 200 {
			t.Fatalf("secret %s...: %d %+v", s[:4], status, te)
		}
	}
	// Replace: only the new one works; the old answers AADSTS7000215.
	tn.control("POST", "/sandbox/app/secrets", map[string]string{"action": "replace", "value": "abc8Q~replacement-secret-value-000000000"})
	if status, te := refreshWith(sandbox.DefaultClientSecret); status != 401 || te.Codes[0] != 7000215 {
		t.Fatalf("old secret after replace: %d %+v", status, te)
	}
	// Expire: the current secret answers AADSTS7000222.
	tn.control("POST", "/sandbox/app/secrets", map[string]string{"action": "expire"})
	if status, te := refreshWith("abc8Q~replacement-secret-value-000000000"); status != 401 || te.Codes[0] != 7000222 {
		t.Fatalf("expired secret: %d %+v", status, te)
	}
	// --secret-expires in the past behaves the same from the start.
	old := startTenant(t, sandbox.Options{SecretExpires: time.Now().Add(-time.Hour)})
	code, verifier := old.codeFor("alex@contoso.test")
	_, err := old.oauthConfig("common").Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !asRetrieve(err, &re) || re.ErrorCode != "invalid_client" || !strings.Contains(re.ErrorDescription, "AADSTS7000222") {
		t.Fatalf("expired secret via x/oauth2: %v", err)
	}
}

func asRetrieve(err error, target **oauth2.RetrieveError) bool {
	re, ok := err.(*oauth2.RetrieveError)
	if ok {
		*target = re
	}
	return ok
}

func TestSingleTenantAppAcceptsItsOwnTenant(t *testing.T) {
	tn := startTenant(t, sandbox.Options{SingleTenant: true})
	cfg := tn.oauthConfig(directory.Contoso.ID)
	verifier := oauth2.GenerateVerifier()
	back := tn.signIn(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "alex@contoso.test", "accept")
	tok, err := cfg.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
	if status, te, _ := tn.postToken("common", refreshForm(tok.RefreshToken)); status != 400 || te.Codes[0] != 50194 {
		t.Fatalf("single-tenant app on /common token endpoint: %d %+v", status, te)
	}
}

// App roles go into id_tokens as "roles"; an app that requires assignment
// refuses people without one (AADSTS50105), as Entra does.
func TestAppRolesAndAssignment(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	if status, _ := tn.control("PUT", "/sandbox/people/alex@contoso.test/roles", map[string]any{"roles": []string{"graphgate.admin"}}); status != 200 {
		t.Fatalf("assign a role: %d", status)
	}
	claims := func(tok *oauth2.Token) map[string]any {
		raw, _ := tok.Extra("id_token").(string)
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			t.Fatalf("id_token %q", raw)
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		_ = json.Unmarshal(b, &c)
		return c
	}
	if roles, _ := claims(tn.link("alex@contoso.test", "openid", "profile"))["roles"].([]any); len(roles) != 1 || roles[0] != "graphgate.admin" {
		t.Fatalf("alex's roles: %v", roles)
	}
	if _, ok := claims(tn.link("sam@fabrikam.test", "openid"))["roles"]; ok {
		t.Fatal("sam has roles he was never given")
	}
	if status, _ := tn.control("PUT", "/sandbox/app/assignment", map[string]any{"required": true}); status != 200 {
		t.Fatalf("require assignment: %d", status)
	}
	cfg := tn.oauthConfig("common", "openid")
	back := tn.signIn(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "sam@fabrikam.test", "accept")
	if back.Query().Get("error") != "access_denied" || !strings.HasPrefix(back.Query().Get("error_description"), "AADSTS50105") {
		t.Fatalf("an unassigned person: %s", back)
	}
	if tok := tn.link("alex@contoso.test", "openid"); tok.AccessToken == "" {
		t.Fatal("an assigned person was refused")
	}
}

// changeChar changes one character near the end of s, never to itself.
func changeChar(s string) string {
	i := len(s) - 4
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
