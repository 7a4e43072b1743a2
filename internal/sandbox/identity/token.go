package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"time"

	"graphgate/internal/sandbox/directory"
)

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeTokenError(w, r, errMissingParam("grant_type"))
		return
	}
	grant := r.PostForm.Get("grant_type")
	s.mu.Lock()
	s.counts[grant]++
	s.mu.Unlock()

	auth, ok := s.resolveAuthority(r.PathValue("tenant"))
	if !ok {
		s.writeTokenError(w, r, errTenantNotFound(r.PathValue("tenant")))
		return
	}
	if grant == "" {
		s.writeTokenError(w, r, errMissingParam("grant_type"))
		return
	}
	if e, ok := s.authenticateClient(r, auth); !ok {
		s.writeTokenError(w, r, e)
		return
	}
	switch grant {
	case "authorization_code":
		s.redeemCode(w, r)
	case "refresh_token":
		s.refresh(w, r)
	default:
		s.writeTokenError(w, r, errUnsupportedGrant)
	}
}

// authenticateClient checks client_id and the secret, sent in the body
// (client_secret_post) or as HTTP Basic (client_secret_basic).
func (s *Server) authenticateClient(r *http.Request, auth authority) (aadError, bool) {
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id, sec, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: Basic credentials are form-encoded before base64.
		id, _ = urlUnescape(id)
		sec, _ = urlUnescape(sec)
		if clientID == "" {
			clientID = id
		}
		if secret == "" {
			secret = sec
		}
	}
	app := s.App()
	switch {
	case clientID == "":
		return errMissingParam("client_id"), false
	case clientID != app.ClientID:
		return errUnknownClient(clientID, auth.raw), false
	case app.SingleTenant && auth.kind == "common":
		return errNotCommon, false
	case secret == "":
		return errSecretMissing, false
	}
	sec, ok := app.secretMatch(secret)
	if !ok {
		return errSecretInvalid, false
	}
	if sec.Expired(s.now()) {
		return errSecretExpired(clientID), false
	}
	return aadError{}, true
}

func (s *Server) redeemCode(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	raw := f.Get("code")
	if raw == "" {
		s.writeTokenError(w, r, errMissingParam("code"))
		return
	}
	if f.Get("redirect_uri") == "" {
		s.writeTokenError(w, r, errMissingParam("redirect_uri"))
		return
	}
	s.mu.Lock()
	code, ok := s.codes[raw]
	var e aadError
	switch {
	case !ok || code.clientID != f.Get("client_id") && f.Get("client_id") != "":
		e = errMalformedGrant
	case code.redeemed:
		e = errCodeRedeemed
	case !s.now().Before(code.expires):
		e = errCodeExpired
	case code.redirectURI != f.Get("redirect_uri"):
		e = errRedirectMismatch
	case code.challenge != "" && !verifierMatches(code, f.Get("code_verifier")):
		e = errVerifier
	}
	if e.Code == 0 {
		// Single use: a second redemption of this code fails with AADSTS54005.
		code.redeemed = true
	}
	s.mu.Unlock()
	if e.Code != 0 {
		s.writeTokenError(w, r, e)
		return
	}
	scopes := code.scopes
	if f.Get("scope") != "" {
		requested, bad := s.App().parseScopes(f.Get("scope"))
		if bad != "" {
			s.writeTokenError(w, r, errBadScope(bad))
			return
		}
		if !subset(requested, scopes) {
			s.writeTokenError(w, r, errScopeUnauthorized)
			return
		}
	}
	sess := &session{person: code.person, scopes: code.scopes, lastUsed: s.now()}
	s.issue(w, r, sess, scopes, code.nonce)
}

func verifierMatches(code *authCode, verifier string) bool {
	if verifier == "" {
		return false
	}
	if code.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == code.challenge
	}
	return verifier == code.challenge
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	raw := f.Get("refresh_token")
	if raw == "" {
		s.writeTokenError(w, r, errMissingParam("refresh_token"))
		return
	}
	now := s.now()
	s.mu.Lock()
	sess, ok := s.sessions[raw]
	var e aadError
	switch {
	case !ok:
		e = errMalformedGrant
	case sess.dead == 50173:
		e = errRevoked
	case sess.dead == 700082 || now.Sub(sess.lastUsed) > s.refreshIdle:
		e = errRefreshIdle
	case sess.dead == 65001:
		e = errConsentRequired(f.Get("client_id"))
	case sess.dead == 50076:
		e = errMFARequired
	case sess.dead == 50079:
		e = errMFAEnrollment
	case sess.dead == 53003:
		e = errBlockedByPolicy
	}
	if e.Code == 0 {
		sess.lastUsed = now // the 90-day window slides with every use
	}
	s.mu.Unlock()
	if e.Code != 0 {
		s.writeTokenError(w, r, e)
		return
	}
	scopes := sess.scopes
	if f.Get("scope") != "" {
		requested, bad := s.App().parseScopes(f.Get("scope"))
		if bad != "" {
			s.writeTokenError(w, r, errBadScope(bad))
			return
		}
		s.mu.Lock()
		granted := s.grantedLocked(sess.person)
		s.mu.Unlock()
		if !containsAll(granted, graphScopes(requested)) {
			s.writeTokenError(w, r, errConsentRequired(f.Get("client_id")))
			return
		}
		scopes = requested
	}
	s.issue(w, r, sess, scopes, "")
}

