// Package identity is the sandbox's Microsoft identity platform v2.0: the
// authorize endpoint with its account picker and consent pages, the token
// endpoint, OpenID Connect discovery and keys. It issues the opaque access
// tokens that the sandbox's Graph accepts.
package identity

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"graphgate/internal/sandbox/directory"
)

// Options configure a Server.
type Options struct {
	App App
	// AccessTokenTTL fixes the access token lifetime; zero means Microsoft's
	// behaviour, a random lifetime between 60 and 90 minutes.
	AccessTokenTTL time.Duration
	// RefreshTokenIdle is how long a refresh token may go unused (90 days).
	RefreshTokenIdle time.Duration
	Now              func() time.Time
}

// Server is the identity platform. All state is in memory.
type Server struct {
	dir  *directory.Directory
	keys *signingKey
	now  func() time.Time

	accessTTL   time.Duration
	refreshIdle time.Duration

	mu       sync.Mutex
	app      App
	requests map[string]*authRequest    // pending sign-ins, by request id
	codes    map[string]*authCode       // authorization codes
	consent  map[string]map[string]bool // person oid -> consented scopes
	// tenantConsent is what tenants' admins granted for everyone (tenant
	// id -> scopes); userConsentOff, tenants that let only admins consent.
	tenantConsent  map[string]map[string]bool
	userConsentOff map[string]bool
	adminRequests  map[string]*adminRequest
	sessions       map[string]*session          // refresh token -> the sign-in it continues
	access         map[string]*AccessToken      // access token -> what it grants
	counts         map[string]int               // token requests by grant type
	byPerson       map[string]map[*session]bool // person oid -> live sessions
	lastPrune      time.Time
	// roles are the app roles assigned to people (person oid -> values), sent
	// in id_tokens as "roles"; with assignmentRequired, people with no role
	// are refused (AADSTS50105), as an Entra app that requires assignment.
	roles              map[string][]string
	assignmentRequired bool
}

// session is one authorization: the code and every refresh token it led to.
// Rotation keeps the session; revoking a person's grants kills their sessions.
type session struct {
	person   *directory.Person
	scopes   []string
	lastUsed time.Time
	// dead is the AADSTS error a refresh now fails with (0 while alive).
	dead int
}

// AccessToken is what an opaque access token stands for.
type AccessToken struct {
	Person  *directory.Person
	Scopes  map[string]bool
	Expires time.Time
}

// New returns an identity server for the app in opts.
func New(dir *directory.Directory, opts Options) (*Server, error) {
	if opts.App.ClientID == "" {
		return nil, errors.New("identity: app needs a client ID")
	}
	if len(opts.App.Permissions) == 0 {
		opts.App.Permissions = DefaultPermissions
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshTokenIdle == 0 {
		opts.RefreshTokenIdle = 90 * 24 * time.Hour
	}
	keys, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	for i := range opts.App.Secrets {
		opts.App.Secrets[i] = completeSecret(opts.App.Secrets[i])
	}
	return &Server{
		dir: dir, keys: keys, now: opts.Now,
		accessTTL: opts.AccessTokenTTL, refreshIdle: opts.RefreshTokenIdle,
		app:            opts.App,
		requests:       map[string]*authRequest{},
		codes:          map[string]*authCode{},
		consent:        map[string]map[string]bool{},
		tenantConsent:  map[string]map[string]bool{},
		userConsentOff: map[string]bool{},
		adminRequests:  map[string]*adminRequest{},
		sessions:       map[string]*session{},
		access:         map[string]*AccessToken{},
		counts:         map[string]int{},
		byPerson:       map[string]map[*session]bool{},
	}, nil
}

// Handler returns the identity platform's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.authorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", s.authorize) // form_post style clients
	mux.HandleFunc("POST /{tenant}/login/account", s.chooseAccount)
	mux.HandleFunc("POST /{tenant}/login/consent", s.answerConsent)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.adminConsent)
	mux.HandleFunc("POST /{tenant}/adminconsent/answer", s.answerAdminConsent)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.jwks)
	mux.HandleFunc("GET /login/static/login.css", serveCSS)
	return mux
}

// App returns a copy of the app registration.
func (s *Server) App() App {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app
	a.Secrets = append([]Secret(nil), s.app.Secrets...)
	return a
}

// Authenticate resolves an access token presented to Graph.
func (s *Server) Authenticate(raw string) (*AccessToken, error) {
	s.mu.Lock()
	tok, ok := s.access[raw]
	var expires time.Time
	if ok {
		expires = tok.Expires // ExpireAccessTokens changes it under the lock
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, ErrTokenInvalid
	case !s.now().Before(expires):
		return nil, ErrTokenExpired
	}
	return tok, nil
}

// Errors from Authenticate.
var (
	ErrTokenInvalid = errors.New("access token is not valid")
	ErrTokenExpired = errors.New("access token has expired")
)

// TokenRequests reports how many token requests of each grant type were
// answered with tokens or errors, keyed by grant_type.
func (s *Server) TokenRequests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetCounts clears the token request counters.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
}

// AssignRoles sets the app roles of a person (none: unassigned).
func (s *Server) AssignRoles(person *directory.Person, roles []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roles == nil {
		s.roles = map[string][]string{}
	}
	s.roles[person.ObjectID] = slices.Clone(roles)
}

