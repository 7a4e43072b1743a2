// Package admin holds what an admin can change: the Microsoft 365
// integration and the people who use graphgate. The web pages and the JSON
// API both call it, so both validate alike and every change is audited.
package admin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/microsoft365"
	"graphgate/internal/password"
)

// Service performs admin changes and writes the audit log.
type Service struct {
	store graphgate.Store
	now   func() time.Time
}

// New returns a Service; now may be nil.
func New(store graphgate.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Actions lists every audit action, for the log's filter.
var Actions = []string{graphgate.ActionM365Configure, graphgate.ActionM365Update, graphgate.ActionM365Rotate, graphgate.ActionM365Enable, graphgate.ActionM365Disable,
	graphgate.ActionM365Remove, graphgate.ActionM365Attention, graphgate.ActionUserCreate, graphgate.ActionUserRole, graphgate.ActionUserPassword, graphgate.ActionUserOnboard,
	graphgate.ActionUserRemove, graphgate.ActionLink, graphgate.ActionUnlink, graphgate.ActionTokenCreate, graphgate.ActionTokenRevoke, graphgate.ActionToolCall, graphgate.ActionOAuthGrant, graphgate.ActionOAuthRevoke, graphgate.ActionOAuthSettings,
	graphgate.ActionSignInSettings, graphgate.ActionSignInCreate, graphgate.ActionSignInRole, graphgate.ActionKeepAlive, graphgate.ActionAskReconnect}

// FieldClientHosts is the client hosts field of the OAuth settings.
const FieldClientHosts = "clientHosts"

var hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// SetOAuthSettings changes the rules for MCP clients: whether they may
// register themselves, and the hosts whose client metadata is accepted
// (comma, space or line separated; empty: any public host).
func (s *Service) SetOAuthSettings(ctx context.Context, actor *graphgate.User, registration bool, hosts string) (*graphgate.OAuthSettings, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	st := &graphgate.OAuthSettings{Registration: registration}
	for _, h := range strings.FieldsFunc(strings.ToLower(hosts), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if !hostName.MatchString(h) || len(h) > 253 {
			return nil, &ErrInvalid{graphgate.FieldErrors{FieldClientHosts: fmt.Sprintf("%q is not a host name: give names such as claude.ai, without https:// or a path.", h)}}
		}
		if !slices.Contains(st.ClientHosts, h) {
			st.ClientHosts = append(st.ClientHosts, h)
		}
	}
	if len(st.ClientHosts) > 100 {
		return nil, &ErrInvalid{graphgate.FieldErrors{FieldClientHosts: "List at most 100 hosts."}}
	}
	if err := s.store.PutOAuthSettings(ctx, st); err != nil {
		return nil, err
	}
	details := map[string]string{"registration": strconv.FormatBool(registration), "client_hosts": strings.Join(st.ClientHosts, ",")}
	return st, s.audit(ctx, actor, graphgate.ActionOAuthSettings, "oauth", details)
}

// Record writes an audit entry for a change made outside this service (a
// consent, a revoked grant); actor nil is graphgate itself.
// mayAdminister refuses a person who is not an admin. The web layer checks
// first; this keeps a route wired to the wrong check by mistake from
// changing anything. A nil actor is graphgate itself (the command line,
// the first admin).
func mayAdminister(actor *graphgate.User) error {
	if actor != nil && !actor.IsAdmin() {
		return graphgate.Errorf(graphgate.EFORBIDDEN, "Only admins can do this.")
	}
	return nil
}

func (s *Service) Record(ctx context.Context, actor *graphgate.User, action, target string, details map[string]string) error {
	return s.audit(ctx, actor, action, target, details)
}

func (s *Service) audit(ctx context.Context, actor *graphgate.User, action, target string, details map[string]string) error {
	e := &graphgate.AuditEvent{At: s.now().UTC(), Action: action, Target: target, Details: details}
	if actor != nil {
		e.ActorID, e.ActorEmail = actor.ID, actor.Email
	} else {
		e.ActorEmail = "graphgate"
	}
	return s.store.AddAudit(ctx, e)
}

// ErrInvalid carries field errors out of a store transaction.
type ErrInvalid struct{ Fields graphgate.FieldErrors }

func (e *ErrInvalid) Error() string { return "invalid input" }

// FieldErrorsOf returns the field errors in err, if any.
func FieldErrorsOf(err error) graphgate.FieldErrors {
	var inv *ErrInvalid
	if errors.As(err, &inv) {
		return inv.Fields
	}
	return nil
}

// ConfigureM365 creates or edits the integration. A blank secret keeps the
// current one when there is one. Changing the client ID or the secret clears
// a "needs attention" state: the admin has acted on it.
func (s *Service) ConfigureM365(ctx context.Context, actor *graphgate.User, in microsoft365.Setup) (*graphgate.M365Config, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	var action string
	details := map[string]string{}
	cfg, err := s.store.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		expires, errs := in.Validate(cur == nil, s.now())
		if errs != nil {
			return nil, &ErrInvalid{errs}
		}
		now := s.now().UTC()
		next := &graphgate.M365Config{Enabled: true}
		action = graphgate.ActionM365Configure
		if cur != nil {
			c := *cur
			next = &c
			action = graphgate.ActionM365Update
		}
		if next.ClientID != in.ClientID {
			details["clientId"] = changed(next.ClientID, in.ClientID)
			next.ClientID = in.ClientID
			next.Attention, next.AttentionAt = "", time.Time{}
		}
		if next.RedirectURI != in.RedirectURI {
			details["redirectUri"] = changed(next.RedirectURI, in.RedirectURI)
			next.RedirectURI = in.RedirectURI
		}
		if in.ClientSecret != "" && in.ClientSecret != next.ClientSecret {
			details["clientSecret"] = "replaced (" + graphgate.SecretHintOf(in.ClientSecret) + ")"
			next.ClientSecret, next.SecretHint, next.SecretSetAt = in.ClientSecret, graphgate.SecretHintOf(in.ClientSecret), now
			next.Attention, next.AttentionAt = "", time.Time{}
		}
		if in.SecretExpires != "" || in.ClientSecret != "" {
			if !next.SecretExpiresAt.Equal(expires) {
				details["secretExpiresAt"] = changed(day(next.SecretExpiresAt), day(expires))
			}
			next.SecretExpiresAt = expires
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	if len(details) > 0 || action == graphgate.ActionM365Configure {
		if err := s.audit(ctx, actor, action, "microsoft365", details); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// RotateM365Secret replaces the client secret (and its expiry). The next
// token request on any replica uses it: nothing caches the secret.
func (s *Service) RotateM365Secret(ctx context.Context, actor *graphgate.User, secret, expiresOn string) (*graphgate.M365Config, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	cfg, err := s.store.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		if cur == nil {
			return nil, graphgate.Errorf(graphgate.ENOTFOUND, "Microsoft 365 is not configured yet.")
		}
		in := microsoft365.Setup{ClientID: cur.ClientID, RedirectURI: cur.RedirectURI, ClientSecret: secret, SecretExpires: expiresOn}
		expires, errs := in.Validate(true, s.now())
		if errs != nil {
			return nil, &ErrInvalid{errs}
		}
		if in.ClientSecret == cur.ClientSecret {
			return nil, &ErrInvalid{graphgate.FieldErrors{microsoft365.FieldClientSecret: "This is the secret already in use: paste the new one."}}
		}
		next := *cur
		next.ClientSecret, next.SecretHint, next.SecretSetAt = in.ClientSecret, graphgate.SecretHintOf(in.ClientSecret), s.now().UTC()
		next.SecretExpiresAt = expires
		next.Attention, next.AttentionAt = "", time.Time{}
		return &next, nil
	})
	if err != nil {
		return nil, err
	}
	return cfg, s.audit(ctx, actor, graphgate.ActionM365Rotate, "microsoft365", map[string]string{
		"clientSecret": "replaced (" + cfg.SecretHint + ")", "secretExpiresAt": day(cfg.SecretExpiresAt)})
}

// SetM365Enabled enables or disables the integration.
func (s *Service) SetM365Enabled(ctx context.Context, actor *graphgate.User, enabled bool) (*graphgate.M365Config, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	cfg, err := s.store.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		if cur == nil {
			return nil, graphgate.Errorf(graphgate.ENOTFOUND, "Microsoft 365 is not configured yet.")
		}
		next := *cur
		next.Enabled = enabled
		return &next, nil
	})
	if err != nil {
		return nil, err
	}
	action := graphgate.ActionM365Disable
	if enabled {
		action = graphgate.ActionM365Enable
	}
	return cfg, s.audit(ctx, actor, action, "microsoft365", nil)
}

