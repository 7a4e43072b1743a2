// Package oauthserver is graphgate's OAuth 2.1 authorization server for its
// MCP endpoint: metadata (RFC 8414), clients by Client ID Metadata Document
// or Dynamic Client Registration (RFC 7591), authorization codes with PKCE
// S256 and resource indicators (RFC 8707), rotating refresh tokens with
// reuse detection, and revocation (RFC 7009). The consent page is the web
// package's; it asks this package to check requests and issue codes.
package oauthserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"graphgate"
	"graphgate/internal/apitoken"
)

// Lifetimes.
const (
	CodeTTL   = 60 * time.Second
	AccessTTL = time.Hour
	// unusedRegistration is how long a registered client that never gets a
	// grant is kept.
	unusedRegistration = 24 * time.Hour
)

// Paths of the endpoints.
const (
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/oauth/token"
	RegisterPath  = "/oauth/register"
	RevokePath    = "/oauth/revoke"
)

// Auditor records grants and revocations in the audit log.
type Auditor interface {
	Record(ctx context.Context, actor *graphgate.User, action, target string, details map[string]string) error
}

// Deps are what the authorization server needs.
type Deps struct {
	Store    graphgate.Store
	Issuer   string // graphgate's base URL
	Resource string // the MCP endpoint's URL: the only audience of its tokens
	// AllowPrivateClients lets client metadata come from private and
	// loopback addresses (development only).
	AllowPrivateClients bool
	Audit               Auditor
	Log                 *slog.Logger
	Now                 func() time.Time
}

// Server is the authorization server.
type Server struct {
	d        Deps
	fetch    *http.Client
	cache    metadataCache
	register *registrationLimit
	// tokenByAddr and tokenByClient bound /oauth/token.
	tokenByAddr, tokenByClient *keyedLimit
}

// Token endpoint allowances: a person's client refreshes about hourly; a
// burst covers a client starting up or a few people behind one address.
const (
	tokensPerMinuteByAddr   = 60
	tokenBurstByAddr        = 30
	tokensPerMinuteByClient = 600
	tokenBurstByClient      = 200
)

// New returns an authorization server.
func New(d Deps) (*Server, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("oauthserver: a store is required")
	case d.Issuer == "" || d.Resource == "":
		return nil, errors.New("oauthserver: the issuer and the resource are required")
	case d.Audit == nil:
		return nil, errors.New("oauthserver: an auditor is required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Server{d: d, fetch: newFetcher(d.AllowPrivateClients), cache: metadataCache{m: map[string]cached{}},
		register:      newRegistrationLimit(d.Now),
		tokenByAddr:   newKeyedLimit(d.Now, tokensPerMinuteByAddr, tokenBurstByAddr),
		tokenByClient: newKeyedLimit(d.Now, tokensPerMinuteByClient, tokenBurstByClient)}, nil
}

// Request is a checked authorization request, waiting for the person's
// decision on the consent page.
type Request struct {
	Client      *Client
	RedirectURI string
	State       string
	Challenge   string
	Resource    string
	// Scopes are what the client asked for (all of them when it named none).
	Scopes []string
}

// RedirectHost is where the person goes back to, for the consent page.
func (r *Request) RedirectHost() string {
	if u, err := url.Parse(r.RedirectURI); err == nil && u.Host != "" {
		return u.Hostname()
	}
	u, _ := url.Parse(r.RedirectURI)
	return u.Scheme + ":"
}

// PageError is a request that cannot be answered by a redirect (unknown
// client, unregistered redirect URI): it is shown on graphgate's own page,
// so graphgate never redirects anywhere it was not told to by the client.
type PageError struct{ Message string }

func (e *PageError) Error() string { return e.Message }

