package microsoft365

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/config"
)

// Scopes are the delegated permissions of the base contract; capabilities
// the admin turns on add theirs (graphgate.WantedPermissions).
var Scopes = graphgate.BasePermissions

// ConsumerTenantID is the tenant of every personal Microsoft account.
const ConsumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Client speaks to the Microsoft identity platform for one deployment: its
// login host and authority are fixed at start; the app's credentials are
// read from the store for every request, so a rotated secret is used at once.
type Client struct {
	loginURL  string
	authority string
	http      *http.Client
	now       func() time.Time

	mu   sync.Mutex
	keys *oidc.RemoteKeySet
}

// NewClient returns a client for the configured login URL and authority.
func NewClient(cfg *config.Config, httpClient *http.Client, now func() time.Time) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Client{loginURL: cfg.M365LoginURL, authority: cfg.M365Authority, http: httpClient, now: now}
}

func (c *Client) oauthConfig(app *graphgate.M365Config) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		RedirectURL:  app.RedirectURI,
		Scopes:       Scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  c.loginURL + "/" + c.authority + "/oauth2/v2.0/authorize",
			TokenURL: c.loginURL + "/" + c.authority + "/oauth2/v2.0/token",
			// client_secret_post: Entra accepts both; the body form never
			// needs the URL-encoding dance Basic does.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// Refusal says why the configured authority does not admit a linked
// account, or "" when it does. The authority is checked at linking, but an
// admin can narrow it later (common to one tenant, say): links made before
// then must stop working too, not keep refreshing.
func (c *Client) Refusal(l *graphgate.Link) string {
	switch {
	case config.IsGUID(c.authority) && !strings.EqualFold(l.TenantID, c.authority):
		return "graphgate now accepts only accounts of one organisation (tenant " + c.authority + "), and this account belongs to another. Link an account of that organisation, or ask your admin."
	case c.authority == "consumers" && l.TenantID != ConsumerTenantID:
		return "graphgate now accepts only personal Microsoft accounts, and this is a work or school account. Link a personal account, or ask your admin."
	case c.authority == "organizations" && l.TenantID == ConsumerTenantID:
		return "graphgate now accepts only work or school accounts, and this is a personal account. Link a work or school account, or ask your admin."
	}
	return ""
}

// SignInScopes are what a sign-in asks for when it does not link.
var SignInScopes = []string{"openid", "profile", "email"}

// AuthCodeURL is where Link Account sends the browser: every scope.
func (c *Client) AuthCodeURL(app *graphgate.M365Config, state, verifier, nonce string) string {
	return c.AuthCodeURLFor(app, Scopes, state, verifier, nonce)
}

// AuthCodeURLFor is AuthCodeURL asking for the scopes given; hints are
// further parameters (login_hint, domain_hint) as name, value pairs.
func (c *Client) AuthCodeURLFor(app *graphgate.M365Config, scopes []string, state, verifier, nonce string, hints ...string) string {
	cfg := c.oauthConfig(app)
	cfg.Scopes = scopes
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce), oauth2.SetAuthURLParam("response_mode", "query")}
	for i := 0; i+1 < len(hints); i += 2 {
		if hints[i+1] != "" {
			opts = append(opts, oauth2.SetAuthURLParam(hints[i], hints[i+1]))
		}
	}
	return cfg.AuthCodeURL(state, opts...)
}

// Grant is what a token request returned.
type Grant struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	IDToken      string
	// Scopes are the Graph permissions Microsoft says the access token
	// carries (its scope field: every permission the person granted the
	// app, short names); nil when the answer had no scope field.
	Scopes []string
}

// AuthError is an error answer from the identity platform.
type AuthError struct {
	Status      int
	Code        string // invalid_grant, invalid_client, ...
	AADSTS      int    // 50173, 7000215, ...
	Description string // first line of error_description
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("microsoft365: %s (AADSTS%d): %s", e.Code, e.AADSTS, e.Description)
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// AADSTSOf finds the AADSTS number in an error description.
func AADSTSOf(desc string) int {
	if m := aadstsRE.FindStringSubmatch(desc); m != nil {
		// A number too large to be a code is none.
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n
		}
	}
	return 0
}

// FirstLine keeps the part of a Microsoft error description before its trace trailer.
func FirstLine(desc string) string {
	desc, _, _ = strings.Cut(desc, "\r\n")
	desc, _, _ = strings.Cut(desc, " Trace ID:")
	return strings.TrimSpace(desc)
}

func asAuthError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	ae := &AuthError{Code: re.ErrorCode, Description: FirstLine(re.ErrorDescription)}
	if re.Response != nil {
		ae.Status = re.Response.StatusCode
	}
	var body struct {
		Codes []int `json:"error_codes"`
	}
	if json.Unmarshal(re.Body, &body) == nil && len(body.Codes) > 0 {
		ae.AADSTS = body.Codes[0]
	} else {
		ae.AADSTS = AADSTSOf(re.ErrorDescription)
	}
	if ae.Code == "" {
		ae.Code = "server_error"
	}
	return ae
}

