// Package microsoft365 is graphgate's side of Microsoft 365: what an admin
// must paste to connect an Entra app, and the rules it must follow.
package microsoft365

import (
	"graphgate"
	"net/url"
	"strings"
	"time"

	"graphgate/internal/config"
)

// Setup is what an admin types into the "Connect graphgate to Microsoft 365"
// form or sends to the admin API.
type Setup struct {
	ClientID      string
	ClientSecret  string
	RedirectURI   string
	SecretExpires string // YYYY-MM-DD, optional
}

// Field names, shared by the form and the JSON API.
const (
	FieldClientID      = "clientId"
	FieldClientSecret  = "clientSecret"
	FieldRedirectURI   = "redirectUri"
	FieldSecretExpires = "secretExpiresAt"
)

// Validate checks a setup; requireSecret is true when a secret must be given
// (first configuration, rotation) rather than kept. It returns the parsed
// expiry (zero when none) and the problems found.
func (s *Setup) Validate(requireSecret bool, now time.Time) (time.Time, graphgate.FieldErrors) {
	errs := graphgate.FieldErrors{}
	s.ClientID = strings.TrimSpace(s.ClientID)
	s.RedirectURI = strings.TrimSpace(s.RedirectURI)
	s.ClientSecret = strings.TrimSpace(s.ClientSecret)
	switch {
	case s.ClientID == "":
		errs[FieldClientID] = "Paste the Application (client) ID from the app's Overview page in Entra."
	case !config.IsGUID(s.ClientID):
		errs[FieldClientID] = "The client ID is a GUID such as 5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59."
	}
	switch {
	case s.ClientSecret == "" && requireSecret:
		errs[FieldClientSecret] = "Paste the client secret's Value from Certificates & secrets."
	case s.ClientSecret == "":
	case config.IsGUID(s.ClientSecret):
		errs[FieldClientSecret] = "This looks like the Secret ID, not the secret's Value. Microsoft refuses the ID (AADSTS7000215): copy the Value column instead."
	case len(s.ClientSecret) < 16 || len(s.ClientSecret) > 256 || strings.ContainsAny(s.ClientSecret, " \t\r\n"):
		errs[FieldClientSecret] = "That does not look like a client secret value (about 40 characters, no spaces)."
	}
	if msg := checkRedirect(s.RedirectURI); msg != "" {
		errs[FieldRedirectURI] = msg
	}
	var expires time.Time
	if s.SecretExpires != "" {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(s.SecretExpires))
		switch {
		case err != nil:
			errs[FieldSecretExpires] = "Use a date such as 2027-11-30."
		case !t.After(now):
			errs[FieldSecretExpires] = "That date has passed: a secret that has expired no longer works."
		default:
			expires = t
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return expires, errs
}

func checkRedirect(raw string) string {
	if raw == "" {
		return "Give the redirect URI registered on the app (platform Web)."
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "The redirect URI must be an absolute URL."
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "The redirect URI cannot have a query or a fragment."
	}
	if !strings.HasPrefix(raw, u.Scheme+"://") {
		// Entra compares what it registered with what graphgate sends.
		return "Write the redirect URI as registered in Entra, starting with https:// in lowercase."
	}
	host := u.Hostname()
	local := host == "localhost" || host == "127.0.0.1" || host == "::1"
	if u.Scheme != "https" && !(u.Scheme == "http" && local) {
		return "The redirect URI must use https (http is allowed only for localhost)."
	}
	if !strings.HasSuffix(u.Path, config.CallbackPath) {
		return "The redirect URI must end in " + config.CallbackPath + "."
	}
	return ""
}