// Check validates an authorization request. A *PageError is shown to the
// person; any other problem comes back as a redirect URL carrying the error
// for the client (with the state and iss).
func (s *Server) Check(ctx context.Context, q url.Values) (*Request, string, error) {
	for _, single := range []string{"client_id", "redirect_uri", "state", "code_challenge", "resource", "scope", "response_type"} {
		if len(q[single]) > 1 {
			return nil, "", &PageError{"The request repeats " + single + "."}
		}
	}
	c, err := s.client(ctx, q.Get("client_id"))
	if errors.Is(err, ErrUnknownClient) {
		return nil, "", &PageError{"The app that sent you here is not known to graphgate (" + err.Error() + "). Go back to the app and connect again."}
	}
	if err != nil {
		return nil, "", err
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(c.RedirectURIs) == 1 {
		redirect = c.RedirectURIs[0]
	}
	if !redirectMatches(c.RedirectURIs, redirect) {
		return nil, "", &PageError{"The app asked to send you back to an address it did not register. Nothing was shared; go back to the app."}
	}
	r := &Request{Client: c, RedirectURI: redirect, State: q.Get("state"), Challenge: q.Get("code_challenge"), Resource: q.Get("resource")}
	fail := func(code, desc string) (*Request, string, error) {
		return nil, s.errorRedirect(r, code, desc), nil
	}
	switch {
	case q.Get("response_type") != "code":
		return fail("unsupported_response_type", "response_type must be code")
	case r.State == "" || len(r.State) > 500:
		return fail("invalid_request", "state is required (at most 500 characters)")
	case q.Get("code_challenge_method") != "S256" || len(r.Challenge) != 43:
		return fail("invalid_request", "PKCE with code_challenge_method S256 is required")
	case r.Resource != s.d.Resource:
		return fail("invalid_target", "resource must be "+s.d.Resource)
	}
	if r.Scopes, err = parseScopes(q.Get("scope")); err != nil {
		return fail("invalid_scope", err.Error())
	}
	return r, "", nil
}

// parseScopes reads a scope parameter: none means everything graphgate offers.
func parseScopes(raw string) ([]string, error) {
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return slices.Clone(graphgate.Scopes), nil
	}
	var out []string
	for _, f := range fields {
		switch {
		case slices.Contains(graphgate.Scopes, f):
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		case f == "openid" || f == "offline_access":
			// Asked for by generic clients; graphgate issues no id_token and
			// always a refresh token.
		default:
			return nil, fmt.Errorf("unknown scope %q (graphgate offers %s)", f, strings.Join(graphgate.Scopes, " "))
		}
	}
	if len(out) == 0 {
		return slices.Clone(graphgate.Scopes), nil
	}
	return out, nil
}

// errorRedirect is the client's redirect URI with an error (RFC 6749
// section 4.1.2.1) and the issuer (RFC 9207).
func (s *Server) errorRedirect(r *Request, code, desc string) string {
	return withParams(r.RedirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {r.State}, "iss": {s.d.Issuer}})
}

func withParams(redirect string, params url.Values) string {
	u, _ := url.Parse(redirect)
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Deny answers the client that the person declined.
func (s *Server) Deny(r *Request) string {
	return s.errorRedirect(r, "access_denied", "the person denied the request")
}

// Allow issues an authorization code for what the person allowed and
// returns where to send the browser.
func (s *Server) Allow(ctx context.Context, r *Request, user *graphgate.User, scopes []string, grantExpires time.Time, confirmWrites bool) (string, error) {
	code := apitoken.Random()
	if err := s.d.Store.CreateAuthCode(ctx, &graphgate.AuthCode{Hash: apitoken.Hash(code), UserID: user.ID, ClientID: r.Client.ID,
		ClientName: r.Client.Name, RedirectURI: r.RedirectURI, Challenge: r.Challenge, Resource: r.Resource, Scopes: scopes,
		GrantExpiresAt: grantExpires, ConfirmWrites: confirmWrites, ExpiresAt: s.d.Now().Add(CodeTTL)}); err != nil {
		return "", err
	}
	if err := s.d.Audit.Record(ctx, user, graphgate.ActionOAuthGrant, r.Client.Name, map[string]string{"client_id": r.Client.ID,
		"scopes": strings.Join(scopes, " "), "redirect_host": r.RedirectHost()}); err != nil {
		return "", err
	}
	return withParams(r.RedirectURI, url.Values{"code": {code}, "state": {r.State}, "iss": {s.d.Issuer}}), nil
}

// s256 is the PKCE S256 challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
