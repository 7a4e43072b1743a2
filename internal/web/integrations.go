package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/microsoft365"
	"graphgate/internal/oauthserver"
)

// A sign-in at Microsoft must come back within this long.
const flowTTL = 10 * time.Minute

// tileState is what the Microsoft 365 tile shows a person.
type tileState struct {
	State string // unavailable, link, linked, reconnect
	Link  *graphgate.Link
	Why   string // for unavailable
}

type integrationsData struct {
	Tile     tileState
	Tokens   []*graphgate.APIToken
	Apps     []*graphgate.Grant // connected through OAuth
	NewToken string             // shown once, right after creation
	Form     tokenForm
	Toolsets []string
	Connect  bool // the first-sign-in "Connect your tools" page
	Now      time.Time
}

type tokenForm struct {
	Name, Expires string
	ReadOnly      bool
	Toolsets      []string
	Error         string
}

func (s *Server) tile(r *http.Request, userID int64) (tileState, error) {
	cfg, err := s.currentM365(r)
	if err != nil {
		return tileState{}, err
	}
	switch cfg.Status() {
	case graphgate.StatusNotConfigured:
		return tileState{State: "unavailable", Why: "Not available yet: ask your admin."}, nil
	case graphgate.StatusDisabled:
		return tileState{State: "unavailable", Why: "Not available: your admin has turned Microsoft 365 off."}, nil
	}
	l, err := s.store.Link(r.Context(), userID)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		if cfg.Status() == graphgate.StatusNeedsAttention {
			return tileState{State: "unavailable", Why: "Not available right now: your admin is fixing graphgate's connection to Microsoft 365."}, nil
		}
		return tileState{State: "link"}, nil
	case err != nil:
		return tileState{}, err
	case l.NeedsAttention():
		return tileState{State: "reconnect", Link: l}, nil
	case s.m365.Refusal(l) != "":
		// The admin narrowed the authority since this account was linked.
		refused := *l
		refused.Reason = s.m365.Refusal(l)
		return tileState{State: "reconnect", Link: &refused}, nil
	}
	return tileState{State: "linked", Link: l}, nil
}

func (s *Server) integrations(w http.ResponseWriter, r *http.Request) {
	s.showIntegrations(w, r, http.StatusOK, "", tokenForm{})
}

