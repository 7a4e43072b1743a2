package graphgate

import "time"

// TokenKind says what an API token is for.
type TokenKind string

// Token kinds.
const (
	TokenAdmin TokenKind = "admin" // the admin JSON API
	TokenAgent TokenKind = "agent" // the MCP server, as one user
	// TokenOAuth is an OAuth access token of a grant: the MCP server only.
	TokenOAuth TokenKind = "oauth"
)

// APIToken is a bearer token; the store keeps only its hash.
type APIToken struct {
	ID       int64
	UserID   int64
	Kind     TokenKind
	Name     string
	Prefix   string // the first characters, shown in lists
	Hash     string `json:"-"`
	ReadOnly bool
	Toolsets []string
	// ConfirmWrites: sending and deleting wait for the person's yes, asked
	// through the MCP client.
	ConfirmWrites bool
	CreatedAt     time.Time
	ExpiresAt     time.Time // zero: never
	LastUsedAt    time.Time
	RevokedAt     time.Time
	// Owner is the person, set by APITokenByHash: checking a token needs
	// both, and they come in one read.
	Owner *User `json:"-"`
}
