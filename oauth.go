package graphgate

import (
	"slices"
	"strings"
	"time"
)

// OAuthClient is an MCP client registered with graphgate's authorization
// server through Dynamic Client Registration (RFC 7591). Clients that
// identify themselves by a Client ID Metadata Document are not stored.
type OAuthClient struct {
	ID           string // client_id
	Name         string
	LogoURI      string
	ClientURI    string
	RedirectURIs []string
	CreatedAt    time.Time
	// ExpiresAt is when an unused registration is dropped; zero once used.
	ExpiresAt time.Time
}

// Grant is what a person allowed an MCP client to do through OAuth: the
// toolsets and read-only choice of an agent token, as scopes.
type Grant struct {
	ID           int64
	UserID       int64
	ClientID     string
	ClientName   string
	RedirectHost string // where the consent page said the person goes back to
	Scopes       []string
	// ConfirmWrites: sending and deleting wait for the person's yes.
	ConfirmWrites bool
	CreatedAt     time.Time
	LastUsedAt    time.Time
	ExpiresAt     time.Time // zero: until revoked
	RevokedAt     time.Time
	// Owner is the person, set by OAuthAccessToken: checking a token
	// needs both, and they come in one read.
	Owner *User `json:"-"`
	// FromCode is the hash of the authorization code the grant is made
	// from, for CreateGrant: a second redemption of it revokes the grant.
	FromCode string `json:"-"`
}

// Live reports whether the grant still works at now.
func (g *Grant) Live(now time.Time) bool {
	return g.RevokedAt.IsZero() && (g.ExpiresAt.IsZero() || now.Before(g.ExpiresAt))
}

// OAuthSettings are the admin's rules for MCP clients that connect with
// OAuth: whether they may register themselves, and which hosts' client
// metadata documents are accepted (none listed: any public host).
type OAuthSettings struct {
	Registration bool
	ClientHosts  []string
	UpdatedAt    time.Time
}

// DefaultOAuthSettings apply until an admin changes them.
func DefaultOAuthSettings() *OAuthSettings { return &OAuthSettings{Registration: true} }

// AuthCode is an OAuth authorization code waiting for its redemption. It
// carries everything the grant will be made of; the store keeps its hash.
type AuthCode struct {
	Hash           string
	UserID         int64
	ClientID       string
	ClientName     string
	RedirectURI    string
	Challenge      string // PKCE S256 code_challenge
	Resource       string
	Scopes         []string
	GrantExpiresAt time.Time // the expiry the person chose; zero: none
	ConfirmWrites  bool      // the person chose "ask me before sending or deleting"
	ExpiresAt      time.Time
}

// RefreshGrace is how long after a refresh token's use the same token may
// be presented once more (a retry after a lost response).
const RefreshGrace = 30 * time.Second

// OAuthToken is an access or refresh token of a grant; stored hashed.
type OAuthToken struct {
	Hash      string
	GrantID   int64
	Refresh   bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Toolsets an agent can be limited to.
var Toolsets = []string{"mail", "calendar", "files", "profile", "people", "tasks", "teams"}

// Scopes are what an OAuth client may ask for: each toolset, to read or to
// write (profile and people only read). calendar.write, people.read and
// the tasks and teams scopes reach tools only where the admin turned their
// capability on; files.read and files.write cover SharePoint's.
var Scopes = []string{"mail.read", "mail.write", "calendar.read", "calendar.write", "files.read", "files.write", "profile", "people.read",
	"tasks.read", "tasks.write", "teams.read", "teams.write"}

// ScopeFor is the scope a tool of the toolset needs.
func ScopeFor(toolset string, write bool) string {
	switch {
	case toolset == "profile":
		return "profile"
	case write:
		return toolset + ".write"
	}
	return toolset + ".read"
}

// ScopesOf turns an agent token's choices into scopes: every toolset (all
// when none is named), read and, unless readOnly, write.
func ScopesOf(toolsets []string, readOnly bool) []string {
	var out []string
	for _, sc := range Scopes {
		set, access, _ := strings.Cut(sc, ".")
		if (len(toolsets) == 0 || slices.Contains(toolsets, set)) && (access != "write" || !readOnly) {
			out = append(out, sc)
		}
	}
	return out
}
