package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"graphgate"
	"graphgate/internal/config"
	"graphgate/internal/microsoft365"
)

// Fields of the sign-in settings form.
const (
	FieldWho        = "who"
	FieldTenants    = "tenants"
	FieldDomains    = "domains"
	FieldAdmins     = "adminEmails"
	FieldAdminRole  = "adminRole"
	FieldBreakGlass = "breakGlass"
)

// SignInWithMicrosoft finds or creates the graphgate person Microsoft signed
// in, by (tid, oid) and never by email alone, under the admin's rules, and
// gives them the role the rules say (admin emails, or an app role).
func (s *Service) SignInWithMicrosoft(ctx context.Context, id *microsoft365.Identity) (*graphgate.User, error) {
	rules, err := s.store.SignInSettings(ctx)
	if err != nil {
		return nil, err
	}
	if !rules.Microsoft {
		return nil, &microsoft365.Problem{Message: "Sign in with Microsoft is turned off. Sign in with your password, or ask your admin."}
	}
	// Only an address Microsoft verified decides rules and roles: an
	// unverified email claim can be any address a tenant admin wrote.
	email := graphgate.NormalizeEmail(id.Email)
	if why := refusal(rules, id, email); why != "" {
		return nil, &microsoft365.Problem{Message: why}
	}
	var u *graphgate.User
	link, err := s.store.LinkByAccount(ctx, id.TenantID, id.ObjectID)
	switch {
	case err == nil:
		if u, err = s.store.UserByID(ctx, link.UserID); err != nil {
			return nil, err
		}
	case graphgate.ErrorCode(err) == graphgate.ECONFLICT:
		return nil, &microsoft365.Problem{Message: "This Microsoft account is linked to more than one graphgate account, so graphgate cannot tell whom to sign in. Ask your admin."}
	case graphgate.ErrorCode(err) != graphgate.ENOTFOUND:
		return nil, err
	case rules.Who == graphgate.SignInExisting:
		return nil, &microsoft365.Problem{Message: "Your admin lets only people who already use graphgate sign in with Microsoft. Ask your admin for an account, sign in with it once and link Microsoft 365; then this works."}
	default:
		if u, err = s.createFromMicrosoft(ctx, id, email); err != nil {
			return nil, err
		}
	}
	return s.applyRole(ctx, rules, u, id, email)
}

// refusal says why the rules keep this account out, or "".
func refusal(rules *graphgate.SignInSettings, id *microsoft365.Identity, email string) string {
	if rules.Who == graphgate.SignInTenants {
		allowed := slices.Contains(rules.Tenants, strings.ToLower(id.TenantID)) || rules.Personal && id.Personal()
		if !allowed {
			if id.Personal() {
				return "Your admin does not let personal Microsoft accounts sign in. Use your work or school account."
			}
			return "Your organisation (tenant " + id.TenantID + ") is not among those your graphgate admin lets sign in. Ask your admin."
		}
	}
	if len(rules.Domains) > 0 {
		_, domain, _ := strings.Cut(email, "@")
		if !slices.Contains(rules.Domains, domain) {
			return "Your admin lets only addresses at " + strings.Join(rules.Domains, ", ") + " sign in; " + email + " is not one of them."
		}
	}
	return ""
}

func (s *Service) createFromMicrosoft(ctx context.Context, id *microsoft365.Identity, email string) (*graphgate.User, error) {
	if at := strings.Index(email, "@"); at < 1 {
		return nil, &microsoft365.Problem{Message: "Microsoft sent no email address for this account, so graphgate cannot create it. Ask your admin."}
	}
	name := id.Name
	if name == "" {
		name = email
	}
	u := &graphgate.User{Email: email, Name: name, Role: graphgate.RoleUser}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if graphgate.ErrorCode(err) == graphgate.ECONFLICT {
			return nil, &microsoft365.Problem{Message: "graphgate already has an account for " + email + ", linked to no Microsoft account or another one. Sign in with its password once and link Microsoft 365; then Sign in with Microsoft works."}
		}
		return nil, err
	}
	return u, s.audit(ctx, nil, graphgate.ActionSignInCreate, u.Email, map[string]string{"tenant": id.TenantID, "oid": id.ObjectID})
}