// RemoveM365 deletes the integration and every linked account.
func (s *Service) RemoveM365(ctx context.Context, actor *graphgate.User) (int, error) {
	if err := mayAdminister(actor); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteM365Config(ctx)
	if err != nil {
		return 0, err
	}
	return n, s.audit(ctx, actor, graphgate.ActionM365Remove, "microsoft365", map[string]string{"linkedAccountsDeleted": itoa(n)})
}

// MarkM365Attention records that Microsoft refused the app's credentials
// (AADSTS7000215 invalid secret, AADSTS7000222 expired secret), so the
// console shows why the integration needs the admin.
func (s *Service) MarkM365Attention(ctx context.Context, reason string) error {
	_, err := s.store.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		if cur == nil {
			return nil, graphgate.Errorf(graphgate.ENOTFOUND, "Microsoft 365 is not configured.")
		}
		next := *cur
		next.Attention, next.AttentionAt = reason, s.now().UTC()
		return &next, nil
	})
	if err != nil {
		return err
	}
	return s.audit(ctx, nil, graphgate.ActionM365Attention, "microsoft365", map[string]string{"reason": reason})
}

// NewUser is what creating a user takes.
type NewUser struct {
	Email, Name, Password string
	Role                  graphgate.Role
}

// Field names for user forms.
const (
	FieldEmail    = "email"
	FieldName     = "name"
	FieldPassword = "password"
	FieldRole     = "role"
)

