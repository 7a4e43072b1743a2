package identity

import (
	"crypto/subtle"
	"slices"
	"strings"
	"time"
)

// GraphResource is the resource identifier Microsoft qualifies Graph scopes with.
const GraphResource = "https://graph.microsoft.com/"

// App is the one app registration the sandbox tenant knows.
type App struct {
	ClientID     string
	Name         string
	RedirectURIs []string
	// SingleTenant restricts sign-in to HomeTenant (Entra's "accounts in this
	// organizational directory only"); multi-tenant apps also accept personal accounts.
	SingleTenant bool
	HomeTenant   string
	Secrets      []Secret
	// Permissions are the delegated permissions configured on the registration;
	// they are what the ".default" scope expands to.
	Permissions []string
}

// Secret is one client secret. Entra allows several at once, which is what
// makes rotation without downtime possible.
type Secret struct {
	ID      string    `json:"id"` // the "secret ID" GUID that admins confuse with the value
	Value   string    `json:"-"`
	Hint    string    `json:"hint"`
	Expires time.Time `json:"expires,omitzero"`
}

// Expired reports whether the secret can no longer be used at t.
func (s Secret) Expired(t time.Time) bool { return !s.Expires.IsZero() && !t.Before(s.Expires) }

func (a App) redirectRegistered(uri string) bool { return slices.Contains(a.RedirectURIs, uri) }

// secretMatch finds the secret with the given value in constant time per secret.
func (a App) secretMatch(value string) (Secret, bool) {
	var found Secret
	ok := false
	for _, s := range a.Secrets {
		if subtle.ConstantTimeCompare([]byte(s.Value), []byte(value)) == 1 {
			found, ok = s, true
		}
	}
	return found, ok
}

// scopeInfo describes a delegated permission the way the consent page words it.
type scopeInfo struct {
	Name        string // canonical spelling
	Graph       bool   // a Graph permission (qualified in token responses)
	Description string
}

var knownScopes = []scopeInfo{
	{"openid", false, "Sign you in"},
	{"profile", false, "View your basic profile"},
	{"email", false, "View your email address"},
	{"offline_access", false, "Maintain access to data you have given it access to"},
	{"User.Read", true, "Sign you in and read your profile"},
	{"User.ReadBasic.All", true, "Read all users' basic profiles"},
	{"MailboxSettings.Read", true, "Read your mailbox settings"},
	{"Mail.ReadBasic", true, "Read basic mail in your mailbox"},
	{"Mail.Read", true, "Read your mail"},
	{"Mail.ReadWrite", true, "Read and write access to your mail"},
	{"Mail.Send", true, "Send mail as you"},
	{"Calendars.Read", true, "Read your calendars"},
	{"Calendars.ReadWrite", true, "Have full access to your calendars"},
	{"Files.Read", true, "Read your files"},
	{"Files.Read.All", true, "Read all files that you have access to"},
	{"Files.ReadWrite", true, "Have full access to your files"},
	{"Files.ReadWrite.All", true, "Have full access to all files you have access to"},
}

func lookupScope(name string) (scopeInfo, bool) {
	for _, s := range knownScopes {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return scopeInfo{}, false
}

// DefaultPermissions are the delegated permissions graphgate asks for.
var DefaultPermissions = []string{
	"openid", "email", "profile", "offline_access", "User.Read", "Mail.Read", "Mail.Send",
	"Mail.ReadWrite", "Calendars.Read", "Files.Read", "Files.ReadWrite",
}

// parseScopes turns a space-separated scope parameter into canonical names.
// Graph scopes may be bare ("Mail.Read") or qualified with the Graph resource;
// ".default" stands for the permissions configured on the app. It returns the
// first scope it does not know as bad.
func (a App) parseScopes(param string) (scopes []string, bad string) {
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			scopes = append(scopes, s)
		}
	}
	for _, raw := range strings.Fields(param) {
		name := raw
		if len(raw) > len(GraphResource) && strings.EqualFold(raw[:len(GraphResource)], GraphResource) {
			name = raw[len(GraphResource):]
		} else if strings.Contains(raw, "://") {
			return nil, raw // another resource: not something this tenant serves
		}
		if name == ".default" {
			for _, p := range a.Permissions {
				add(p)
			}
			continue
		}
		info, ok := lookupScope(name)
		if !ok {
			return nil, raw
		}
		add(info.Name)
	}
	return scopes, ""
}

// graphScopes keeps only Graph permissions: what an access token carries.
func graphScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if info, _ := lookupScope(s); info.Graph {
			out = append(out, s)
		}
	}
	return out
}

// responseScope renders the scope field of a token response: Graph scopes
// qualified, OpenID scopes bare, offline_access never echoed.
func responseScope(scopes []string) string {
	var parts []string
	for _, s := range scopes {
		info, _ := lookupScope(s)
		switch {
		case s == "offline_access":
		case info.Graph:
			parts = append(parts, GraphResource+s)
		default:
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func describeScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if info, ok := lookupScope(s); ok {
			out = append(out, info.Description)
		}
	}
	return out
}

func containsAll(have map[string]bool, want []string) bool {
	for _, s := range want {
		if !have[s] {
			return false
		}
	}
	return true
}
