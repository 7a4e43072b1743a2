package microsoft365

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/config"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/sandboxtest"
)

const callback = "http://localhost:8080/api/v1/microsoft365/auth/callback"

var app = &graphgate.M365Config{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RedirectURI: callback, Enabled: true}

func startSandbox(t *testing.T) string {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return srv.URL
}

func client(loginURL, authority string, now func() time.Time) *Client {
	return NewClient(&config.Config{M365LoginURL: loginURL, M365Authority: authority}, nil, now)
}

// signIn gets a code from the sandbox for account, as the browser would.
func signIn(t *testing.T, c *Client, _ string, account, nonce string) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	code, err := sandboxtest.Code(c.AuthCodeURL(app, "st", verifier, nonce), account)
	if err != nil {
		t.Fatal(err)
	}
	return code, verifier
}

func TestExchangeAndVerifyIDToken(t *testing.T) {
	base := startSandbox(t)
	c := client(base, "common", nil)
	code, verifier := signIn(t, c, base, "alex@contoso.test", "n-1")
	g, err := c.Exchange(context.Background(), app, code, verifier)
	if err != nil || g.RefreshToken == "" || g.AccessToken == "" || g.IDToken == "" || time.Until(g.Expiry) < time.Hour-time.Minute {
		t.Fatalf("exchange: %+v %v", g, err)
	}
	id, err := c.VerifyIDToken(context.Background(), app.ClientID, g.IDToken, "n-1")
	if err != nil || id.TenantID != directory.Contoso.ID || id.Username != "alex@contoso.test" || id.Personal() {
		t.Fatalf("verify: %+v %v", id, err)
	}
	// Each check refuses on its own.
	parts := strings.Split(g.IDToken, ".")
	for name, tc := range map[string]struct {
		c               *Client
		clientID, token string
		nonce           string
	}{
		"wrong nonce":           {c, app.ClientID, g.IDToken, "n-2"},
		"empty nonce":           {c, app.ClientID, g.IDToken, ""},
		"wrong audience":        {c, "11111111-2222-3333-4444-555555555555", g.IDToken, "n-1"},
		"tampered payload":      {c, app.ClientID, parts[0] + "." + parts[1][:len(parts[1])-3] + "abc." + parts[2], "n-1"},
		"other tenant required": {client(base, directory.Fabrikam.ID, nil), app.ClientID, g.IDToken, "n-1"},
		"consumers authority":   {client(base, "consumers", nil), app.ClientID, g.IDToken, "n-1"},
		"issuer of another host": {client(strings.Replace(base, "127.0.0.1", "localhost", 1), "common", nil),
			app.ClientID, g.IDToken, "n-1"},
		"expired": {client(base, "common", func() time.Time { return time.Now().Add(2 * time.Hour) }), app.ClientID, g.IDToken, "n-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tc.c.VerifyIDToken(context.Background(), tc.clientID, tc.token, tc.nonce); !errors.Is(err, ErrIDToken) {
				t.Fatalf("accepted (%v)", err)
			}
		})
	}
	// Reuse of the code is an AuthError with its AADSTS number.
	_, err = c.Exchange(context.Background(), app, code, verifier)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "invalid_grant" || ae.AADSTS != 54005 || strings.Contains(ae.Description, "Trace ID") {
		t.Fatalf("reused code: %#v", err)
	}
	// A wrong secret is invalid_client with AADSTS7000215.
	bad := *app
	bad.ClientSecret = "0b7f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"
	_, err = c.Refresh(context.Background(), &bad, g.RefreshToken)
	if !errors.As(err, &ae) || ae.Code != "invalid_client" || ae.AADSTS != 7000215 || ae.Status != 401 {
		t.Fatalf("wrong secret: %#v", err)
	}
	// Refresh rotates.
	g2, err := c.Refresh(context.Background(), app, g.RefreshToken)
	if err != nil || g2.RefreshToken == g.RefreshToken || g2.AccessToken == g.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
}

func TestPlainWords(t *testing.T) {
	for _, n := range []int{50173, 700082, 65001, 0, 12345} {
		if GrantProblem(n) == "" || strings.Contains(GrantProblem(n), "%") {
			t.Errorf("GrantProblem(%d) = %q", n, GrantProblem(n))
		}
	}
	if AADSTSOf("AADSTS7000222: The provided client secret keys ... \r\nTrace ID: x") != 7000222 || FirstLine("AADSTS1: a\r\nTrace ID: b") != "AADSTS1: a" {
		t.Fatal("parsing")
	}
}

func TestVerifiedEmail(t *testing.T) {
	tests := []struct {
		name     string
		personal bool
		email    string
		upn      string
		edov     string
		want     string
	}{
		{"work, email verified", false, "dana@contoso.com", "dana@contoso.onmicrosoft.com", `true`, "dana@contoso.com"},
		{"work, verified as a string", false, "dana@contoso.com", "dana@contoso.onmicrosoft.com", `"true"`, "dana@contoso.com"},
		{"work, email unverified: the UPN", false, "admin@victim.com", "mallory@evil.com", `false`, "mallory@evil.com"},
		{"work, no xms_edov claim: the UPN", false, "admin@victim.com", "mallory@evil.com", ``, "mallory@evil.com"},
		{"work, no email: the UPN", false, "", "sam@fabrikam.com", ``, "sam@fabrikam.com"},
		{"work, UPN without @ and no verified email", false, "admin@victim.com", "not-an-address", `0`, ""},
		{"personal: the email", true, "jo@outlook.com", "jo@outlook.com", ``, "jo@outlook.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw json.RawMessage
			if tt.edov != "" {
				raw = json.RawMessage(tt.edov)
			}
			if got := verifiedEmail(tt.personal, tt.email, tt.upn, raw); got != tt.want {
				t.Fatalf("verifiedEmail = %q, want %q", got, tt.want)
			}
		})
	}
}
