package microsoft365

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/apitoken"
)

// FlowTTL is how long a sign-in at Microsoft may take.
const FlowTTL = 10 * time.Minute

// Linker links people's Microsoft accounts and signs them in with
// Microsoft: Start and StartSignIn store a pending sign-in and return where
// to send the browser; Finish checks Microsoft's answer and does what it
// asks (a link stored, a person signed in). Pages only turn its results
// into cookies, messages and redirects.
type Linker struct {
	store  graphgate.Store
	client *Client
	people People
	now    func() time.Time
}

// People is what linking needs of graphgate's own accounts and rules (the
// admin service): who a Microsoft sign-in is, under the admin's rules;
// clearing a request to reconnect; the audit log; and the mark on the
// integration when Microsoft refuses graphgate's own credentials.
type People interface {
	AttentionMarker
	// SignInWithMicrosoft finds or creates the person; a refusal is a *Problem.
	SignInWithMicrosoft(ctx context.Context, id *Identity) (*graphgate.User, error)
	Reconnected(ctx context.Context, userID int64) error
	Record(ctx context.Context, actor *graphgate.User, action, target string, details map[string]string) error
}

// NewLinker returns a linker.
func NewLinker(store graphgate.Store, client *Client, people People, now func() time.Time) *Linker {
	if now == nil {
		now = time.Now
	}
	return &Linker{store: store, client: client, people: people, now: now}
}

// Problem is why a link did not happen, in words for the person. Nothing
// was stored.
type Problem struct{ Message string }

func (p *Problem) Error() string { return p.Message }

func problem(msg string) error { return &Problem{msg} }

// Start begins linking for the signed-in person.
func (l *Linker) Start(ctx context.Context, userID int64) (string, error) {
	target, _, err := l.start(ctx, graphgate.FlowLink, userID)
	return target, err
}

// StartSignIn begins a sign-in to graphgate with Microsoft; with link it
// also asks for every scope, so that one consent signs in and links. It
// returns the state too: the caller binds it to the browser, so that
// nobody can send someone else Microsoft's answer for their own account.
func (l *Linker) StartSignIn(ctx context.Context, link bool) (target, state string, err error) {
	purpose := graphgate.FlowSignIn
	if link {
		purpose = graphgate.FlowSignInLink
	}
	return l.start(ctx, purpose, 0)
}

// start stores a pending flow (state hashed, PKCE verifier sealed, nonce,
// FlowTTL) and returns where to send the browser. A first link asks for
// the base set and every permission of the capabilities on that every
// kind of account has: until Microsoft says which kind it is, one a
// personal account lacks would fail the whole request.
func (l *Linker) start(ctx context.Context, purpose string, userID int64) (string, string, error) {
	cfg, err := l.activeConfig(ctx)
	if err != nil {
		return "", "", err
	}
	scopes := graphgate.AskedPermissions(cfg.Capabilities, true)
	if purpose == graphgate.FlowSignIn {
		scopes = SignInScopes
	}
	return l.startFlow(ctx, cfg, purpose, userID, scopes)
}

// activeConfig is the integration, when people can link.
func (l *Linker) activeConfig(ctx context.Context) (*graphgate.M365Config, error) {
	cfg, err := l.store.M365Config(ctx)
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND || err == nil && cfg.Status() != graphgate.StatusActive {
		return nil, problem("Microsoft 365 is not available right now. Ask your admin.")
	}
	return cfg, err
}

// startFlow stores the pending flow and returns where to send the browser
// for it, and its state.
func (l *Linker) startFlow(ctx context.Context, cfg *graphgate.M365Config, purpose string, userID int64, scopes []string, hints ...string) (string, string, error) {
	state, verifier, nonce := apitoken.Random(), oauth2.GenerateVerifier(), apitoken.Random()
	now := l.now().UTC()
	if err := l.store.CreateOAuthFlow(ctx, &graphgate.OAuthFlow{StateHash: apitoken.Hash(state), Purpose: purpose, UserID: userID,
		Verifier: verifier, Nonce: nonce, CreatedAt: now, ExpiresAt: now.Add(FlowTTL)}); err != nil {
		return "", "", err
	}
	return l.client.AuthCodeURLFor(cfg, scopes, state, verifier, nonce, hints...), state, nil
}

