// Package apitoken makes and recognises graphgate's bearer tokens. A token
// is "ggt_" and 43 random base62-ish characters; the prefix lets secret
// scanners find leaked ones. Only the SHA-256 of a token is ever stored.
package apitoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefix starts every token.
const Prefix = "ggt_"

// New returns a fresh token, the part shown in lists, and its hash.
func New() (token, display, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	token = Prefix + strings.NewReplacer("-", "A", "_", "z").Replace(base64.RawURLEncoding.EncodeToString(b))
	return token, token[:len(Prefix)+6], Hash(token)
}

// Hash returns the stored form of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Plausible reports whether s has a token's shape, before any lookup.
func Plausible(s string) bool { return strings.HasPrefix(s, Prefix) && len(s) == len(Prefix)+43 }
