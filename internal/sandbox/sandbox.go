// Package sandbox is a Microsoft 365 tenant in a box: the identity platform
// v2.0 and Microsoft Graph v1.0 on one HTTP origin, with seeded people, mail,
// calendars and OneDrive files, and a control API under /sandbox/ that makes
// it misbehave the way Microsoft does. Product code never imports it; only the
// command wires it in.
package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
	"graphgate/internal/sandbox/identity"
	"graphgate/internal/sandbox/seed"
)

// Defaults for the sandbox's app registration, printed at start.
const (
	DefaultClientID     = "5f3c2a1b-8d4e-4f6a-9b7c-0e1d2c3b4a59"
	DefaultClientSecret = "sbx8Q~graphgateSandboxSecretValue0000001"
	DefaultRedirectURI  = "http://localhost:8080/api/v1/microsoft365/auth/callback"
	DefaultSeed         = 1
)

// Options configure a sandbox.
type Options struct {
	ClientID      string
	ClientSecret  string
	SecretExpires time.Time // zero: never
	RedirectURIs  []string
	SingleTenant  bool // home tenant Contoso
	// AccessTokenTTL fixes access token lifetimes (zero: 60-90 minutes).
	AccessTokenTTL time.Duration
	Seed           uint64
	Now            func() time.Time
	// AppRoles assigns app roles to people by UPN (sent as "roles").
	AppRoles map[string][]string
	// RequireAssignment refuses people without an app role (AADSTS50105).
	RequireAssignment bool
}

// Sandbox is a running tenant's state and its HTTP handler.
type Sandbox struct {
	Directory *directory.Directory
	Identity  *identity.Server
	Graph     *graph.Server
	trouble   *trouble
	handler   http.Handler
}

// New builds a sandbox with seeded data.
func New(opts Options) (*Sandbox, error) {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if len(opts.RedirectURIs) == 0 {
		opts.RedirectURIs = []string{DefaultRedirectURI}
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dir := directory.New()
	id, err := identity.New(dir, identity.Options{
		App: identity.App{
			ClientID: opts.ClientID, Name: "graphgate", RedirectURIs: opts.RedirectURIs,
			SingleTenant: opts.SingleTenant, HomeTenant: directory.Contoso.ID,
			Secrets: []identity.Secret{{Value: opts.ClientSecret, Expires: opts.SecretExpires}},
		},
		AccessTokenTTL: opts.AccessTokenTTL,
		Now:            opts.Now,
	})
	if err != nil {
		return nil, err
	}
	for upn, roles := range opts.AppRoles {
		p, ok := dir.Person(upn)
		if !ok {
			return nil, fmt.Errorf("sandbox: app role for unknown person %s", upn)
		}
		id.AssignRoles(p, roles)
	}
	id.RequireAssignment(opts.RequireAssignment)
	store := graph.NewStore(dir)
	seed.Populate(store, dir, opts.Seed, opts.Now())
	sb := &Sandbox{Directory: dir, Identity: id, trouble: newTrouble()}
	sb.Graph = graph.New(tokenAuth{id}, store, opts.Now)

	login := id.Handler()
	control := http.NewServeMux()
	sb.registerControl(control)
	// Login and Graph share one origin, as tests and the demo want one base
	// URL, but their route trees overlap ({tenant} matches "v1.0"), so the
	// first path segment picks the tree.
	sb.handler = sb.trouble.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1.0/$batch":
			sb.batch(w, r)
		case graph.Owns(r.URL.Path):
			sb.Graph.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/sandbox/"):
			control.ServeHTTP(w, r)
		default:
			login.ServeHTTP(w, r)
		}
	}))
	return sb, nil
}

// ServeHTTP serves the identity platform, Graph and the control API.
func (sb *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { sb.handler.ServeHTTP(w, r) }

// AddFault installs a fault (see Fault).
func (sb *Sandbox) AddFault(f Fault) (Fault, error) {
	got, err := sb.trouble.add(&f)
	if err != nil {
		return Fault{}, err
	}
	return *got, nil
}

// ClearFaults removes every fault.
func (sb *Sandbox) ClearFaults() { sb.trouble.clear() }

// Requests reports how many requests each endpoint answered, keyed by route
// ("POST /{tenant}/oauth2/v2.0/token", "GET /v1.0/me/messages", ...), and
// token requests by grant type as "grant_type=refresh_token".
func (sb *Sandbox) Requests() map[string]int {
	out := sb.trouble.snapshot()
	for k, v := range sb.Identity.TokenRequests() {
		out["grant_type="+k] = v
	}
	return out
}

// ResetRequests zeroes the counters.
func (sb *Sandbox) ResetRequests() {
	sb.trouble.resetCounts()
	sb.Identity.ResetCounts()
}

// tokenAuth lets Graph accept the identity platform's access tokens.
type tokenAuth struct{ id *identity.Server }

func (a tokenAuth) Authenticate(raw string) (graph.Caller, error) {
	tok, err := a.id.Authenticate(raw)
	if err != nil {
		if errors.Is(err, identity.ErrTokenExpired) {
			return graph.Caller{}, graph.ErrTokenExpired
		}
		return graph.Caller{}, err
	}
	return graph.Caller{Person: tok.Person, Scopes: tok.Scopes}, nil
}