// outcome is what Microsoft's answer brought: who signed in, and for a
// link or a sign-in that links, the grant to keep.
type outcome struct {
	Purpose  string
	Identity *Identity
	// Link is stored for FlowLink and FlowGrantMore; for a sign-in that
	// links it is made and filled in once the person is known.
	Link *graphgate.Link
	// Added are the permissions a FlowGrantMore added.
	Added []string
	// AdminConsent is Microsoft's answer to a FlowAdminConsent.
	AdminConsent *graphgate.AdminConsent
}

// complete finishes linking from Microsoft's answer (the callback's query)
// for the signed-in person: the state works once and only for the person
// who started it; the code is redeemed with the verifier; the id_token is
// verified. Failures are a *Problem, or an error of graphgate's own.
func (l *Linker) complete(ctx context.Context, userID int64, q url.Values) (*outcome, error) {
	state := q.Get("state")
	if state == "" || len(state) > 200 {
		return nil, problem("That sign-in answer is not valid. Click Link Account to try again.")
	}
	flow, err := l.store.ConsumeOAuthFlow(ctx, apitoken.Hash(state))
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return nil, problem("That sign-in has expired or was already used. Click Link Account to start again.")
	case err != nil:
		return nil, err
	case flow.UserID != 0 && flow.UserID != userID:
		return nil, problem("That sign-in was started by another graphgate account. Click Link Account to link your own.")
	case flow.Purpose == graphgate.FlowAdminConsent:
		return &outcome{Purpose: flow.Purpose, AdminConsent: adminConsentAnswer(q)}, nil
	case q.Get("error") != "" && flow.Purpose == graphgate.FlowGrantMore:
		return nil, problem(GrantMoreProblem(q.Get("error"), q.Get("error_subcode"), q.Get("error_description")))
	case q.Get("error") != "":
		return nil, problem(AuthorizeProblem(q.Get("error"), q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return nil, problem("Microsoft's answer carried no authorization code. Click Link Account to try again.")
	}
	cfg, err := l.store.M365Config(ctx)
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND || err == nil && (cfg.Status() == graphgate.StatusDisabled) {
		return nil, problem("Your admin turned Microsoft 365 off while you were signing in. Nothing was linked.")
	}
	if err != nil {
		return nil, err
	}
	grant, err := l.client.Exchange(ctx, cfg, code, flow.Verifier)
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) && ae.Code == "invalid_client" {
			if l.people != nil {
				_ = l.people.MarkM365Attention(ctx, AppProblem(ae.AADSTS, ae.Description))
			}
			return nil, problem("Microsoft refused graphgate's own credentials, so nothing was linked. Your admin has been told; try again later.")
		}
		return nil, &Problem{redeemProblem(err)}
	}
	id, err := l.client.VerifyIDToken(ctx, cfg.ClientID, grant.IDToken, flow.Nonce)
	if err != nil {
		return nil, problem("Microsoft's answer could not be verified, so nothing was linked. Click Link Account to try again.")
	}
	name := id.Name
	if name == "" {
		name = id.Username
	}
	out := &outcome{Purpose: flow.Purpose, Identity: id}
	if flow.Purpose == graphgate.FlowSignIn {
		return out, nil
	}
	if grant.RefreshToken == "" {
		return nil, problem("Microsoft gave no lasting access (offline_access was not granted), so nothing was linked. Click Link Account and Accept every permission.")
	}
	out.Link = &graphgate.Link{UserID: flow.UserID, TenantID: id.TenantID, ObjectID: id.ObjectID, Username: id.Username,
		DisplayName: name, Personal: id.Personal(), RefreshToken: grant.RefreshToken, AccessToken: grant.AccessToken,
		AccessExpiresAt: grant.Expiry, Granted: grant.Scopes, LinkedAt: l.now().UTC()}
	if flow.Purpose == graphgate.FlowGrantMore {
		return l.grantedMore(ctx, out)
	}
	if flow.Purpose == graphgate.FlowLink {
		if err := l.store.PutLink(ctx, out.Link); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unlink deletes the person's link, and with it their OAuth grants and
// one-time links: agents lose access at once. It returns what was removed.
func (l *Linker) Unlink(ctx context.Context, userID int64) (*graphgate.Link, error) {
	link, err := l.store.Link(ctx, userID)
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		return nil, problem("No Microsoft account is linked.")
	}
	if err != nil {
		return nil, err
	}
	if err := l.store.DeleteLink(ctx, userID); err != nil {
		return nil, err
	}
	return link, nil
}