func (c *Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

func grantOf(tok *oauth2.Token) *Grant {
	g := &Grant{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	g.IDToken, _ = tok.Extra("id_token").(string)
	if scope, ok := tok.Extra("scope").(string); ok {
		g.Scopes = GrantedScopes(scope)
	}
	return g
}

// graphResource is how Microsoft qualifies Graph permissions.
const graphResource = "https://graph.microsoft.com/"

// GrantedScopes reads a token response's scope field: the Graph
// permissions, short names (Calendars.ReadWrite), in Microsoft's spelling;
// OpenID scopes and other resources' are left out. Microsoft sends both
// qualified and short forms, in any case: callers compare without case.
func GrantedScopes(scope string) []string {
	out := []string{}
	for _, s := range strings.Fields(scope) {
		if len(s) > len(graphResource) && strings.EqualFold(s[:len(graphResource)], graphResource) {
			s = s[len(graphResource):]
		} else if strings.Contains(s, "/") {
			continue
		}
		if !strings.Contains(s, ".") || len(s) > 100 || graphgate.HasPermission(out, s) {
			continue // openid, email, profile, offline_access; junk
		}
		out = append(out, s)
	}
	return out
}

// Exchange redeems an authorization code with the PKCE verifier. A refresh
// token comes only with offline_access: callers that keep a grant check it.
func (c *Client) Exchange(ctx context.Context, app *graphgate.M365Config, code, verifier string) (*Grant, error) {
	tok, err := c.oauthConfig(app).Exchange(c.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, asAuthError(err)
	}
	return grantOf(tok), nil
}

// Refresh spends a refresh token. Microsoft answers with a new one, which
// replaces it.
func (c *Client) Refresh(ctx context.Context, app *graphgate.M365Config, refreshToken string) (*Grant, error) {
	src := c.oauthConfig(app).TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		return nil, asAuthError(err)
	}
	g := grantOf(tok)
	if g.RefreshToken == "" {
		g.RefreshToken = refreshToken
	}
	return g, nil
}

// Identity is who an id_token names.
type Identity struct {
	TenantID, ObjectID, Username, Name string
	// Email is the address Microsoft vouches for, or "" (see
	// verifiedEmail): the only one email-based rules may trust.
	Email string
	// Roles are the app roles Entra assigned the person (the roles claim).
	Roles []string
}

// verifiedEmail is the address of an id_token that Microsoft verified. The
// email claim of a work or school account is whatever the account's tenant
// admin wrote in its mail attribute, any domain at all; Microsoft says it
// is verified with the optional claim xms_edov. The UPN
// (preferred_username) can only be in a domain the tenant verified. A
// personal account's email is one Microsoft verified.
func verifiedEmail(personal bool, email, upn string, edov json.RawMessage) string {
	switch {
	case personal && email != "":
		return email
	case email != "" && claimTrue(edov):
		return email
	case strings.Contains(upn, "@"):
		return upn
	}
	return ""
}

// claimTrue reads a boolean claim, which tokens carry as true, "true" or 1.
func claimTrue(raw json.RawMessage) bool {
	switch strings.Trim(string(raw), `"`) {
	case "true", "1":
		return true
	}
	return false
}

// Personal reports whether this is a personal Microsoft account.
func (i *Identity) Personal() bool { return i.TenantID == ConsumerTenantID }

// ErrIDToken is returned for an id_token that fails any check.
var ErrIDToken = errors.New("the id_token failed verification")

func (c *Client) keySet() *oidc.RemoteKeySet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), c.http),
			c.loginURL+"/"+c.authority+"/discovery/v2.0/keys")
	}
	return c.keys
}

// VerifyIDToken checks signature (against the JWKS), audience, expiry and
// nonce with go-oidc, then the tenant-aware issuer: the multi-tenant
// discovery document's issuer is a template, so the issuer must equal
// {login}/{tid}/v2.0 for the token's own tid; with a tenant authority, tid
// must be that tenant.
func (c *Client) VerifyIDToken(ctx context.Context, clientID, raw, nonce string) (*Identity, error) {
	v := oidc.NewVerifier("", c.keySet(), &oidc.Config{ClientID: clientID, SkipIssuerCheck: true, Now: c.now})
	tok, err := v.Verify(oidc.ClientContext(ctx, c.http), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIDToken, err)
	}
	var claims struct {
		TID               string `json:"tid"`
		OID               string `json:"oid"`
		PreferredUsername string `json:"preferred_username"`
		Name              string `json:"name"`
		Email             string `json:"email"`
		// EmailVerified is the optional claim xms_edov: whether the
		// email's domain owner is verified.
		EmailVerified json.RawMessage `json:"xms_edov"`
		Roles         []string        `json:"roles"`
	}
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIDToken, err)
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 || nonce == "":
		return nil, fmt.Errorf("%w: nonce does not match", ErrIDToken)
	case !config.IsGUID(claims.TID) || claims.OID == "":
		return nil, fmt.Errorf("%w: missing tid or oid", ErrIDToken)
	case tok.Issuer != c.loginURL+"/"+strings.ToLower(claims.TID)+"/v2.0":
		return nil, fmt.Errorf("%w: issuer %q does not match tenant %s", ErrIDToken, tok.Issuer, claims.TID)
	case config.IsGUID(c.authority) && !strings.EqualFold(claims.TID, c.authority):
		return nil, fmt.Errorf("%w: tenant %s is not the configured tenant", ErrIDToken, claims.TID)
	case c.authority == "consumers" && claims.TID != ConsumerTenantID, c.authority == "organizations" && claims.TID == ConsumerTenantID:
		return nil, fmt.Errorf("%w: account kind not allowed by the authority", ErrIDToken)
	}
	tid := strings.ToLower(claims.TID)
	return &Identity{TenantID: tid, ObjectID: claims.OID, Username: claims.PreferredUsername, Name: claims.Name,
		Email: verifiedEmail(tid == ConsumerTenantID, claims.Email, claims.PreferredUsername, claims.EmailVerified), Roles: claims.Roles}, nil
}
