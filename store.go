package graphgate

import (
	"context"
	"time"
)

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
	// Reach is the capabilities on and what the person's link was
	// granted, in one read (empty when not configured or not linked).
	Reach(ctx context.Context, userID int64) (*Reach, error)
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

	// RememberClient records what an MCP client declared when it
	// connected, under the access it uses (MCPClient.Access).
	RememberClient(ctx context.Context, c *MCPClient) error
	// MCPClient is what the client of an access declared last; ENOTFOUND
	// when none has.
	MCPClient(ctx context.Context, access string) (*MCPClient, error)

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
