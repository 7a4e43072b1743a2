package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"graphgate"
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
// sign-in; the linker does what the answer asks, and this turns the
// outcome into a cookie and a page. Every failure returns to a page with a
// message a person understands and stores nothing.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	sc := s.lookupSession(r)
	cb := microsoft365.Callback{Query: r.URL.Query()}
	if sc != nil {
		cb.SignedIn = sc.user
		r = r.WithContext(withSignedIn(r.Context(), sc))
	}
	if started, err := r.Cookie(signInCookie); err == nil {
		cb.Started = started.Value
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: callbackPath, MaxAge: -1})
	done, err := s.linker.Finish(r.Context(), cb)
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p) && (cb.Started != "" || sc == nil):
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
	case done.AdminConsent != nil:
		kind, msg := "success", "Microsoft granted the permissions for everyone in your organisation."
		if !done.AdminConsent.Granted {
			kind, msg = "error", done.AdminConsent.Error
		}
		s.setFlash(w, kind, msg)
		http.Redirect(w, r, "/admin/servers#capabilities", http.StatusSeeOther)
		return
	case !done.SignIn:
		s.linked(w, r, done)
		return
	}
	if err := s.startSession(w, r, done.User); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: knownCookie, Value: "1", Path: "/login", HttpOnly: true, Secure: s.cfg.Secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	if done.LinkNext != "" {
		// Signed in, not linked (this browser had linked someone before):
		// link now; Microsoft asks for consent once. Or linked a work
		// account: now the permissions only work accounts have.
		http.Redirect(w, r, done.LinkNext, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, s.landing(&signedIn{user: done.User}), http.StatusSeeOther)
}

// linked tells the signed-in person what their link now allows: a new
// link, or more permissions. A work account's link goes on to Microsoft
// once more for the permissions only work accounts have.
func (s *Server) linked(w http.ResponseWriter, r *http.Request, done *microsoft365.Finished) {
	switch {
	case done.LinkNext != "":
		http.Redirect(w, r, done.LinkNext, http.StatusSeeOther)
	case done.More && len(done.Added) == 0:
		s.back(w, r, "success", "Microsoft granted nothing new; your link works as before.")
	case done.More:
		s.back(w, r, "success", "Allowed "+strings.Join(done.Added, ", ")+". Your agents can use what your admin turned on.")
	default:
		s.back(w, r, "success", "Linked "+done.Link.DisplayName+" ("+done.Link.Username+"). Your agents can now use Microsoft 365.")
	}
}
