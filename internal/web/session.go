package web

import (
	"context"
	"crypto/subtle"
	"graphgate/internal/apitoken"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"graphgate"
)

const sessionCookie = "gg_session"

// signedIn is the session and user of a request.
type signedIn struct {
	session *graphgate.Session
	user    *graphgate.User
}

type ctxKey struct{}

func sessionFrom(r *http.Request) *signedIn {
	sc, _ := r.Context().Value(ctxKey{}).(*signedIn)
	return sc
}

// startSession stores a new session and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *graphgate.User) error {
	token := apitoken.Random()
	now := s.now().UTC()
	sess := &graphgate.Session{TokenHash: apitoken.Hash(token), UserID: u.ID, CSRF: apitoken.Random(), CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.SessionLifetime)}
	if err := s.store.CreateSession(r.Context(), sess); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.cfg.Secure(),
		SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	return nil
}

// lookupSession finds the request's session, if any.
func (s *Server) lookupSession(r *http.Request) *signedIn {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	sess, err := s.store.SessionByHash(r.Context(), apitoken.Hash(c.Value))
	if err != nil {
		return nil
	}
	u, err := s.store.UserByID(r.Context(), sess.UserID)
	if err != nil {
		return nil
	}
	return &signedIn{session: sess, user: u}
}

func withSignedIn(ctx context.Context, sc *signedIn) context.Context {
	return context.WithValue(ctx, ctxKey{}, sc)
}

// withUser requires a signed-in person; others go to the sign-in page. Every
// unsafe method must carry the session's CSRF token.
func (s *Server) withUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sc := s.lookupSession(r)
		if sc == nil {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = "/"
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !validCSRF(r, sc.session.CSRF) {
			s.render(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sc)), http.StatusForbidden, "error", "Forbidden",
				"This form has expired or did not come from graphgate. Go back, reload the page and try again.")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sc)))
	}
}

// withAdmin is withUser for admins only: anyone else gets 403, whatever URL
// they type.
func (s *Server) withAdmin(h http.HandlerFunc) http.HandlerFunc {
	return s.withUser(func(w http.ResponseWriter, r *http.Request) {
		if !sessionFrom(r).user.IsAdmin() {
			s.errorPage(w, r, graphgate.Errorf(graphgate.EFORBIDDEN, "This page is for admins. Ask an admin if you need a change made."))
			return
		}
		h(w, r)
	})
}

func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		got = r.PostFormValue("csrf")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// safeNext keeps post-sign-in redirects on this site: a path, nothing a
// browser could read as another host. Browsers drop tabs and newlines and
// treat \ as /, so "/\t/evil.example" or "/\\evil.example" would leave.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\") || strings.IndexFunc(next, func(r rune) bool { return r <= ' ' || r == 0x7f || unicode.IsSpace(r) }) >= 0 {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return next
}
