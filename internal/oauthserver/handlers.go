package oauthserver

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/clientip"
	"graphgate/internal/oneline"
)

// Handler serves the metadata and the token, registration and revocation
// endpoints; the authorization endpoint is the web package's consent page.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	// Some clients look for OpenID-style metadata at the same issuer.
	mux.HandleFunc("GET /.well-known/openid-configuration", s.metadata)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+RegisterPath, s.registerClient)
	mux.HandleFunc("POST "+RevokePath, s.revoke)
	return mux
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	m := map[string]any{
		"issuer":                                         s.d.Issuer,
		"authorization_endpoint":                         s.d.Issuer + AuthorizePath,
		"token_endpoint":                                 s.d.Issuer + TokenPath,
		"revocation_endpoint":                            s.d.Issuer + RevokePath,
		"scopes_supported":                               graphgate.Scopes,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": true,
		"service_documentation":                          s.d.Issuer + "/integrations",
	}
	if st, err := s.d.Store.OAuthSettings(r.Context()); err == nil && st.Registration {
		m["registration_endpoint"] = s.d.Issuer + RegisterPath
	}
	writeJSON(w, http.StatusOK, m)
}

// oauthError writes an RFC 6749 error answer.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// registrationLimit bounds Dynamic Client Registration on this replica.
// Only registrations that succeed count (a refused one is given back), so
// nobody can close registration by sending bad ones. Each address (IPv6 by
// /64) may register registrationsPerAddr an hour; once registrationsBusy
// have been made in the last hour, the noisiest addresses wait longer (an
// address may then register only while it has fewer than
// registrationsWhenBusy in the hour) instead of registration closing for
// everyone. registrationsCeiling bounds what an hour can store at all.
type registrationLimit struct {
	mu     sync.Mutex
	now    func() time.Time
	byAddr map[string][]time.Time // reservations in the last hour, oldest first
	all    []time.Time
}

const (
	registrationsPerAddr  = 10
	registrationsBusy     = 200
	registrationsWhenBusy = 2
	registrationsCeiling  = 2000
	registrationWindow    = time.Hour
)

func newRegistrationLimit(now func() time.Time) *registrationLimit {
	return &registrationLimit{now: now, byAddr: map[string][]time.Time{}}
}

// take reserves a registration for addr, or says how long it must wait.
func (l *registrationLimit) take(addr string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cutoff := now.Add(-registrationWindow)
	l.all = dropBefore(l.all, cutoff)
	mine := dropBefore(l.byAddr[addr], cutoff)
	allowed := registrationsPerAddr
	if len(l.all) >= registrationsBusy {
		allowed = registrationsWhenBusy
	}
	switch {
	case len(l.all) >= registrationsCeiling:
		return false, l.all[0].Sub(cutoff)
	case len(mine) >= allowed:
		// It waits until its own count falls back under what is allowed.
		return false, mine[len(mine)-allowed].Sub(cutoff)
	}
	l.byAddr[addr] = append(mine, now)
	l.all = append(l.all, now)
	if len(l.byAddr) > 4*registrationsCeiling {
		for k, v := range l.byAddr {
			if len(dropBefore(v, cutoff)) == 0 {
				delete(l.byAddr, k)
			}
		}
	}
	return true, 0
}

// giveBack returns a reservation whose registration was refused or failed.
func (l *registrationLimit) giveBack(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if mine := l.byAddr[addr]; len(mine) > 0 {
		l.byAddr[addr] = mine[:len(mine)-1]
	}
	if len(l.all) > 0 {
		l.all = l.all[:len(l.all)-1]
	}
}

func dropBefore(times []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(times) && !times[i].After(cutoff) {
		i++
	}
	return times[i:]
}