// Callback is Microsoft's answer as the browser brought it back.
type Callback struct {
	// SignedIn is the person signed in to graphgate in that browser, if any.
	SignedIn *graphgate.User
	// Started is the state of the sign-in this browser started (its
	// cookie), "" when none: a sign-in must come back where it started.
	Started string
	Query   url.Values
}

// Finished is what a callback achieved.
type Finished struct {
	SignIn bool            // a sign-in to graphgate (else a link for the signed-in person)
	User   *graphgate.User // who was linked, or signed in
	Link   *graphgate.Link // the link stored, if any
	// LinkNext is, for a person signed in but not linked (a browser that
	// linked someone before asks only who it is), where to send the browser
	// to link now; after a link of a work account, where to ask for the
	// permissions only work accounts have.
	LinkNext string
	// More: an incremental consent, which added the permissions Added.
	More  bool
	Added []string
	// AdminConsent is Microsoft's answer to an admin consenting for the
	// organisation (recorded on the integration and audited).
	AdminConsent *graphgate.AdminConsent
}

// Finish does what Microsoft's answer asks: for a link, the link is stored
// for the signed-in person; for a sign-in, which must come back to the
// browser that started it, the person is found or created under the
// admin's rules, and the link it brought stored. Either clears a request
// to reconnect and is audited. Failures are a *Problem (in words for the
// person; nothing was stored), or an error of graphgate's own.
func (l *Linker) Finish(ctx context.Context, cb Callback) (*Finished, error) {
	var userID int64
	if cb.SignedIn != nil {
		userID = cb.SignedIn.ID
	}
	out, err := l.complete(ctx, userID, cb.Query)
	if err != nil {
		return nil, err
	}
	done := &Finished{SignIn: out.Purpose == graphgate.FlowSignIn || out.Purpose == graphgate.FlowSignInLink, Link: out.Link,
		User: cb.SignedIn, More: out.Purpose == graphgate.FlowGrantMore, Added: out.Added}
	switch out.Purpose {
	case graphgate.FlowAdminConsent:
		return done, l.recordAdminConsent(ctx, cb.SignedIn, out.AdminConsent, done)
	case graphgate.FlowGrantMore:
		_ = l.people.Record(ctx, done.User, graphgate.ActionGrantMore, done.User.Email,
			map[string]string{"account": done.Link.Username, "added": strings.Join(out.Added, " ")})
		return done, nil
	}
	if done.SignIn {
		if cb.Started == "" || subtle.ConstantTimeCompare([]byte(cb.Started), []byte(cb.Query.Get("state"))) != 1 {
			return nil, problem("That sign-in was started in another browser. Click Sign in with Microsoft here.")
		}
		if done.User, err = l.people.SignInWithMicrosoft(ctx, out.Identity); err != nil {
			return nil, err
		}
		if out.Link != nil {
			out.Link.UserID = done.User.ID
			if err := l.store.PutLink(ctx, out.Link); err != nil {
				return nil, err
			}
		}
	}
	if done.Link != nil {
		// The person linked again: an admin's request to reconnect is met.
		// It is only a banner: the link stands if clearing it fails.
		_ = l.people.Reconnected(ctx, done.User.ID)
		_ = l.people.Record(ctx, done.User, graphgate.ActionLink, done.User.Email,
			map[string]string{"account": done.Link.Username, "tenant": done.Link.TenantID})
	}
	if done.Link != nil {
		done.LinkNext = l.workOnlyPending(ctx, done.Link)
	}
	if done.SignIn && done.LinkNext == "" {
		if link, err := l.store.Link(ctx, done.User.ID); err != nil || link.NeedsAttention() {
			if target, err := l.Start(ctx, done.User.ID); err == nil {
				done.LinkNext = target
			}
		}
	}
	return done, nil
}

