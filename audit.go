package graphgate

import (
	"time"
)

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

// Audit actions: what the audit log records, named once for every writer.
const (
	ActionM365Configure = "microsoft365.configure"
	ActionM365Update    = "microsoft365.update"
	ActionM365Rotate    = "microsoft365.rotate_secret"
	ActionM365Enable    = "microsoft365.enable"
	ActionM365Disable   = "microsoft365.disable"
	ActionM365Remove    = "microsoft365.remove"
	ActionM365Attention = "microsoft365.needs_attention"
	ActionLink          = "microsoft365.link"
	ActionUnlink        = "microsoft365.unlink"
	ActionKeepAlive     = "microsoft365.keepalive"
	// Capabilities: the admin turning them on or off, an admin consenting
	// for the organisation, a person granting more.
	ActionCapabilities = "microsoft365.capabilities"
	ActionAdminConsent = "microsoft365.admin_consent"
	ActionGrantMore    = "microsoft365.grant_more"

	ActionUserCreate   = "user.create"
	ActionUserRole     = "user.set_role"
	ActionUserPassword = "user.reset_password"
	ActionUserOnboard  = "user.reset_onboarding"
	ActionUserRemove   = "user.remove"
	ActionAskReconnect = "user.ask_reconnect"

	ActionSignInSettings = "signin.settings"
	ActionSignInCreate   = "signin.create_user"
	ActionSignInRole     = "signin.set_role"

	ActionTokenCreate = "token.create"
	ActionTokenRevoke = "token.revoke"

	ActionToolCall = "mcp.tool_call"
	ActionApproval = "mcp.approval"

	ActionOAuthGrant    = "oauth.grant"
	ActionOAuthRevoke   = "oauth.revoke"
	ActionOAuthSettings = "oauth.settings"
)
