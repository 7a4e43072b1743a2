package microsoft365

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"graphgate/internal/config"
)

// FuzzSetupForm: the Microsoft 365 form (onboarding, console, API) accepts
// only what Entra could have issued and says what is wrong otherwise.
func FuzzSetupForm(f *testing.F) {
	f.Add("5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59", "sbx8Q~graphgateSandboxSecretValue0000001", "https://gg.example/api/v1/microsoft365/auth/callback", "2027-01-01")
	f.Add("not-a-guid", "5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59", "http://evil.example/api/v1/microsoft365/auth/callback", "yesterday")
	f.Add(" ", "a b", "https://gg.example/api/v1/microsoft365/auth/callback?x=1#y", "2020-02-30")
	f.Add("", "", "javascript:alert(1)//api/v1/microsoft365/auth/callback", "")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, clientID, secret, redirect, expires string) {
		s := Setup{ClientID: clientID, ClientSecret: secret, RedirectURI: redirect, SecretExpires: expires}
		exp, errs := s.Validate(true, now)
		if errs != nil {
			for field, msg := range errs {
				if msg == "" || field == "" {
					t.Fatalf("an empty problem for %q", field)
				}
			}
			return
		}
		if !config.IsGUID(s.ClientID) || len(s.ClientSecret) < 16 || strings.ContainsAny(s.ClientSecret, " \t\r\n") ||
			!strings.HasSuffix(s.RedirectURI, config.CallbackPath) || !exp.IsZero() && !exp.After(now) {
			t.Fatalf("accepted %+v", s)
		}
		if !strings.HasPrefix(s.RedirectURI, "https://") && !strings.HasPrefix(s.RedirectURI, "http://localhost") &&
			!strings.HasPrefix(s.RedirectURI, "http://127.0.0.1") && !strings.HasPrefix(s.RedirectURI, "http://[::1]") {
			t.Fatalf("accepted the redirect URI %q", s.RedirectURI)
		}
	})
}

// FuzzErrorDescription: Microsoft's error descriptions yield their AADSTS
// number and first line without panics, whatever they hold.
func FuzzErrorDescription(f *testing.F) {
	f.Add("AADSTS50173: The provided grant has expired.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 3")
	f.Add("AADSTS99999999999999999999: overflow")
	f.Add(" Trace ID: only")
	f.Fuzz(func(t *testing.T, desc string) {
		// A code read is one the text holds.
		if n := AADSTSOf(desc); n < 0 || n > 0 && !strings.Contains(desc, strconv.Itoa(n)) {
			t.Fatalf("AADSTS %d from %q", n, desc)
		}
		// The first line is the start of the description, without its
		// line break or trace trailer.
		line := FirstLine(desc)
		if strings.Contains(line, "\r\n") || strings.Contains(line, " Trace ID:") || !strings.Contains(desc, line) ||
			!strings.HasPrefix(strings.TrimLeftFunc(desc, unicode.IsSpace), line) {
			t.Fatalf("first line %q of %q", line, desc)
		}
	})
}

// FuzzAuthorizeProblem: whatever error and description Microsoft's answer
// (or someone posing as it) carries, the message is short plain text.
func FuzzAuthorizeProblem(f *testing.F) {
	f.Add("access_denied", "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x")
	f.Add("invalid_request", "AADSTS50020: User account from identity provider does not exist in tenant.")
	f.Add("server_error", "")
	f.Add(strings.Repeat("x", 5000), strings.Repeat("<script>", 1000))
	f.Add("a\r\nSet-Cookie: x=y", "b\x00c")
	f.Fuzz(func(t *testing.T, code, desc string) {
		msg := AuthorizeProblem(code, desc)
		if len(msg) > 600 || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
			t.Fatalf("message %q", msg)
		}
	})
}
