package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/clientip"
	"graphgate/internal/password"
)

const loginCSRFCookie = "gg_login_csrf"

type loginData struct {
	Email, Next, Error, LoginCSRF string
	// Microsoft offers Sign in with Microsoft.
	Microsoft bool
}

// loginForm shows the sign-in page. Before a session exists, CSRF uses a
// double-submit cookie.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if sc := s.lookupSession(r); sc != nil {
		http.Redirect(w, r, s.landing(sc), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.LoginCSRF = apitoken.Random()
	d.Microsoft = s.microsoftOffered(r)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: d.LoginCSRF, Path: "/login", HttpOnly: true,
		Secure: s.cfg.Secure(), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, r, status, "login", "Sign in", d)
}

// clientIP is what the sign-in limits count: the client's address (the
// proxy's, unless GRAPHGATE_TRUSTED_PROXIES names it), IPv6 by /64.
func clientIP(r *http.Request) string { return clientip.Key(r.RemoteAddr) }

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.showLogin(w, r, http.StatusBadRequest, loginData{Error: "The form could not be read."})
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	d := loginData{Email: email, Next: safeNext(r.PostFormValue("next"))}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		d.Error = "The sign-in form expired. Please try again."
		s.showLogin(w, r, http.StatusForbidden, d)
		return
	}
	rules, err := s.store.SignInSettings(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if !admin.PasswordAllowed(rules, email) {
		d.Error = "Password sign-in is turned off here. Use Sign in with Microsoft."
		s.showLogin(w, r, http.StatusForbidden, d)
		return
	}
	keys := []string{"ip:" + clientIP(r), "email:" + strings.ToLower(email)}
	if !s.limiter.attempt(keys...) {
		d.Error = "Too many failed sign-ins. Wait 15 minutes, then try again."
		s.showLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	u, err := s.checkPassword(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, errBusy) {
		// Too busy checking others: this attempt was not checked, so it
		// does not count against the person.
		s.limiter.release(keys...)
		d.Error = "graphgate is busy. Try again in a moment."
		s.showLogin(w, r, http.StatusServiceUnavailable, d)
		return
	}
	if err != nil {
		s.log.Info("sign-in failed", "ip", clientIP(r))
		d.Error = "That email and password do not match an account."
		s.showLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	// The right password clears that email's failures only; the address
	// gets back the attempt it reserved, and keeps the failures it had, so
	// that one account of one's own cannot reset a password spray.
	s.limiter.release(keys[0])
	s.limiter.succeed(keys[1])
	if err := s.startSession(w, r, u); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/login", MaxAge: -1})
	next := s.landing(&signedIn{user: u})
	if d.Next != "" && next != "/onboarding" {
		next = d.Next
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// checkPassword verifies a sign-in, at most maxVerifying at a time: each
// argon2id check holds about 19 MiB, so a burst of anonymous sign-ins must
// wait its turn rather than take the memory. Unknown emails cost the same
// time as known ones, so response times do not tell which have accounts.
func (s *Server) checkPassword(ctx context.Context, email, pw string) (*graphgate.User, error) {
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case s.verifying <- struct{}{}:
		s.metrics.PasswordChecks.Inc()
		defer func() { s.metrics.PasswordChecks.Dec(); <-s.verifying }()
	case <-wait.Done():
		return nil, errBusy
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		_, _ = password.Verify(dummyHash, pw)
		return nil, errWrongPassword
	}
	if ok, _ := password.Verify(u.PasswordHash, pw); !ok {
		return nil, errWrongPassword
	}
	return u, nil
}

var (
	errBusy          = errors.New("too many sign-ins are being checked")
	errWrongPassword = errors.New("wrong email or password")
)

var dummyHash = func() string {
	h, _ := password.Hash("not a real password")
	return h
}()

// landing is where a person goes after signing in: admins who have not
// finished onboarding see it first.
func (s *Server) landing(sc *signedIn) string {
	switch {
	case sc.user.IsAdmin() && sc.user.OnboardedAt.IsZero():
		return "/onboarding"
	case sc.user.IsAdmin():
		return "/admin/servers"
	case sc.user.OnboardedAt.IsZero():
		return "/connect"
	}
	return "/integrations"
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.landing(sessionFrom(r)), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteSession(r.Context(), sessionFrom(r).session.TokenHash); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