// recordAdminConsent keeps Microsoft's answer to an admin consent on the
// integration, for the MCP Servers tab, and audits it.
func (l *Linker) recordAdminConsent(ctx context.Context, admin *graphgate.User, a *graphgate.AdminConsent, done *Finished) error {
	if admin == nil || !admin.IsAdmin() {
		return problem("Only a graphgate admin can record an admin consent. Nothing was recorded.")
	}
	a.By, a.At = admin.Email, l.now().UTC()
	if _, err := l.store.UpdateM365Config(ctx, func(cur *graphgate.M365Config) (*graphgate.M365Config, error) {
		if cur == nil {
			return nil, problem("Microsoft 365 was removed meanwhile; nothing was recorded.")
		}
		cur.AdminConsent = a
		return cur, nil
	}); err != nil {
		return err
	}
	done.AdminConsent = a
	details := map[string]string{"granted": strconv.FormatBool(a.Granted), "tenant": a.Tenant}
	if a.Error != "" {
		details["error"] = a.Error
	}
	return l.people.Record(ctx, admin, graphgate.ActionAdminConsent, "microsoft365", details)
}

// AuthorizeProblem explains an error Microsoft sent back to the callback.
func AuthorizeProblem(code, desc string) string {
	switch n := AADSTSOf(desc); {
	case n == 65004 || code == "access_denied" && n == 0:
		return "You declined the permissions graphgate asked for, so nothing was linked. Click Link Account and Accept to link your account."
	case n == 50020:
		return "That Microsoft account is not in the organisation graphgate is set up for. Sign in with your work account, or ask your admin."
	case n == 50105:
		return "Your organisation's admin has not given you access to graphgate's app in Entra (AADSTS50105). Ask them to assign you to it."
	case n == 50194 || n == 700016:
		return "graphgate's app registration does not accept this kind of account. Ask your admin to check the app's supported account types."
	case code == "login_required" || code == "interaction_required":
		return "Microsoft needs you to sign in. Click Link Account to continue."
	case code == "temporarily_unavailable" || code == "server_error":
		return "Microsoft's sign-in service had a problem. Wait a moment, then click Link Account again."
	}
	if line := PlainText(FirstLine(desc), 300); line != "" {
		return "Microsoft could not link your account: " + line
	}
	return "Microsoft could not link your account (" + PlainText(code, 64) + "). Click Link Account to try again."
}

// PlainText keeps a value from outside fit for a one-line message: control
// characters dropped, at most max bytes, cut on a character boundary.
func PlainText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}

// redeemProblem explains a failed code redemption.
func redeemProblem(err error) string {
	var ae *AuthError
	if !errors.As(err, &ae) {
		return "graphgate could not reach Microsoft to finish linking. Try again in a moment."
	}
	switch ae.AADSTS {
	case 54005, 70008:
		return "That sign-in answer was already used or has expired. Click Link Account to start again."
	case 501481, 9002313, 500112:
		return "Microsoft did not accept that sign-in answer. Click Link Account to start again."
	case 65001:
		return "Consent is missing for some permissions. Click Link Account and Accept every permission."
	}
	return "Microsoft could not finish linking your account (AADSTS" + strconv.Itoa(ae.AADSTS) + "). Click Link Account to try again."
}
