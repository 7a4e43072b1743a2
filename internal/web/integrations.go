package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/microsoft365"
	"graphgate/internal/oauthserver"
)

// tileState is what the Microsoft 365 tile shows a person.
type tileState struct {
	State string // unavailable, link, linked, reconnect
	Link  *graphgate.Link
	Why   string // for unavailable
	// New are the capabilities the admin turned on that the link has not
	// all the permissions of: the tile asks for them with one button.
	New []*graphgate.Capability
	// Allowed are the capabilities on that the link has granted.
	Allowed []*graphgate.Capability
	// AwaitingAdmin are the capabilities on with a permission only an
	// admin may grant, not granted yet.
	AwaitingAdmin []*graphgate.Capability
}

type integrationsData struct {
	Tile   tileState
	Tokens []*graphgate.APIToken
	Apps   []*graphgate.Grant // connected through OAuth
	// Approvals are sends and deletions agents wait on the person for.
	Approvals []*graphgate.Approval
	NewToken  string // shown once, right after creation
	Form      tokenForm
	Toolsets  []string
	Connect   bool // the first-sign-in "Connect your tools" page
	Now       time.Time
}

type tokenForm struct {
	Name, Expires string
	ReadOnly      bool
	ConfirmWrites bool
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
	t := tileState{State: "linked", Link: l, New: graphgate.Ungranted(cfg.Capabilities, l.Granted, l.Personal),
		AwaitingAdmin: graphgate.AwaitingAdmin(cfg.Capabilities, l.Granted, l.Personal)}
	for _, name := range cfg.Capabilities {
		if c, ok := graphgate.CapabilityNamed(name); ok && !slices.Contains(t.New, c) {
			t.Allowed = append(t.Allowed, c)
		}
	}
	return t, nil
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
	approvals, err := s.store.PendingApprovals(r.Context(), u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d := integrationsData{Tile: t, Tokens: agent, Apps: apps, Approvals: approvals, NewToken: newToken, Form: form, Toolsets: graphgate.Toolsets, Now: s.now()}
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
	if ret := safeNext(r.PostFormValue("return")); strings.HasPrefix(ret, oauthserver.AuthorizePath+"?") {
		http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: ret, Path: "/", HttpOnly: true, Secure: s.cfg.Secure(),
			SameSite: http.SameSiteLaxMode, MaxAge: int(microsoft365.FlowTTL.Seconds())})
	}
	target, err := s.linker.Start(r.Context(), u.ID)
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p):
		s.back(w, r, "error", p.Message)
		return
	case err != nil:
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) unlink(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	l, err := s.linker.Unlink(r.Context(), u.ID)
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p):
		s.back(w, r, "error", p.Message)
		return
	case err != nil:
		s.errorPage(w, r, err)
		return
	}
	_ = s.admin.Record(r.Context(), u, graphgate.ActionUnlink, u.Email, map[string]string{"account": l.Username})
	s.back(w, r, "success", "Unlinked "+l.Username+". Your agents no longer reach your Microsoft 365 data.")
}

// createToken makes an agent token and shows it once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	u := sessionFrom(r).user
	f := tokenForm{Name: strings.TrimSpace(r.PostFormValue("name")), Expires: r.PostFormValue("expires"),
		ReadOnly: r.PostFormValue("readOnly") == "on", ConfirmWrites: r.PostFormValue("confirmWrites") == "on", Toolsets: r.PostForm["toolsets"]}
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
	if f.Error != "" {
		s.showIntegrations(w, r, http.StatusUnprocessableEntity, "", f)
		return
	}
	token, _, err := s.admin.MakeToken(r.Context(), u, u, admin.NewToken{Kind: graphgate.TokenAgent, Name: f.Name, ReadOnly: f.ReadOnly,
		ConfirmWrites: f.ConfirmWrites, Toolsets: f.Toolsets, ExpiresAt: expires})
	if graphgate.ErrorCode(err) == graphgate.EINVALID {
		f.Error = graphgate.ErrorMessage(err)
		s.showIntegrations(w, r, http.StatusUnprocessableEntity, "", f)
		return
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
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
	_ = s.admin.Record(r.Context(), u, graphgate.ActionTokenRevoke, u.Email, map[string]string{"id": strconv.FormatInt(id, 10)})
	s.setFlash(w, "success", "Token revoked: agents using it are refused from now on.")
	http.Redirect(w, r, "/integrations", http.StatusSeeOther)
}