func (s *Server) showIntegrations(w http.ResponseWriter, r *http.Request, status int, newToken string, form tokenForm) {
	u := sessionFrom(r).user
	t, err := s.tile(r, u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	tokens, err := s.store.ListAPITokens(r.Context(), u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	agent := tokens[:0:0]
	for _, tok := range tokens {
		if tok.Kind == graphgate.TokenAgent {
			agent = append(agent, tok)
		}
	}
	apps, err := s.store.Grants(r.Context(), u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d := integrationsData{Tile: t, Tokens: agent, Apps: apps, NewToken: newToken, Form: form, Toolsets: graphgate.Toolsets, Now: s.now()}
	if r.URL.Path == "/connect" {
		d.Connect = true
		s.render(w, r, status, "integrations", "Connect your tools", d)
		return
	}
	s.render(w, r, status, "integrations", "Integrations", d)
}

// finishConnect ends the first-sign-in page.
func (s *Server) finishConnect(w http.ResponseWriter, r *http.Request) {
	if err := s.admin.FinishOnboarding(r.Context(), sessionFrom(r).user.ID); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/integrations", http.StatusSeeOther)
}

// returnCookie holds the consent page to come back to after Link Account.
const returnCookie = "gg_return"

// returnPage is where the person goes back to after linking: the consent
// page that sent them to link, or their Integrations page.
func (s *Server) returnPage(r *http.Request) string {
	if c, err := r.Cookie(returnCookie); err == nil && strings.HasPrefix(safeNext(c.Value), oauthserver.AuthorizePath+"?") {
		return c.Value
	}
	if sc := sessionFrom(r); sc != nil && !sc.user.IsAdmin() && sc.user.OnboardedAt.IsZero() {
		return "/connect"
	}
	return "/integrations"
}

func (s *Server) back(w http.ResponseWriter, r *http.Request, kind, msg string) {
	s.setFlash(w, kind, msg)
	to := s.returnPage(r)
	http.SetCookie(w, &http.Cookie{Name: returnCookie, Path: "/", MaxAge: -1})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// linkAccount starts the link: a pending flow in the store, then Microsoft.
func (s *Server) linkAccount(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if cfg.Status() != graphgate.StatusActive {
		s.back(w, r, "error", "Microsoft 365 is not available right now. Ask your admin.")
		return
	}
	if ret := safeNext(r.PostFormValue("return")); strings.HasPrefix(ret, oauthserver.AuthorizePath+"?") {
		http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: ret, Path: "/", HttpOnly: true, Secure: s.cfg.Secure(),
			SameSite: http.SameSiteLaxMode, MaxAge: int(flowTTL.Seconds())})
	}
	state, verifier, nonce := apitoken.Random(), oauth2.GenerateVerifier(), apitoken.Random()
	now := s.now().UTC()
	if err := s.store.CreateOAuthFlow(r.Context(), &graphgate.OAuthFlow{StateHash: apitoken.Hash(state), UserID: u.ID,
		Verifier: verifier, Nonce: nonce, CreatedAt: now, ExpiresAt: now.Add(flowTTL)}); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, s.m365.AuthCodeURL(cfg, state, verifier, nonce), http.StatusSeeOther)
}

// callback is where Microsoft sends the browser back. Every failure returns
// to the page with a message a person understands and stores nothing.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	u := sessionFrom(r).user
	state := q.Get("state")
	if state == "" || len(state) > 200 {
		s.back(w, r, "error", "That sign-in answer is not valid. Click Link Account to try again.")
		return
	}
	flow, err := s.store.ConsumeOAuthFlow(r.Context(), apitoken.Hash(state))
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		s.back(w, r, "error", "That sign-in has expired or was already used. Click Link Account to start again.")
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if flow.UserID != u.ID {
		s.log.Warn("oauth callback for another user's flow", "user", u.ID)
		s.back(w, r, "error", "That sign-in was started by another graphgate account. Click Link Account to link your own.")
		return
	}
	if e := q.Get("error"); e != "" {
		s.back(w, r, "error", authorizeProblem(e, q.Get("error_description")))
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		s.back(w, r, "error", "Microsoft's answer carried no authorization code. Click Link Account to try again.")
		return
	}
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if cfg.Status() == graphgate.StatusNotConfigured || cfg.Status() == graphgate.StatusDisabled {
		s.back(w, r, "error", "Your admin turned Microsoft 365 off while you were signing in. Nothing was linked.")
		return
	}
	grant, err := s.m365.Exchange(r.Context(), cfg, code, flow.Verifier)
	if err != nil {
		var ae *microsoft365.AuthError
		if errors.As(err, &ae) && ae.Code == "invalid_client" {
			_ = s.admin.MarkM365Attention(r.Context(), microsoft365.AppProblem(ae.AADSTS, ae.Description))
			s.back(w, r, "error", "Microsoft refused graphgate's own credentials, so nothing was linked. Your admin has been told; try again later.")
			return
		}
		s.log.Warn("code redemption failed", "err", err)
		s.back(w, r, "error", redeemProblem(err))
		return
	}
	id, err := s.m365.VerifyIDToken(r.Context(), cfg.ClientID, grant.IDToken, flow.Nonce)
	if err != nil {
		s.log.Warn("id_token refused", "err", err)
		s.back(w, r, "error", "Microsoft's answer could not be verified, so nothing was linked. Click Link Account to try again.")
		return
	}
	name := id.Name
	if name == "" {
		name = id.Username
	}
	link := &graphgate.Link{UserID: u.ID, TenantID: id.TenantID, ObjectID: id.ObjectID, Username: id.Username,
		DisplayName: name, Personal: id.Personal(), RefreshToken: grant.RefreshToken, AccessToken: grant.AccessToken,
		AccessExpiresAt: grant.Expiry, LinkedAt: s.now().UTC()}
	if err := s.store.PutLink(r.Context(), link); err != nil {
		s.errorPage(w, r, err)
		return
	}
	_ = s.store.AddAudit(r.Context(), &graphgate.AuditEvent{ActorID: u.ID, ActorEmail: u.Email, Action: admin.ActionLink,
		Target: u.Email, Details: map[string]string{"account": id.Username, "tenant": id.TenantID}})
	s.back(w, r, "success", "Linked "+name+" ("+id.Username+"). Your agents can now use Microsoft 365.")
}