func (s *Server) registerClient(w http.ResponseWriter, r *http.Request) {
	settings, err := s.d.Store.OAuthSettings(r.Context())
	if err != nil {
		s.serverError(w, err)
		return
	}
	if !settings.Registration {
		oauthError(w, http.StatusForbidden, "access_denied", "Dynamic Client Registration is turned off here; use a Client ID Metadata Document")
		return
	}
	addr := clientip.Key(r.RemoteAddr)
	ok, wait := s.register.take(addr)
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(wait, time.Second).Seconds())))
		oauthError(w, http.StatusTooManyRequests, "invalid_request", "too many registrations from this address; try again later, or use a Client ID Metadata Document")
		return
	}
	registered := false
	defer func() {
		if !registered {
			s.register.giveBack(addr)
		}
	}()
	var in struct {
		RedirectURIs  []string `json:"redirect_uris"`
		ClientName    string   `json:"client_name"`
		ClientURI     string   `json:"client_uri"`
		LogoURI       string   `json:"logo_uri"`
		AuthMethod    string   `json:"token_endpoint_auth_method"`
		GrantTypes    []string `json:"grant_types"`
		ResponseTypes []string `json:"response_types"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "the body must be a JSON client metadata document")
		return
	}
	if strings.ContainsFunc(in.ClientName, oneline.Hidden) {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "client_name must not contain control or direction characters")
		return
	}
	uris, err := checkRedirectURIs(in.RedirectURIs)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_redirect_uri", err.Error())
		return
	}
	for _, g := range in.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "grant_types may be authorization_code and refresh_token")
			return
		}
	}
	if in.AuthMethod != "" && in.AuthMethod != "none" {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "only public clients are supported: token_endpoint_auth_method none")
		return
	}
	now := s.d.Now().UTC()
	c := &graphgate.OAuthClient{ID: "ggc_" + apitoken.Random()[:32], Name: cleanName(in.ClientName, "An unnamed app"),
		ClientURI: httpsOrEmpty(in.ClientURI), LogoURI: httpsOrEmpty(in.LogoURI), RedirectURIs: uris, CreatedAt: now,
		ExpiresAt: now.Add(unusedRegistration)}
	if err := s.d.Store.CreateOAuthClient(r.Context(), c); err != nil {
		s.d.Log.Error("registering a client", "err", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "the registration could not be stored")
		return
	}
	out := map[string]any{"client_id": c.ID, "client_id_issued_at": now.Unix(), "client_name": c.Name,
		"redirect_uris": c.RedirectURIs, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}}
	// Absent, not empty: clients validate these as URLs.
	if c.ClientURI != "" {
		out["client_uri"] = c.ClientURI
	}
	if c.LogoURI != "" {
		out["logo_uri"] = c.LogoURI
	}
	registered = true
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be form-encoded")
		return
	}
	f := r.PostForm
	if f.Get("client_id") == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id is required (public clients authenticate by it and PKCE)")
		return
	}
	// Per address, then per client: a client's many users share its
	// id, so its allowance is larger.
	for _, limit := range []struct {
		l   *keyedLimit
		key string
	}{{s.tokenByAddr, clientip.Key(r.RemoteAddr)}, {s.tokenByClient, apitoken.Hash(f.Get("client_id"))}} {
		if ok, wait := limit.l.allow(limit.key); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(wait, time.Second).Seconds()+0.5)))
			oauthError(w, http.StatusTooManyRequests, "temporarily_unavailable", "too many token requests; try again later")
			return
		}
	}
	if res := f.Get("resource"); res != "" && res != s.d.Resource {
		oauthError(w, http.StatusBadRequest, "invalid_target", "resource must be "+s.d.Resource)
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.redeemCode(w, r)
	case "refresh_token":
		s.refresh(w, r)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
}

func (s *Server) redeemCode(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	code, verifier := f.Get("code"), f.Get("code_verifier")
	if code == "" || len(code) > 100 || len(verifier) < 43 || len(verifier) > 128 {
		oauthError(w, http.StatusBadRequest, "invalid_request", "code and a PKCE code_verifier (43 to 128 characters) are required")
		return
	}
	ac, err := s.d.Store.ConsumeAuthCode(r.Context(), apitoken.Hash(code))
	switch {
	case graphgate.ErrorCode(err) == graphgate.ECONFLICT:
		s.codeReplayed(w, r)
		return
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, expired or was already used")
		return
	case err != nil:
		s.serverError(w, err)
		return
	case ac.ClientID != f.Get("client_id") || ac.RedirectURI != f.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client or redirect_uri")
		return
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(ac.Challenge)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code_verifier does not match the code_challenge")
		return
	}
	g := &graphgate.Grant{UserID: ac.UserID, ClientID: ac.ClientID, ClientName: ac.ClientName, RedirectHost: hostOf(ac.RedirectURI),
		Scopes: ac.Scopes, ExpiresAt: ac.GrantExpiresAt, ConfirmWrites: ac.ConfirmWrites, FromCode: ac.Hash}
	access, refresh, tokens := s.newTokens()
	err = s.d.Store.CreateGrant(r.Context(), g, tokens...)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ECONFLICT:
		s.codeReplayed(w, r)
		return
	case err != nil:
		s.serverError(w, err)
		return
	}
	s.writeTokens(w, g, access, refresh)
}

// codeReplayed answers a code redeemed a second time: whatever the first
// redemption gave is revoked (the code leaked, or the client is broken).
func (s *Server) codeReplayed(w http.ResponseWriter, r *http.Request) {
	s.d.Log.Warn("an authorization code was redeemed twice: its grant is revoked")
	_ = s.d.Audit.Record(r.Context(), nil, graphgate.ActionOAuthRevoke, "", map[string]string{"reason": "authorization code reused"})
	oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was already used; the tokens it gave are revoked: connect again")
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	raw := f.Get("refresh_token")
	if !apitoken.PlausibleRefresh(raw) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is not valid")
		return
	}
	access, refresh, tokens := s.newTokens()
	g, err := s.d.Store.RotateRefreshToken(r.Context(), apitoken.Hash(raw), tokens...)
	switch {
	case graphgate.ErrorCode(err) == graphgate.EFORBIDDEN:
		s.d.Log.Warn("a refresh token was used twice: grant revoked")
		_ = s.d.Audit.Record(r.Context(), nil, graphgate.ActionOAuthRevoke, "", map[string]string{"reason": "refresh token reused"})
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was already used; the grant is revoked: connect again")
		return
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is unknown, expired or revoked")
		return
	case err != nil:
		s.serverError(w, err)
		return
	case g.ClientID != f.Get("client_id"):
		// The token was spent on the wrong client's behalf: end the grant.
		_ = s.d.Store.RevokeGrant(r.Context(), 0, g.ID)
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token belongs to another client")
		return
	}
	s.writeTokens(w, g, access, refresh)
}

// newTokens makes an access and a refresh token, and their stored forms.
func (s *Server) newTokens() (access, refresh string, stored []*graphgate.OAuthToken) {
	access, accessHash := apitoken.NewAccess()
	refresh, refreshHash := apitoken.NewRefresh()
	now := s.d.Now()
	return access, refresh, []*graphgate.OAuthToken{
		{Hash: accessHash, ExpiresAt: now.Add(AccessTTL)},
		{Hash: refreshHash, Refresh: true},
	}
}

func (s *Server) writeTokens(w http.ResponseWriter, g *graphgate.Grant, access, refresh string) {
	expires := AccessTTL
	if !g.ExpiresAt.IsZero() {
		expires = min(expires, g.ExpiresAt.Sub(s.d.Now()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(expires.Seconds()),
		"refresh_token": refresh, "scope": strings.Join(g.Scopes, " ")})
}

func (s *Server) serverError(w http.ResponseWriter, err error) {
	s.d.Log.Error("oauth token endpoint", "err", err)
	oauthError(w, http.StatusInternalServerError, "server_error", "graphgate could not answer; try again")
}

// revoke is RFC 7009: always 200, whether the token was known or not.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	raw := r.PostForm.Get("token")
	if apitoken.PlausibleAccess(raw) || apitoken.PlausibleRefresh(raw) {
		if err := s.d.Store.RevokeOAuthToken(r.Context(), apitoken.Hash(raw)); err != nil {
			s.serverError(w, err)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func hostOf(redirect string) string {
	r := &Request{RedirectURI: redirect}
	return r.RedirectHost()
}