// CreateUser adds a person.
func (s *Service) CreateUser(ctx context.Context, actor *graphgate.User, in NewUser) (*graphgate.User, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	errs := graphgate.FieldErrors{}
	in.Email = graphgate.NormalizeEmail(in.Email)
	if at := strings.Index(in.Email, "@"); at < 1 || at == len(in.Email)-1 || strings.ContainsAny(in.Email, " <>\"") {
		errs[FieldEmail] = "Give an email address such as alex@example.com."
	}
	if msg := password.Check(in.Password); msg != "" {
		errs[FieldPassword] = msg
	}
	if !in.Role.Valid() {
		errs[FieldRole] = "Choose admin or user."
	}
	if len(in.Name) > 200 {
		errs[FieldName] = "Use at most 200 characters."
	}
	if len(errs) > 0 {
		return nil, &ErrInvalid{errs}
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	u := &graphgate.User{Email: in.Email, Name: strings.TrimSpace(in.Name), Role: in.Role, PasswordHash: hash}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if graphgate.ErrorCode(err) == graphgate.ECONFLICT {
			return nil, &ErrInvalid{graphgate.FieldErrors{FieldEmail: "Someone already uses this email."}}
		}
		return nil, err
	}
	return u, s.audit(ctx, actor, graphgate.ActionUserCreate, u.Email, map[string]string{"role": string(u.Role)})
}

// EnsureFirstAdmin creates the bootstrap admin when the store has no users.
func (s *Service) EnsureFirstAdmin(ctx context.Context, email, pw string) (*graphgate.User, bool, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, false, err
	}
	u, err := s.CreateUser(ctx, nil, NewUser{Email: email, Password: pw, Role: graphgate.RoleAdmin})
	if err != nil {
		if fe := FieldErrorsOf(err); fe != nil {
			return nil, false, graphgate.Errorf(graphgate.EINVALID, "GRAPHGATE_ADMIN_EMAIL/GRAPHGATE_ADMIN_PASSWORD: %s", joinFields(fe))
		}
		return nil, false, err
	}
	return u, true, nil
}