// authorizeProblem explains an error Microsoft sent back to the callback.
func authorizeProblem(code, desc string) string {
	switch n := microsoft365.AADSTSOf(desc); {
	case n == 65004 || code == "access_denied" && n == 0:
		return "You declined the permissions graphgate asked for, so nothing was linked. Click Link Account and Accept to link your account."
	case n == 50020:
		return "That Microsoft account is not in the organisation graphgate is set up for. Sign in with your work account, or ask your admin."
	case n == 50194 || n == 700016:
		return "graphgate's app registration does not accept this kind of account. Ask your admin to check the app's supported account types."
	case code == "login_required" || code == "interaction_required":
		return "Microsoft needs you to sign in. Click Link Account to continue."
	case code == "temporarily_unavailable" || code == "server_error":
		return "Microsoft's sign-in service had a problem. Wait a moment, then click Link Account again."
	}
	if line := plainText(microsoft365.FirstLine(desc), 300); line != "" {
		return "Microsoft could not link your account: " + line
	}
	return "Microsoft could not link your account (" + plainText(code, 64) + "). Click Link Account to try again."
}

// plainText keeps a value from outside fit for a one-line message: control
// characters dropped, at most max bytes, cut on a character boundary.
func plainText(s string, max int) string {
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
	var ae *microsoft365.AuthError
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

func (s *Server) unlink(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	l, err := s.store.Link(r.Context(), u.ID)
	if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
		s.back(w, r, "error", "No Microsoft account is linked.")
		return
	}
	if err == nil {
		err = s.store.DeleteLink(r.Context(), u.ID)
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	_ = s.store.AddAudit(r.Context(), &graphgate.AuditEvent{ActorID: u.ID, ActorEmail: u.Email, Action: admin.ActionUnlink,
		Target: u.Email, Details: map[string]string{"account": l.Username}})
	s.back(w, r, "success", "Unlinked "+l.Username+". Your agents no longer reach your Microsoft 365 data.")
}

// createToken makes an agent token and shows it once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	f := tokenForm{Name: strings.TrimSpace(r.PostFormValue("name")), Expires: r.PostFormValue("expires"),
		ReadOnly: r.PostFormValue("readOnly") == "on", Toolsets: r.PostForm["toolsets"]}
	var expires time.Time
	switch {
	case f.Name == "" || len(f.Name) > 100:
		f.Error = "Give the token a name of up to 100 characters, such as the agent that will use it."
	case f.Expires != "" && f.Expires != "never":
		days, err := strconv.Atoi(f.Expires)
		if err != nil || days < 1 || days > 366 {
			f.Error = "Choose an expiry from the list."
		} else {
			expires = s.now().UTC().AddDate(0, 0, days)
		}
	}
	for _, ts := range f.Toolsets {
		if !slices.Contains(graphgate.Toolsets, ts) {
			f.Error = "Unknown toolset " + ts + "."
		}
	}
	if f.Error != "" {
		s.showIntegrations(w, r, http.StatusUnprocessableEntity, "", f)
		return
	}
	token, display, hash := apitoken.New()
	t := &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: f.Name, Prefix: display, Hash: hash,
		ReadOnly: f.ReadOnly, Toolsets: f.Toolsets, ExpiresAt: expires}
	if err := s.store.CreateAPIToken(r.Context(), t); err != nil {
		s.errorPage(w, r, err)
		return
	}
	_ = s.store.AddAudit(r.Context(), &graphgate.AuditEvent{ActorID: u.ID, ActorEmail: u.Email, Action: admin.ActionTokenCreate,
		Target: u.Email, Details: map[string]string{"name": t.Name, "token": display + "…", "readOnly": strconv.FormatBool(t.ReadOnly),
			"toolsets": strings.Join(t.Toolsets, ",")}})
	w.Header().Set("Cache-Control", "no-store")
	s.showIntegrations(w, r, http.StatusCreated, token, tokenForm{})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		// Scoped to the signed-in person: another person's token id is "not found".
		err = s.store.RevokeAPIToken(r.Context(), u.ID, id)
	}
	if err != nil {
		s.back(w, r, "error", "No such token, or it was already revoked.")
		return
	}
	_ = s.store.AddAudit(r.Context(), &graphgate.AuditEvent{ActorID: u.ID, ActorEmail: u.Email, Action: admin.ActionTokenRevoke,
		Target: u.Email, Details: map[string]string{"id": strconv.FormatInt(id, 10)}})
	s.setFlash(w, "success", "Token revoked: agents using it are refused from now on.")
	http.Redirect(w, r, "/integrations", http.StatusSeeOther)
}
