package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// signingKey is the RS256 key id_tokens are signed with, published in the JWKS
// with its certificate as Microsoft does (x5c, x5t).
type signingKey struct {
	kid    string
	x5t    string
	key    *rsa.PrivateKey
	cert   []byte
	signer jose.Signer
}

// processKey is generated once per process: RSA key generation is the
// slowest part of starting a sandbox, and Microsoft too signs for every
// tenant with the same few keys.
var processKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newSigningKey() (*signingKey, error) {
	key, err := processKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "accounts.sandbox.graphgate"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(5, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der) // x5t is defined as the SHA-1 thumbprint
	x5t := base64.RawURLEncoding.EncodeToString(sum[:])
	sk := &signingKey{kid: x5t, x5t: x5t, key: key, cert: der}
	sk.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", sk.kid))
	if err != nil {
		return nil, err
	}
	return sk, nil
}

func (k *signingKey) idToken(claims map[string]any) (string, error) {
	return jwt.Signed(k.signer).Claims(claims).Serialize()
}

// issuerTemplate is the issuer the multi-tenant documents advertise: it is a
// template, not a value an id_token ever carries.
func issuerTemplate(base string) string { return base + "/{tenantid}/v2.0" }

func (s *Server) discoveryIssuer(r *http.Request, a authority) string {
	if a.tenant != nil {
		return issuerFor(baseURL(r), a.tenant.ID)
	}
	return issuerTemplate(baseURL(r))
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	a, ok := s.resolveAuthority(r.PathValue("tenant"))
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": "invalid_tenant", "error_description": errTenantNotFound(r.PathValue("tenant")).description(s.now(), newGUID(), newGUID()),
			"error_codes": []int{90002},
		})
		return
	}
	base := baseURL(r)
	seg := a.raw
	if a.tenant != nil {
		seg = a.tenant.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/" + seg + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/" + seg + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                s.discoveryIssuer(r, a),
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     base + "/oidc/userinfo",
		"authorization_endpoint":                base + "/" + seg + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/" + seg + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/" + seg + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email", "roles", "xms_edov"},
		"kerberos_endpoint":     base + "/" + seg + "/kerberos",
		"tenant_region_scope":   nil,
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          "graph.microsoft.com",
		"rbac_url":              "https://pas.windows.net",
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	a, ok := s.resolveAuthority(r.PathValue("tenant"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	pub := s.keys.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty":    "RSA",
		"use":    "sig",
		"kid":    s.keys.kid,
		"x5t":    s.keys.x5t,
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c":    []string{base64.StdEncoding.EncodeToString(s.keys.cert)},
		"issuer": s.discoveryIssuer(r, a),
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