// RequireAssignment makes the app refuse people without an app role.
func (s *Server) RequireAssignment(required bool) {
	s.mu.Lock()
	s.assignmentRequired = required
	s.mu.Unlock()
}

func (s *Server) rolesOf(p *directory.Person) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.roles[p.ObjectID])
}

// RevokeGrants makes every refresh token of the person fail with AADSTS50173,
// as after a password reset. Access tokens already issued keep working until
// they expire, as on Microsoft.
func (s *Server) RevokeGrants(person *directory.Person) int {
	return s.killSessions(person, 50173)
}

// ExpireGrants makes the person's refresh tokens fail as if unused for 90 days
// (AADSTS700082).
func (s *Server) ExpireGrants(person *directory.Person) int {
	return s.killSessions(person, 700082)
}

// WithdrawConsent removes the person's consent for the app: refresh fails with
// AADSTS65001 and the next sign-in shows the consent page again.
func (s *Server) WithdrawConsent(person *directory.Person) int {
	s.mu.Lock()
	delete(s.consent, person.ObjectID)
	s.mu.Unlock()
	return s.killSessions(person, 65001)
}

// RequireMFA makes the person's refresh tokens fail until they sign in with
// multi-factor authentication (AADSTS50076), as after a policy change.
func (s *Server) RequireMFA(person *directory.Person) int { return s.killSessions(person, 50076) }

// RequireMFAEnrollment is RequireMFA for a person who must first register a
// second factor (AADSTS50079).
func (s *Server) RequireMFAEnrollment(person *directory.Person) int {
	return s.killSessions(person, 50079)
}

// BlockByPolicy makes refresh fail under a Conditional Access policy
// (AADSTS53003).
func (s *Server) BlockByPolicy(person *directory.Person) int { return s.killSessions(person, 53003) }

func (s *Server) killSessions(person *directory.Person, code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for sess := range s.byPerson[person.ObjectID] {
		if sess.dead == 0 {
			sess.dead = code
			n++
		}
	}
	delete(s.byPerson, person.ObjectID)
	return n
}

// ExpireAccessTokens makes the person's current access tokens expired now.
func (s *Server) ExpireAccessTokens(person *directory.Person) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for _, tok := range s.access {
		if tok.Person == person && tok.Expires.After(now) {
			tok.Expires = now
			n++
		}
	}
	return n
}

// ExpireSecrets makes every client secret of the app expired now.
func (s *Server) ExpireSecrets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.app.Secrets {
		s.app.Secrets[i].Expires = s.now()
	}
}

// AddSecret adds a client secret (a generated value when value is empty)
// alongside the existing ones and returns it, value included.
func (s *Server) AddSecret(value string, expires time.Time) Secret {
	sec := completeSecret(Secret{Value: value, Expires: expires})
	s.mu.Lock()
	s.app.Secrets = append(s.app.Secrets, sec)
	s.mu.Unlock()
	return sec
}

// ReplaceSecrets removes every secret and adds one, as when an admin deletes
// the old secret in Entra after creating a new one.
func (s *Server) ReplaceSecrets(value string, expires time.Time) Secret {
	sec := completeSecret(Secret{Value: value, Expires: expires})
	s.mu.Lock()
	s.app.Secrets = []Secret{sec}
	s.mu.Unlock()
	return sec
}

func completeSecret(sec Secret) Secret {
	if sec.Value == "" {
		sec.Value = NewSecretValue()
	}
	if sec.ID == "" {
		sec.ID = newGUID()
	}
	sec.Hint = sec.Value[:min(3, len(sec.Value))]
	return sec
}

// NewSecretValue returns a value shaped like an Entra client secret: 40
// characters with the "~" that real values carry in their fourth place.
func NewSecretValue() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
	b := make([]byte, 40)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	b[3] = '~'
	return string(b)
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// opaque returns a random token with a recognisable prefix.
func opaque(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// baseURL is the scheme and host the request came in on: the sandbox serves
// login and Graph on one origin, and issuers are built from it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authority is how the {tenant} path segment was resolved.
type authority struct {
	raw    string            // as written in the path
	tenant *directory.Tenant // nil for common, organizations, consumers
	kind   string            // "common", "organizations", "consumers", "tenant"
}

func (s *Server) resolveAuthority(raw string) (authority, bool) {
	switch strings.ToLower(raw) {
	case "common", "organizations":
		return authority{raw: raw, kind: strings.ToLower(raw)}, true
	case "consumers":
		return authority{raw: raw, kind: "consumers", tenant: directory.Consumer}, true
	}
	t, ok := s.dir.Tenant(raw)
	if !ok {
		return authority{}, false
	}
	return authority{raw: raw, kind: "tenant", tenant: t}, true
}

// admits reports whether a person may sign in through this authority.
func (a authority) admits(p *directory.Person) bool {
	switch a.kind {
	case "common":
		return true
	case "organizations":
		return !p.Personal()
	default:
		return p.Tenant == a.tenant
	}
}

// issuer is the concrete issuer for tokens minted through this authority.
func issuerFor(base, tid string) string { return base + "/" + tid + "/v2.0" }
