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

// scopeInfo describes a delegated permission the way the consent page
// words it, and who may have it: Personal, whether personal Microsoft
// accounts have it; Admin, whether only an admin may consent to it.
type scopeInfo struct {
	Name        string // canonical spelling
	Graph       bool   // a Graph permission (qualified in token responses)
	Description string
	Personal    bool
	Admin       bool
}

var knownScopes = []scopeInfo{
	{"openid", false, "Sign you in", true, false},
	{"profile", false, "View your basic profile", true, false},
	{"email", false, "View your email address", true, false},
	{"offline_access", false, "Maintain access to data you have given it access to", true, false},
	{"User.Read", true, "Sign you in and read your profile", true, false},
	{"User.ReadBasic.All", true, "Read all users' basic profiles", false, false},
	{"User.Read.All", true, "Read all users' full profiles", false, true},
	{"MailboxSettings.Read", true, "Read your mailbox settings", true, false},
	{"Mail.ReadBasic", true, "Read basic mail in your mailbox", true, false},
	{"Mail.Read", true, "Read your mail", true, false},
	{"Mail.ReadWrite", true, "Read and write access to your mail", true, false},
	{"Mail.Send", true, "Send mail as you", true, false},
	{"Mail.Read.Shared", true, "Read mail you can access", false, false},
	{"Mail.ReadWrite.Shared", true, "Read and write mail you can access", false, false},
	{"Mail.Send.Shared", true, "Send mail on behalf of others", false, false},
	{"Calendars.Read", true, "Read your calendars", true, false},
	{"Calendars.ReadWrite", true, "Have full access to your calendars", true, false},
	{"Calendars.Read.Shared", true, "Read calendars you can access", false, false},
	{"Calendars.ReadWrite.Shared", true, "Read and write calendars you can access", false, false},
	{"Contacts.Read", true, "Read your contacts", true, false},
	{"People.Read", true, "Read your relevant people list", true, false},
	{"People.Read.All", true, "Read all users' relevant people lists", false, true},
	{"Files.Read", true, "Read your files", true, false},
	{"Files.Read.All", true, "Read all files that you have access to", true, false},
	{"Files.ReadWrite", true, "Have full access to your files", true, false},
	{"Files.ReadWrite.All", true, "Have full access to all files you have access to", true, false},
	{"Sites.Read.All", true, "Read items in all site collections", false, false},
	{"Sites.ReadWrite.All", true, "Edit or delete items in all site collections", false, false},
	{"Tasks.Read", true, "Read your tasks and task lists", true, false},
	{"Tasks.ReadWrite", true, "Create, read, update and delete your tasks and task lists", true, false},
	{"Chat.ReadBasic", true, "Read names and members of your chat threads", false, false},
	{"Chat.Read", true, "Read your chat messages", false, false},
	{"Chat.ReadWrite", true, "Read and write your chat messages", false, false},
	{"ChatMessage.Send", true, "Send chat messages", false, false},
	{"Team.ReadBasic.All", true, "Read the names and descriptions of teams", false, false},
	{"Channel.ReadBasic.All", true, "Read the names and descriptions of channels", false, false},
	{"ChannelMessage.Read.All", true, "Read user channel messages", false, true},
	{"ChannelMessage.Send", true, "Send channel messages", false, false},
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
