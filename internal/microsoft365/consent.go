package microsoft365

import (
	"context"
	"net/url"
	"strings"

	"graphgate"
	"graphgate/internal/apitoken"
)

// ErrNothingMore: the person already has every permission of the
// capabilities on.
var ErrNothingMore = problem("You already allowed everything your admin turned on.")

// StartMore asks Microsoft for the permissions of the capabilities on that
// the person's link lacks (incremental consent: Microsoft's page lists only
// those), but for the ones only an admin may grant. The whole asked set is
// sent, as Microsoft expects; the account is hinted so that the person
// does not pick another one by mistake.
func (l *Linker) StartMore(ctx context.Context, userID int64) (string, error) {
	cfg, err := l.activeConfig(ctx)
	if err != nil {
		return "", err
	}
	link, err := l.store.Link(ctx, userID)
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		return "", problem("Link your Microsoft account first.")
	}
	if err != nil {
		return "", err
	}
	wanted := graphgate.AskedPermissions(cfg.Capabilities, link.Personal)
	if len(graphgate.Missing(wanted, link.Granted)) == 0 {
		return "", ErrNothingMore
	}
	domain := "organizations"
	if link.Personal {
		domain = "consumers"
	}
	target, _, err := l.startFlow(ctx, cfg, graphgate.FlowGrantMore, userID, wanted, "login_hint", link.Username, "domain_hint", domain)
	return target, err
}

// workOnlyPending is, after a link of a work or school account, where to
// ask for the permissions of the capabilities on that only such accounts
// have ("" when there are none): they could not be in the first request.
func (l *Linker) workOnlyPending(ctx context.Context, link *graphgate.Link) string {
	if link.Personal {
		return ""
	}
	cfg, err := l.store.M365Config(ctx)
	if err != nil || len(graphgate.Missing(graphgate.AskedPermissions(cfg.Capabilities, false), link.Granted)) == 0 {
		return ""
	}
	target, err := l.StartMore(ctx, link.UserID)
	if err != nil {
		return ""
	}
	return target
}

// grantedMore keeps what an incremental consent brought: the same account
// only, with its new tokens and permissions.
func (l *Linker) grantedMore(ctx context.Context, out *outcome) (*outcome, error) {
	got := out.Link
	var before []string
	link, err := l.store.UpdateLink(ctx, got.UserID, func(cur *graphgate.Link) (*graphgate.Link, error) {
		if !strings.EqualFold(cur.TenantID, got.TenantID) || cur.ObjectID != got.ObjectID {
			return nil, problem("You signed in to Microsoft as " + PlainText(got.Username, 200) + ", but your linked account is " +
				cur.Username + ". Nothing changed; allow the new permissions with your linked account.")
		}
		before = cur.Granted
		cur.RefreshToken, cur.AccessToken, cur.AccessExpiresAt = got.RefreshToken, got.AccessToken, got.AccessExpiresAt
		if got.Granted != nil {
			cur.Granted = got.Granted
		}
		// Fresh tokens: whatever had broken the link is mended.
		cur.Reason = ""
		return cur, nil
	})
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		return nil, problem("Your Microsoft account was unlinked meanwhile. Click Link Account.")
	}
	if err != nil {
		return nil, err
	}
	out.Link, out.Added = link, graphgate.Missing(link.Granted, before)
	return out, nil
}

// GrantMoreProblem explains an error Microsoft sent back when a person was
// asked for more permissions: their link stays as it was. After "Need
// admin approval", Microsoft sends access_denied with error_subcode cancel;
// a plain Cancel on the consent page has no subcode.
func GrantMoreProblem(code, subcode, desc string) string {
	switch n := AADSTSOf(desc); {
	case n == 90094 || n == 90093 || n == 90095 || code == "access_denied" && subcode == "cancel":
		return "Your organisation lets only an admin grant these permissions. Your link works as before; ask your admin to grant them for everyone (MCP Servers tab, Grant for my organisation)."
	case code == "access_denied":
		return "You declined the new permissions. Your link works as before; allow them on your Microsoft 365 tile whenever you like."
	case code == "invalid_scope":
		return "Microsoft does not offer these permissions to this kind of account. Your link works as before."
	}
	return "Microsoft did not grant the new permissions: " + AuthorizeProblem(code, desc) + " Your link works as before."
}

// StartAdminConsent sends an admin to Microsoft's admin consent for their
// organisation: every permission of the base set and of the capabilities
// on, for everyone. The tenant is the admin's own linked work account's
// when there is one (Microsoft prefers its id), else the configured one;
// never common, which Microsoft refuses.
func (l *Linker) StartAdminConsent(ctx context.Context, admin *graphgate.User) (string, error) {
	cfg, err := l.activeConfig(ctx)
	if err != nil {
		return "", err
	}
	tenant := l.client.authority
	switch {
	case tenant == "consumers":
		return "", problem("graphgate accepts only personal Microsoft accounts, which have no organisation to consent for.")
	case tenant == "common" || tenant == "organizations":
		tenant = "organizations"
		if link, err := l.store.Link(ctx, admin.ID); err == nil && !link.Personal {
			tenant = link.TenantID
		}
	}
	state := apitoken.Random()
	now := l.now().UTC()
	if err := l.store.CreateOAuthFlow(ctx, &graphgate.OAuthFlow{StateHash: apitoken.Hash(state), Purpose: graphgate.FlowAdminConsent,
		UserID: admin.ID, CreatedAt: now, ExpiresAt: now.Add(FlowTTL)}); err != nil {
		return "", err
	}
	var scopes []string
	for _, p := range graphgate.WantedPermissions(cfg.Capabilities, false) {
		if p != "offline_access" && p != "email" {
			if strings.Contains(p, ".") {
				p = graphResource + p
			}
			scopes = append(scopes, p)
		}
	}
	q := url.Values{"client_id": {cfg.ClientID}, "scope": {strings.Join(scopes, " ")}, "redirect_uri": {cfg.RedirectURI}, "state": {state}}
	return l.client.loginURL + "/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + q.Encode(), nil
}

// adminConsentAnswer reads Microsoft's answer to an admin consent. The
// tenant it names is shown, never trusted: anyone can forge it.
func adminConsentAnswer(q url.Values) *graphgate.AdminConsent {
	a := &graphgate.AdminConsent{Tenant: PlainText(q.Get("tenant"), 64)}
	switch {
	case q.Get("error") != "":
		a.Error = adminConsentProblem(q.Get("error"), q.Get("error_description"))
	case strings.EqualFold(q.Get("admin_consent"), "true"):
		a.Granted = true
	default:
		a.Error = "Microsoft's answer said nothing was granted."
	}
	return a
}

func adminConsentProblem(code, desc string) string {
	switch n := AADSTSOf(desc); {
	case n == 65004 || code == "access_denied" && n == 0:
		return "The admin consent was cancelled; nothing was granted."
	case n == 50020:
		return "That account is not in the organisation's directory; sign in with an admin of it."
	case code == "consent_required" || n == 90094 || n == 90093:
		return "That account may not grant consent for the organisation; sign in as a Global, Application or Cloud Application Administrator."
	}
	if line := PlainText(FirstLine(desc), 300); line != "" {
		return "Microsoft did not grant the permissions: " + line
	}
	return "Microsoft did not grant the permissions (" + PlainText(code, 64) + ")."
}
