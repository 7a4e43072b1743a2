// Package apitoken makes, recognises and checks graphgate's bearer tokens.
// A token is a prefix and 43 random base62-ish characters: "ggt_" for agent
// and admin API tokens, "gga_" for OAuth access tokens, "ggr_" for OAuth
// refresh tokens; the prefixes let secret scanners find leaked ones. Only
// the SHA-256 of a token is ever stored (Hash, also for every other secret
// graphgate hands out once: sessions, states, links, codes).
package apitoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefixes of the kinds of token.
const (
	Prefix        = "ggt_" // agent and admin API tokens
	AccessPrefix  = "gga_" // OAuth access tokens
	RefreshPrefix = "ggr_" // OAuth refresh tokens
)

// New returns a fresh ggt_ token, the part shown in lists, and its hash.
func New() (token, display, hash string) {
	token = withPrefix(Prefix)
	return token, token[:len(Prefix)+6], Hash(token)
}

// NewAccess returns a fresh OAuth access token and its hash.
func NewAccess() (token, hash string) {
	token = withPrefix(AccessPrefix)
	return token, Hash(token)
}

// NewRefresh returns a fresh OAuth refresh token and its hash.
func NewRefresh() (token, hash string) {
	token = withPrefix(RefreshPrefix)
	return token, Hash(token)
}

// Random returns 32 random bytes, base64url: for codes, states, links.
func Random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func withPrefix(p string) string {
	return p + strings.NewReplacer("-", "A", "_", "z").Replace(Random())
}

// Hash returns the stored form of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Plausible reports whether s has a ggt_ token's shape, before any lookup.
func Plausible(s string) bool { return shaped(s, Prefix) }

// PlausibleAccess reports whether s has an OAuth access token's shape.
func PlausibleAccess(s string) bool { return shaped(s, AccessPrefix) }

// PlausibleRefresh reports whether s has an OAuth refresh token's shape.
func PlausibleRefresh(s string) bool { return shaped(s, RefreshPrefix) }

func shaped(s, prefix string) bool { return strings.HasPrefix(s, prefix) && len(s) == len(prefix)+43 }

// FromHeader reads a bearer token from an Authorization header value. The
// scheme is case-insensitive (RFC 9110 11.1): "bearer x" is "Bearer x".
func FromHeader(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
