package web

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/microsoft365"
)

// Cookies of Sign in with Microsoft.
const (
	// signInCookie binds a sign-in to the browser that started it: it holds
	// the state, so nobody can hand someone else Microsoft's answer for their
	// own account (login CSRF).
	signInCookie = "gg_signin"
	// knownCookie says this browser signed someone in with Microsoft and
	// linked before: the next sign-in asks only openid profile email, and
	// Microsoft shows no consent.
	knownCookie = "gg_ms"
)

// microsoftOffered reports whether the sign-in page offers Microsoft.
func (s *Server) microsoftOffered(r *http.Request) bool {
	cfg, err := s.store.M365Config(r.Context())
	if err != nil || cfg.Status() != graphgate.StatusActive {
		return false
	}
	rules, err := s.store.SignInSettings(r.Context())
	return err == nil && rules.Microsoft
}

// loginMicrosoft starts Sign in with Microsoft. A browser that never linked
// here asks for every scope, so that one consent signs in and links.
func (s *Server) loginMicrosoft(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || r.ParseForm() != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		s.showLogin(w, r, http.StatusForbidden, loginData{Error: "The sign-in form expired. Please try again."})
		return
	}
	if !s.microsoftOffered(r) {
		s.showLogin(w, r, http.StatusForbidden, loginData{Error: "Sign in with Microsoft is not available. Sign in with your password, or ask your admin."})
		return
	}
	known, _ := r.Cookie(knownCookie)
	target, state, err := s.linker.StartSignIn(r.Context(), known == nil || known.Value != "1")
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p):
		s.showLogin(w, r, http.StatusServiceUnavailable, loginData{Error: p.Message})
		return
	case err != nil:
		s.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: state, Path: callbackPath, HttpOnly: true, Secure: s.cfg.Secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(microsoft365.FlowTTL.Seconds())})
	http.Redirect(w, r, target, http.StatusSeeOther)
}

const callbackPath = "/api/v1/microsoft365/auth/callback"

// callback is where Microsoft sends the browser back, for a link or a
// sign-in. Every failure returns to a page with a message a person
// understands and stores nothing.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	sc := s.lookupSession(r)
	var userID int64
	if sc != nil {
		userID = sc.user.ID
		r = r.WithContext(withSignedIn(r.Context(), sc))
	}
	bound, _ := r.Cookie(signInCookie)
	signingIn := bound != nil
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: callbackPath, MaxAge: -1})
	out, err := s.linker.Complete(r.Context(), userID, r.URL.Query())
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p) && (signingIn || sc == nil):
		s.log.Info("sign-in with Microsoft did not happen", "reason", p.Message)
		s.showLogin(w, r, http.StatusForbidden, loginData{Error: p.Message})
		return
	case errors.As(err, &p):
		s.log.Info("linking did not happen", "reason", p.Message)
		s.back(w, r, "error", p.Message)
		return
	case err != nil:
		s.errorPage(w, r, err)
		return
	case out.Purpose == graphgate.FlowLink:
		u := sc.user
		if err := s.admin.Reconnected(r.Context(), u.ID); err != nil {
			s.log.Warn("clearing a reconnect request", "err", err)
		}
		_ = s.admin.Record(r.Context(), u, graphgate.ActionLink, u.Email, map[string]string{"account": out.Link.Username, "tenant": out.Link.TenantID})
		s.back(w, r, "success", "Linked "+out.Link.DisplayName+" ("+out.Link.Username+"). Your agents can now use Microsoft 365.")
		return
	}
	// A sign-in: it must come back to the browser that started it.
	if !signingIn || subtle.ConstantTimeCompare([]byte(bound.Value), []byte(r.URL.Query().Get("state"))) != 1 {
		s.showLogin(w, r, http.StatusForbidden, loginData{Error: "That sign-in was started in another browser. Click Sign in with Microsoft here."})
		return
	}
	u, err := s.admin.SignInWithMicrosoft(r.Context(), out.Identity)
	var refused *admin.SignInRefused
	switch {
	case errors.As(err, &refused):
		s.log.Info("sign-in with Microsoft refused", "tenant", out.Identity.TenantID, "reason", refused.Message)
		s.showLogin(w, r, http.StatusForbidden, loginData{Error: refused.Message})
		return
	case err != nil:
		s.errorPage(w, r, err)
		return
	}
	if out.Link != nil {
		if err := s.linker.Keep(r.Context(), out, u.ID); err != nil {
			s.errorPage(w, r, err)
			return
		}
		if err := s.admin.Reconnected(r.Context(), u.ID); err != nil {
			s.log.Warn("clearing a reconnect request", "err", err)
		}
		_ = s.admin.Record(r.Context(), u, graphgate.ActionLink, u.Email, map[string]string{"account": out.Link.Username, "tenant": out.Link.TenantID})
	}
	if err := s.startSession(w, r, u); err != nil {
		s.errorPage(w, r, err)
		return
	}
	signed := &signedIn{user: u}
	link, err := s.store.Link(r.Context(), u.ID)
	if err != nil || link.NeedsAttention() {
		// Signed in, not linked (this browser had linked someone before):
		// link now; Microsoft asks for consent once.
		target, err := s.linker.Start(r.Context(), u.ID)
		if err == nil {
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: knownCookie, Value: "1", Path: "/login", HttpOnly: true, Secure: s.cfg.Secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	http.Redirect(w, r, s.landing(signed), http.StatusSeeOther)
}
