package graphgate

import (
	"slices"
	"time"
)

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
	// Capabilities are the capabilities the admin turned on, by name.
	Capabilities []string
	// AdminConsent is Microsoft's last answer to an admin consenting for
	// the organisation; nil until one did.
	AdminConsent *AdminConsent
	UpdatedAt    time.Time
}

// CapabilityOn reports whether the admin turned the capability on.
func (c *M365Config) CapabilityOn(name string) bool {
	return c != nil && slices.Contains(c.Capabilities, name)
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
	// Granted are the delegated permissions Microsoft said this link has
	// (the scope of its last token response): what its tools may do.
	Granted []string
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
	// FlowGrantMore asks a linked person for the permissions of the
	// capabilities on that they have not granted (incremental consent).
	FlowGrantMore = "grant-more"
	// FlowAdminConsent is an admin consenting for their organisation.
	FlowAdminConsent = "admin-consent"
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
