// Package graphgate holds the domain of graphgate, a self-hosted Microsoft 365
// connector for AI agents: people and their roles, sessions, the Microsoft
// 365 integration an admin configures, API tokens and the audit log, and the
// Store they live in. Subpackages implement it (store/sql, web, ...) and
// point inward to this package, never sideways.
package graphgate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a person may do in graphgate.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// User is a person who signs in to graphgate.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	PasswordHash string `json:"-"`
	// OnboardedAt is when the person finished (or skipped) onboarding; zero
	// until then, so the onboarding flow shows on first sign-in.
	OnboardedAt time.Time
	// ReconnectAskedAt is when an admin asked the person to reconnect their
	// Microsoft account; a banner shows until they do.
	ReconnectAskedAt time.Time
	CreatedAt        time.Time
}

// IsAdmin reports whether the user is an admin.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Session is a signed-in browser. The cookie carries a random token; the
// store keeps only its hash, so a database dump cannot be replayed.
type Session struct {
	TokenHash string
	UserID    int64
	// CSRF is the per-session token every form must echo.
	CSRF      string `json:"-"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

// M365Config is the Microsoft 365 integration: the Entra app registration
// an admin pasted into graphgate.
type M365Config struct {
	ClientID string
	// ClientSecret is the secret value in clear, in memory only: stores keep
	// it encrypted and nothing renders it.
	ClientSecret    string `json:"-"`
	SecretHint      string // last four characters, for recognition
	SecretSetAt     time.Time
	SecretExpiresAt time.Time // zero when the admin gave no date
	RedirectURI     string
	Enabled         bool
	// Attention is why Microsoft refused the app (AADSTS7000215 or
	// AADSTS7000222, say); empty when all is well.
	Attention   string
	AttentionAt time.Time
	UpdatedAt   time.Time
}

// M365Status is what the console shows for the integration.
type M365Status string

// Statuses of the integration.
const (
	StatusNotConfigured  M365Status = "not configured"
	StatusActive         M365Status = "active"
	StatusDisabled       M365Status = "disabled"
	StatusNeedsAttention M365Status = "needs attention"
)

// Status derives the integration's status; c may be nil (not configured).
func (c *M365Config) Status() M365Status {
	switch {
	case c == nil:
		return StatusNotConfigured
	case !c.Enabled:
		return StatusDisabled
	case c.Attention != "":
		return StatusNeedsAttention
	}
	return StatusActive
}

// SecretHintOf returns the masked form of a secret: its last four characters.
func SecretHintOf(secret string) string {
	if len(secret) <= 4 {
		return "****"
	}
	return "…" + secret[len(secret)-4:]
}

// Link is a person's linked Microsoft account: the grant graphgate keeps
// alive for them. The account is identified by (TenantID, ObjectID);
// Username is for display only.
type Link struct {
	UserID      int64
	TenantID    string
	ObjectID    string
	Username    string
	DisplayName string
	Personal    bool // a personal Microsoft account (consumer tenant)
	// Tokens are in clear in memory only; stores keep them encrypted.
	RefreshToken    string `json:"-"`
	AccessToken     string `json:"-"`
	AccessExpiresAt time.Time
	// Reason is why Microsoft refused the grant (empty while it works); the
	// person sees Reconnect.
	Reason    string
	LinkedAt  time.Time
	UpdatedAt time.Time
	// Health, for admins: the last successful Graph call (recorded at most
	// once a minute), the last refresh, and the last error in words.
	LastGraphAt   time.Time
	LastRefreshAt time.Time
	LastError     string
	LastErrorAt   time.Time
}

// NeedsAttention reports whether the person must link again.
func (l *Link) NeedsAttention() bool { return l.Reason != "" }

// OAuthFlow is a sign-in at Microsoft in progress, waiting for the callback.
type OAuthFlow struct {
	StateHash string // the state parameter is only ever stored hashed
	// Purpose is FlowLink (a signed-in person links), FlowSignIn (someone
	// signs in to graphgate) or FlowSignInLink (signs in and links at once).
	Purpose   string
	UserID    int64  // who started a link; 0 for a sign-in
	Verifier  string `json:"-"` // PKCE code verifier, encrypted at rest
	Nonce     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Purposes of a sign-in at Microsoft.
const (
	FlowLink       = "link"
	FlowSignIn     = "signin"
	FlowSignInLink = "signin-link"
)

// Who may sign in with Microsoft.
const (
	SignInExisting = "existing" // only people already linked to that Microsoft account
	SignInTenants  = "tenants"  // anyone from the allowed tenants (and personal accounts when allowed)
	SignInAnyone   = "anyone"   // anyone Microsoft signs in (only with the common authority)
)

// SignInSettings are the admin's rules for Sign in with Microsoft and for
// passwords.
type SignInSettings struct {
	Microsoft bool   // offer Sign in with Microsoft
	Who       string // SignInExisting, SignInTenants or SignInAnyone
	Tenants   []string
	Personal  bool     // with SignInTenants: personal Microsoft accounts too
	Domains   []string // when set, only these email domains
	// AdminEmails and AdminRole (an app role value in the id_token's
	// roles) make admins, re-evaluated at every Microsoft sign-in.
	AdminEmails []string
	AdminRole   string
	// Passwords allows password sign-in; when off, only BreakGlass may.
	Passwords  bool
	BreakGlass []string
	UpdatedAt  time.Time
}

// DefaultSignInSettings apply until an admin changes them.
func DefaultSignInSettings() *SignInSettings {
	return &SignInSettings{Microsoft: true, Who: SignInExisting, Passwords: true}
}

// Download is a one-time link to a file or attachment, served by graphgate
// from Graph to whoever holds the link, once, before it expires.
type Download struct {
	TokenHash   string
	UserID      int64
	TokenID     int64  // the agent token that made it; revoking the token ends the link
	GrantID     int64  // or the OAuth grant that made it
	Source      string // Graph path of the bytes, relative to /v1.0/
	Name        string
	ContentType string
	ExpiresAt   time.Time
}

// Upload is a one-time link an agent's client PUTs a large file to;
// graphgate streams it into a Graph upload session.
type Upload struct {
	TokenHash string
	UserID    int64
	TokenID   int64  // the agent token that made it; revoking the token ends the link
	GrantID   int64  // or the OAuth grant that made it
	Target    string // Graph path of the file, relative to /v1.0/ ("me/drive/root:/a/b.mp4:"), or of a draft
	Conflict  string // fail, replace or rename
	ExpiresAt time.Time
	// AttachmentName is set when the upload is a large attachment to the
	// draft at Target, of ContentType.
	AttachmentName string
	ContentType    string
	// SendID names the PendingSend this attachment's draft waits on.
	SendID string
}

// PendingSend is a draft that is sent once the large attachments it waits
// for have all arrived through their upload links (send_message with
// large attachments).
type PendingSend struct {
	ID        string
	UserID    int64
	TokenID   int64  // the agent token that asked; revoking it ends the send
	GrantID   int64  // or the OAuth grant
	Label     string // the token or app, for the audit log
	Target    string
	Remaining int // attachments still to arrive
	ExpiresAt time.Time
}

// Approval is a send or deletion waiting for the person's yes on
// graphgate's own page: how an agent whose token asks first gets an answer
// when its MCP client cannot ask the person itself.
type Approval struct {
	ID        string // random, in the page's address
	Key       string // names what is approved: tool, person, token or grant, exact arguments
	UserID    int64
	TokenID   int64  // the agent token asking; revoking it ends the approval
	GrantID   int64  // or the OAuth grant
	Label     string // the token or app, as the page names it
	Tool      string
	Summary   string // what the person reads: recipients, subject, first lines; or the item
	State     ApprovalState
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ApprovalState is where an approval stands.
type ApprovalState string

const (
	ApprovalAsked    ApprovalState = "asked"
	ApprovalApproved ApprovalState = "approved"
	ApprovalDeclined ApprovalState = "declined"
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

// Cursor is where a listing an agent pages through goes on: the Graph link
// behind the short, opaque cursor the agent holds. Stores seal Path.
type Cursor struct {
	ID        string
	UserID    int64
	Path      string `json:"-"`
	ExpiresAt time.Time
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

// Audit actions of the OAuth authorization server.
const (
	ActionOAuthGrant    = "oauth.grant"
	ActionOAuthRevoke   = "oauth.revoke"
	ActionOAuthSettings = "oauth.settings"
)

// Toolsets an agent can be limited to.
var Toolsets = []string{"mail", "calendar", "files", "profile"}

// Scopes are what an OAuth client may ask for: each toolset, to read or to
// write (calendar is read-only; profile has only reads).
var Scopes = []string{"mail.read", "mail.write", "calendar.read", "files.read", "files.write", "profile"}

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

// AuditEvent is one entry of the audit log. Details never hold secrets.
type AuditEvent struct {
	ID         int64
	At         time.Time
	ActorID    int64
	ActorEmail string
	Action     string
	Target     string
	Details    map[string]string
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Action string
	Actor  string // email, substring
	Since  time.Time
	Until  time.Time
	Offset int
	Limit  int
}

// Store keeps graphgate's state. Implementations must be safe for
// concurrent use by several replicas sharing one database.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser applies fn to the current user inside a transaction.
	UpdateUser(ctx context.Context, id int64, fn func(u *User) error) (*User, error)
	DeleteUser(ctx context.Context, id int64) error

	CreateSession(ctx context.Context, s *Session) error
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	DeleteSession(ctx context.Context, hash string) error
	DeleteUserSessions(ctx context.Context, userID int64) error

	// M365Config returns the integration, or an ENOTFOUND error.
	M365Config(ctx context.Context) (*M365Config, error)
	// UpdateM365Config is a transactional read-modify-write: fn gets the
	// current configuration (nil when there is none) and returns the new one.
	UpdateM365Config(ctx context.Context, fn func(cur *M365Config) (*M365Config, error)) (*M365Config, error)
	// DeleteM365Config removes the integration and every linked account,
	// returning how many links went.
	DeleteM365Config(ctx context.Context) (int, error)
	CountLinks(ctx context.Context) (int, error)

	CreateOAuthFlow(ctx context.Context, f *OAuthFlow) error
	// ConsumeOAuthFlow deletes the flow and returns it, atomically: a state
	// can be used once. Expired flows are ENOTFOUND.
	ConsumeOAuthFlow(ctx context.Context, stateHash string) (*OAuthFlow, error)

	Link(ctx context.Context, userID int64) (*Link, error)
	// LinkForCall is Link and whether Microsoft 365 is configured and
	// enabled, in one read: every tool call needs both.
	LinkForCall(ctx context.Context, userID int64) (*Link, bool, error)
	// LinkByAccount finds the link to a Microsoft account, by (tid, oid);
	// ECONFLICT when several people linked the same account.
	LinkByAccount(ctx context.Context, tenantID, objectID string) (*Link, error)
	// PutLink creates or replaces the person's link.
	PutLink(ctx context.Context, l *Link) error
	// UpdateLink is a transactional read-modify-write that holds the link
	// against other writers, on every replica, until fn returns: a refresh
	// token is spent at most once.
	UpdateLink(ctx context.Context, userID int64, fn func(l *Link) (*Link, error)) (*Link, error)
	DeleteLink(ctx context.Context, userID int64) error
	// Links lists every link, for the admin's view of their health.
	Links(ctx context.Context) ([]*Link, error)
	// TouchLink records a successful Graph call for the person.
	TouchLink(ctx context.Context, userID int64, at time.Time) error
	// IdleLinks lists people whose working links were last refreshed
	// before the time given, oldest first.
	IdleLinks(ctx context.Context, before time.Time, limit int) ([]int64, error)
	// AcquireLease takes or renews a named lease for holder until ttl from
	// now; false while another holder has it. One replica at a time runs a
	// background job.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// SpendOnce records key as used until the time given, and reports
	// whether it was unused: on every replica, a key is spent once. Keys
	// past their time are forgotten.
	SpendOnce(ctx context.Context, key string, until time.Time) (bool, error)

	CreateDownload(ctx context.Context, d *Download) error
	// ConsumeDownload deletes and returns a download link: it works once.
	// Revoking the token that made a link, or deleting the person's link to
	// Microsoft, deletes it.
	ConsumeDownload(ctx context.Context, tokenHash string) (*Download, error)

	CreateUpload(ctx context.Context, u *Upload) error
	// ConsumeUpload deletes and returns an upload link: it works once.
	ConsumeUpload(ctx context.Context, tokenHash string) (*Upload, error)
	// Upload returns an upload link without spending it.
	Upload(ctx context.Context, tokenHash string) (*Upload, error)
	CreatePendingSend(ctx context.Context, p *PendingSend) error
	// UploadArrived counts one of a pending send's attachments as arrived
	// and returns the send with what remains; the caller that brings it to
	// zero is the only one to see zero, and the send is then gone. It is
	// ENOTFOUND after its time or once the token, grant or link that made
	// it has ended.
	UploadArrived(ctx context.Context, sendID string) (*PendingSend, error)

	// AskApproval stores a (asked) unless an approval with its key is
	// still waiting or decided, and returns whichever is stored.
	AskApproval(ctx context.Context, a *Approval) (*Approval, error)
	// Approval returns the person's approval by its ID (ENOTFOUND for
	// another person's, or after its time).
	Approval(ctx context.Context, userID int64, id string) (*Approval, error)
	// PendingApprovals lists the person's approvals still asked, newest first.
	PendingApprovals(ctx context.Context, userID int64) ([]*Approval, error)
	// DecideApproval records the person's answer to an approval still
	// asked; ENOTFOUND if there is none (decided, expired, another's).
	DecideApproval(ctx context.Context, userID int64, id string, approve bool) error
	// TakeApproval deletes and returns the decided approval with this key:
	// a yes works once. ENOTFOUND when none is decided yet.
	TakeApproval(ctx context.Context, key string) (*Approval, error)

	// SignInSettings returns the admin's rules, DefaultSignInSettings until set.
	SignInSettings(ctx context.Context) (*SignInSettings, error)
	PutSignInSettings(ctx context.Context, s *SignInSettings) error

	// OAuthSettings returns the admin's rules, DefaultOAuthSettings until set.
	OAuthSettings(ctx context.Context) (*OAuthSettings, error)
	PutOAuthSettings(ctx context.Context, s *OAuthSettings) error

	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	// OAuthClient returns a registered client; expired registrations are ENOTFOUND.
	OAuthClient(ctx context.Context, id string) (*OAuthClient, error)

	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// ConsumeAuthCode spends and returns a code, atomically: it works once.
	// A code redeemed a second time is ECONFLICT, and the grant its first
	// redemption made is revoked (RFC 6749 4.1.2), or, if not yet made,
	// cannot be.
	ConsumeAuthCode(ctx context.Context, hash string) (*AuthCode, error)
	// CreateGrant stores a grant with its first tokens, and marks the client's
	// registration as used. With g.FromCode, the grant is tied to its code,
	// and ECONFLICT if that code was redeemed again meanwhile.
	CreateGrant(ctx context.Context, g *Grant, tokens ...*OAuthToken) error
	// RotateRefreshToken spends a refresh token and stores its successors,
	// atomically. A refresh token used a second time revokes its whole grant
	// (it was stolen, or the client is broken) and is EFORBIDDEN, with one
	// exception for a client whose response was lost: within
	// RefreshGrace of its first use, and once, while its successor is
	// unused, the token is rotated again (the unused successor spent
	// instead).
	RotateRefreshToken(ctx context.Context, hash string, next ...*OAuthToken) (*Grant, error)
	// Prune deletes, in bounded batches, what has served its time: expired
	// access tokens, refresh tokens rotated out a day ago, codes an hour
	// past their expiry, expired cursors; it returns how many rows went.
	Prune(ctx context.Context) (int64, error)

	// PutCursor keeps where a listing goes on; putting an id again changes
	// nothing.
	PutCursor(ctx context.Context, c *Cursor) error
	// Cursor returns a live cursor; ENOTFOUND when unknown or expired.
	Cursor(ctx context.Context, id string) (*Cursor, error)
	// OAuthAccessToken returns a live access token's grant.
	OAuthAccessToken(ctx context.Context, hash string) (*Grant, error)
	// RevokeOAuthToken ends a token (RFC 7009): an access token alone; a
	// refresh token with its whole grant. Unknown tokens are not an error.
	RevokeOAuthToken(ctx context.Context, hash string) error
	// Grants lists a person's grants, newest first; userID 0 lists everyone's.
	Grants(ctx context.Context, userID int64) ([]*Grant, error)
	// RevokeGrant ends a grant with its tokens and one-time links; userID 0
	// revokes anyone's (admins).
	RevokeGrant(ctx context.Context, userID, id int64) error
	TouchGrant(ctx context.Context, id int64, at time.Time) error

	CreateAPIToken(ctx context.Context, t *APIToken) error
	APITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	ListAPITokens(ctx context.Context, userID int64) ([]*APIToken, error)
	RevokeAPIToken(ctx context.Context, userID, id int64) error
	// CountAgentTokens counts each person's live agent tokens.
	CountAgentTokens(ctx context.Context) (map[int64]int, error)
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error

	// AddAudit stores events and sets their IDs; all or none.
	AddAudit(ctx context.Context, events ...*AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)

	// Reencrypt rewrites every encrypted value under the newest key and
	// returns how many values it rewrote.
	Reencrypt(ctx context.Context) (int, error)
	// Ready reports whether the database answers and is migrated.
	Ready(ctx context.Context) error
	Close() error
}

// Error codes, mapped to HTTP statuses in one place (the web package).
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
)

// Error is a failure with a code and a message fit to show a person.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("graphgate: %s: %s", e.Code, e.Message) }

// Errorf returns an Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for errors without one.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err fit to show a person; internal
// errors are never shown as they are.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