// SetRole changes a person's role. Nobody can demote themselves, so the
// console always keeps at least one admin.
func (s *Service) SetRole(ctx context.Context, actor *graphgate.User, id int64, role graphgate.Role) (*graphgate.User, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, &ErrInvalid{graphgate.FieldErrors{FieldRole: "Choose admin or user."}}
	}
	if actor != nil && actor.ID == id && role != graphgate.RoleAdmin {
		return nil, graphgate.Errorf(graphgate.EINVALID, "You cannot remove your own admin role; ask another admin.")
	}
	var old graphgate.Role
	u, err := s.store.UpdateUser(ctx, id, func(u *graphgate.User) error {
		old, u.Role = u.Role, role
		return nil
	})
	if err != nil || old == role {
		return u, err
	}
	if role != graphgate.RoleAdmin {
		// Their sessions carry the old role's pages: end them.
		if err := s.store.DeleteUserSessions(ctx, id); err != nil {
			return nil, err
		}
	}
	return u, s.audit(ctx, actor, graphgate.ActionUserRole, u.Email, map[string]string{"role": changed(string(old), string(role))})
}

// ResetPassword sets a new password and ends every session of the person.
func (s *Service) ResetPassword(ctx context.Context, actor *graphgate.User, id int64, pw string) (*graphgate.User, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	if msg := password.Check(pw); msg != "" {
		return nil, &ErrInvalid{graphgate.FieldErrors{FieldPassword: msg}}
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, id, func(u *graphgate.User) error { u.PasswordHash = hash; return nil })
	if err != nil {
		return nil, err
	}
	// Every session ends, the actor's own included: whoever knew the old
	// password may be signed in elsewhere. The web handler signs the actor
	// in again on the browser they used.
	if err := s.store.DeleteUserSessions(ctx, id); err != nil {
		return nil, err
	}
	return u, s.audit(ctx, actor, graphgate.ActionUserPassword, u.Email, nil)
}

// AskToReconnect shows the person a banner asking them to link their
// Microsoft account again, until they do.
func (s *Service) AskToReconnect(ctx context.Context, actor *graphgate.User, id int64) (*graphgate.User, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, id, func(u *graphgate.User) error { u.ReconnectAskedAt = s.now().UTC(); return nil })
	if err != nil {
		return nil, err
	}
	return u, s.audit(ctx, actor, graphgate.ActionAskReconnect, u.Email, nil)
}

// Reconnected clears a request to reconnect, once the person linked.
func (s *Service) Reconnected(ctx context.Context, id int64) error {
	_, err := s.store.UpdateUser(ctx, id, func(u *graphgate.User) error { u.ReconnectAskedAt = time.Time{}; return nil })
	return err
}

// ResetOnboarding shows the person the onboarding flow again at next sign-in.
func (s *Service) ResetOnboarding(ctx context.Context, actor *graphgate.User, id int64) (*graphgate.User, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, id, func(u *graphgate.User) error { u.OnboardedAt = time.Time{}; return nil })
	if err != nil {
		return nil, err
	}
	return u, s.audit(ctx, actor, graphgate.ActionUserOnboard, u.Email, nil)
}

// FinishOnboarding records that a person completed or skipped onboarding.
func (s *Service) FinishOnboarding(ctx context.Context, id int64) error {
	_, err := s.store.UpdateUser(ctx, id, func(u *graphgate.User) error {
		if u.OnboardedAt.IsZero() {
			u.OnboardedAt = s.now().UTC()
		}
		return nil
	})
	return err
}

// RemoveUser deletes a person, their sessions, tokens and link.
func (s *Service) RemoveUser(ctx context.Context, actor *graphgate.User, id int64) error {
	if err := mayAdminister(actor); err != nil {
		return err
	}
	if actor != nil && actor.ID == id {
		return graphgate.Errorf(graphgate.EINVALID, "You cannot remove yourself; ask another admin.")
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	return s.audit(ctx, actor, graphgate.ActionUserRemove, u.Email, nil)
}

func changed(from, to string) string {
	if from == "" {
		from = "(none)"
	}
	if to == "" {
		to = "(none)"
	}
	return from + " → " + to
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func itoa(n int) string { return strconv.Itoa(n) }

func joinFields(fe graphgate.FieldErrors) string {
	var parts []string
	for k, v := range fe {
		parts = append(parts, k+": "+v)
	}
	return strings.Join(parts, "; ")
}
