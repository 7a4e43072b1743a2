// Package graph is the sandbox's Microsoft Graph v1.0: /me, Outlook mail and
// calendar, and OneDrive, over in-memory mailboxes, with Graph's status codes,
// headers, error bodies and paging.
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"graphgate/internal/sandbox/directory"
)

// Caller is who an access token stands for and what it may do.
type Caller struct {
	Person *directory.Person
	Scopes map[string]bool
}

// Authenticator resolves the bearer token of a Graph request.
type Authenticator interface {
	Authenticate(token string) (Caller, error)
}

// ErrTokenExpired is returned by an Authenticator for an expired token; any
// other error means the token is not valid at all.
var ErrTokenExpired = errors.New("token expired")

// Server serves Graph for the mailboxes in its Store.
type Server struct {
	auth  Authenticator
	store *Store
	now   func() time.Time
	mux   *http.ServeMux

	mu      sync.Mutex
	uploads map[string]*uploadSession // upload sessions by id
}

// New returns a Graph server.
func New(auth Authenticator, store *Store, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{auth: auth, store: store, now: now, mux: http.NewServeMux(),
		uploads: map[string]*uploadSession{}}
	s.routes()
	return s
}

// Store returns the server's mailboxes.
func (s *Server) Store() *Store { return s.store }

// ServeHTTP answers Graph requests with the headers every Graph response has.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("request-id", uuid.NewString())
	if c := r.Header.Get("client-request-id"); c != "" {
		h.Set("client-request-id", c)
	} else {
		h.Set("client-request-id", h.Get("request-id"))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	s.mux.ServeHTTP(w, r)
}

// Owns reports whether a path is Graph's: the API under /v1.0/ and the
// pre-authenticated download and upload URLs it hands out.
func Owns(path string) bool {
	return strings.HasPrefix(path, "/v1.0/") || strings.HasPrefix(path, "/sandbox-download/") ||
		strings.HasPrefix(path, "/sandbox-upload/")
}

// scopes a route accepts: any one of them is enough.
var (
	scopesUser       = []string{"User.Read", "User.ReadBasic.All", "User.ReadWrite"}
	scopesSettings   = []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}
	scopesMailRead   = []string{"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic"}
	scopesMailRW     = []string{"Mail.ReadWrite"}
	scopesMailSend   = []string{"Mail.Send"}
	scopesCalRead    = []string{"Calendars.Read", "Calendars.ReadWrite", "Calendars.ReadBasic"}
	scopesCalRW      = []string{"Calendars.ReadWrite"}
	scopesCalShared  = []string{"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}
	scopesMailShared = []string{"Mail.Read.Shared", "Mail.ReadWrite.Shared"}
	scopesPeople     = []string{"People.Read", "People.Read.All"}
	scopesUsers      = []string{"User.ReadBasic.All", "User.Read.All"}
	scopesFileRead   = []string{"Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All"}
	scopesFileRW     = []string{"Files.ReadWrite", "Files.ReadWrite.All"}
)

// handlerFunc is a Graph handler that runs as an authenticated caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, mb *Mailbox)

// authed checks the bearer token and the scopes, then runs h on the caller's mailbox.
func (s *Server) authed(scopes []string, deniedCode string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if !hasAny(caller.Scopes, scopes) {
			denied(w, r, deniedCode)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, caller))
		mb, ok := s.store.Mailbox(caller.Person.ObjectID)
		if !ok {
			WriteError(w, r, http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
			return
		}
		h(w, r, mb)
	}
}

// authedFor serves /users/{user}/...: the caller's own mailbox with the
// scopes of /me, another one with the .Shared scopes and, as Exchange
// wants too, the right to open it (Full Access to a shared mailbox).
func (s *Server) authedFor(scopes, shared []string, deniedCode string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		key := r.PathValue("user")
		target, found := s.store.MailboxByAddress(key)
		if !found {
			target, found = s.store.Mailbox(strings.ToLower(key))
		}
		switch {
		case !found:
			WriteError(w, r, http.StatusNotFound, "ErrorInvalidUser", "The requested user '"+key+"' is invalid.")
			return
		case target.Owner == caller.Person && !hasAny(caller.Scopes, scopes),
			target.Owner != caller.Person && (!hasAny(caller.Scopes, shared) || !target.Owner.Reaches(caller.Person)):
			denied(w, r, deniedCode)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)), target)
	}
}

// authenticate checks the bearer token, answering 401 as Graph does.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		WriteError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return Caller{}, false
	}
	caller, err := s.auth.Authenticate(raw)
	if err != nil {
		msg := "IDX14100: JWT is not well formed, there are no dots (.)."
		if errors.Is(err, ErrTokenExpired) {
			msg = "Lifetime validation failed, the token is expired."
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="invalid_token"`)
		WriteError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return Caller{}, false
	}
	return caller, true
}

func denied(w http.ResponseWriter, r *http.Request, code string) {
	msg := "Access is denied. Check credentials and try again."
	if code == "Authorization_RequestDenied" {
		msg = "Insufficient privileges to complete the operation."
	}
	WriteError(w, r, http.StatusForbidden, code, msg)
}

type callerKey struct{}

// callerOf is who an authenticated request runs as.
func callerOf(r *http.Request) Caller {
	c, _ := r.Context().Value(callerKey{}).(Caller)
	return c
}

func hasAny(have map[string]bool, want []string) bool {
	for _, s := range want {
		if have[s] {
			return true
		}
	}
	return false
}

// WriteError writes Graph's error body. The innerError date has no time zone
// designator, as on Graph.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	h := w.Header()
	if h.Get("request-id") == "" {
		h.Set("request-id", uuid.NewString())
	}
	if h.Get("client-request-id") == "" {
		if c := r.Header.Get("client-request-id"); c != "" {
			h.Set("client-request-id", c)
		} else {
			h.Set("client-request-id", h.Get("request-id"))
		}
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]string{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        h.Get("request-id"),
			"client-request-id": h.Get("client-request-id"),
		},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// baseURL is the origin the request came in on; links Graph returns (paging,
// downloads, uploads) point back at it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// decodeBody reads a JSON request body into v, answering 400 when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		WriteError(w, r, http.StatusBadRequest, "RequestBodyRead", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return false
	}
	return true
}