// applyRole re-evaluates the admin role at each Microsoft sign-in, when the
// rules name admins; the last admin is never demoted.
func (s *Service) applyRole(ctx context.Context, rules *graphgate.SignInSettings, u *graphgate.User, id *microsoft365.Identity, email string) (*graphgate.User, error) {
	if len(rules.AdminEmails) == 0 && rules.AdminRole == "" {
		return u, nil
	}
	want := graphgate.RoleUser
	if slices.Contains(rules.AdminEmails, email) || rules.AdminRole != "" && slices.Contains(id.Roles, rules.AdminRole) {
		want = graphgate.RoleAdmin
	}
	if want == u.Role {
		return u, nil
	}
	if want == graphgate.RoleUser && s.lastAdmin(ctx, u) {
		return u, nil
	}
	old := u.Role
	u, err := s.store.UpdateUser(ctx, u.ID, func(x *graphgate.User) error { x.Role = want; return nil })
	if err != nil {
		return nil, err
	}
	return u, s.audit(ctx, nil, graphgate.ActionSignInRole, u.Email, map[string]string{"role": changed(string(old), string(want))})
}

func (s *Service) lastAdmin(ctx context.Context, u *graphgate.User) bool {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return true
	}
	for _, o := range users {
		if o.ID != u.ID && o.IsAdmin() {
			return false
		}
	}
	return true
}

// SignInForm is the sign-in settings as the console's form sends them.
type SignInForm struct {
	Microsoft, Personal, Passwords                bool
	Who, Tenants, Domains, AdminEmails, AdminRole string
	BreakGlass                                    string
}

// SetSignInSettings checks and saves the rules for signing in.
func (s *Service) SetSignInSettings(ctx context.Context, actor *graphgate.User, authority string, in SignInForm) (*graphgate.SignInSettings, error) {
	if err := mayAdminister(actor); err != nil {
		return nil, err
	}
	errs := graphgate.FieldErrors{}
	st := &graphgate.SignInSettings{Microsoft: in.Microsoft, Who: in.Who, Personal: in.Personal, Passwords: in.Passwords,
		AdminRole: strings.TrimSpace(in.AdminRole)}
	switch in.Who {
	case graphgate.SignInExisting, graphgate.SignInTenants:
	case graphgate.SignInAnyone:
		if authority != "common" {
			errs[FieldWho] = "Anyone can be allowed only with the common authority (GRAPHGATE_M365_AUTHORITY=common)."
		}
	default:
		errs[FieldWho] = "Choose who may sign in with Microsoft."
	}
	for _, t := range splitList(in.Tenants) {
		if !config.IsGUID(t) {
			errs[FieldTenants] = fmt.Sprintf("%q is not a tenant ID (a GUID from the Entra overview).", t)
		}
		st.Tenants = append(st.Tenants, t)
	}
	if in.Who == graphgate.SignInTenants && len(st.Tenants) == 0 && !st.Personal {
		errs[FieldTenants] = "Name at least one tenant, or allow personal accounts."
	}
	for _, d := range splitList(in.Domains) {
		if !hostName.MatchString(d) {
			errs[FieldDomains] = fmt.Sprintf("%q is not an email domain such as contoso.com.", d)
		}
		st.Domains = append(st.Domains, d)
	}
	for _, e := range splitList(in.AdminEmails) {
		if !strings.Contains(e, "@") {
			errs[FieldAdmins] = fmt.Sprintf("%q is not an email address.", e)
		}
		st.AdminEmails = append(st.AdminEmails, graphgate.NormalizeEmail(e))
	}
	if len(st.AdminRole) > 120 || strings.ContainsAny(st.AdminRole, " \t\r\n") {
		errs[FieldAdminRole] = "An app role value has no spaces, such as graphgate.admin."
	}
	for _, e := range splitList(in.BreakGlass) {
		u, err := s.store.UserByEmail(ctx, e)
		if err != nil || !u.IsAdmin() || u.PasswordHash == "" {
			errs[FieldBreakGlass] = fmt.Sprintf("%s is not an admin with a password.", e)
			continue
		}
		st.BreakGlass = append(st.BreakGlass, u.Email)
	}
	if !st.Passwords && len(st.BreakGlass) == 0 && errs[FieldBreakGlass] == "" {
		errs[FieldBreakGlass] = "Name at least one admin who keeps a password (break-glass) before turning passwords off."
	}
	if len(errs) > 0 {
		return nil, &ErrInvalid{errs}
	}
	if err := s.store.PutSignInSettings(ctx, st); err != nil {
		return nil, err
	}
	return st, s.audit(ctx, actor, graphgate.ActionSignInSettings, "signin", map[string]string{"who": st.Who,
		"microsoft": fmt.Sprint(st.Microsoft), "passwords": fmt.Sprint(st.Passwords)})
}

// PasswordAllowed reports whether email may sign in with a password.
func PasswordAllowed(rules *graphgate.SignInSettings, email string) bool {
	return rules.Passwords || slices.Contains(rules.BreakGlass, graphgate.NormalizeEmail(email))
}

func splitList(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}