// issue mints tokens for a session. The new refresh token joins the session;
// earlier refresh tokens of the session are not revoked, as on Microsoft.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, sess *session, scopes []string, nonce string) {
	now := s.now()
	ttl := s.accessTTL
	if ttl == 0 {
		ttl = time.Duration(60+rand.IntN(31)) * time.Minute
	}
	// Like Microsoft, tokens carry every Graph permission the person (or
	// their admin) granted the app, not only those asked for now: an old
	// refresh token mints tokens with permissions consented since.
	s.mu.Lock()
	granted := s.grantedLocked(sess.person)
	s.mu.Unlock()
	var carried []string
	for _, sc := range scopes {
		if info, _ := lookupScope(sc); !info.Graph {
			carried = append(carried, sc)
		}
	}
	for _, info := range knownScopes {
		if info.Graph && granted[info.Name] {
			carried = append(carried, info.Name)
		}
	}
	scopes = carried
	resp := tokenResponse{
		TokenType:    "Bearer",
		Scope:        responseScope(scopes),
		ExpiresIn:    int(ttl.Seconds()),
		ExtExpiresIn: int(ttl.Seconds()),
		AccessToken:  opaque("EwB", 96),
	}
	carries := map[string]bool{}
	for _, sc := range graphScopes(scopes) {
		carries[sc] = true
	}
	s.mu.Lock()
	s.pruneLocked(now)
	s.access[resp.AccessToken] = &AccessToken{Person: sess.person, Scopes: carries, Expires: now.Add(ttl)}
	if slices.Contains(sess.scopes, "offline_access") {
		resp.RefreshToken = opaque("M.C5", 192)
		s.sessions[resp.RefreshToken] = sess
		live := s.byPerson[sess.person.ObjectID]
		if live == nil {
			live = map[*session]bool{}
			s.byPerson[sess.person.ObjectID] = live
		}
		live[sess] = true
	}
	s.mu.Unlock()
	if slices.Contains(scopes, "openid") {
		idt, err := s.keys.idToken(s.idTokenClaims(r, sess.person, scopes, nonce, now))
		if err != nil {
			http.Error(w, "signing id_token", http.StatusInternalServerError)
			return
		}
		resp.IDToken = idt
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(resp)
}

// pruneLocked drops expired access tokens and codes so a long-running sandbox
// does not grow without bound. It runs at most once per minute of clock.
func (s *Server) pruneLocked(now time.Time) {
	if now.Sub(s.lastPrune) < time.Minute {
		return
	}
	s.lastPrune = now
	for k, t := range s.access {
		if now.Sub(t.Expires) > time.Hour {
			delete(s.access, k)
		}
	}
	for k, c := range s.codes {
		if now.Sub(c.expires) > time.Hour {
			delete(s.codes, k)
		}
	}
}

func (s *Server) idTokenClaims(r *http.Request, p *directory.Person, scopes []string, nonce string, now time.Time) map[string]any {
	app := s.App()
	c := map[string]any{
		"aud": app.ClientID,
		"iss": issuerFor(baseURL(r), p.Tenant.ID),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"ver": "2.0",
		"tid": p.Tenant.ID,
		"oid": p.ObjectID,
		// sub is pairwise: the same person has a different sub in every app.
		"sub":                pairwiseSubject(p.ObjectID, app.ClientID),
		"preferred_username": p.UPN,
		"uti":                opaque("", 16),
		"rh":                 "0.AX" + opaque("", 24),
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if roles := s.rolesOf(p); len(roles) > 0 {
		c["roles"] = roles
	}
	if slices.Contains(scopes, "profile") {
		c["name"] = p.DisplayName
	}
	if slices.Contains(scopes, "email") {
		c["email"] = p.MailAddress()
		if !p.Personal() {
			// The optional claim xms_edov, as an app registration that
			// asks for it gets it: whether the email's domain owner is
			// verified.
			c["xms_edov"] = p.MailVerified()
		}
	}
	return c
}

func pairwiseSubject(oid, clientID string) string {
	sum := sha256.Sum256([]byte("sandbox-pairwise|" + oid + "|" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

func subset(want, have []string) bool {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }
