package mcpserver

import (
	"context"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"graphgate/internal/secretbox"
)

// Cursors are Graph's nextLinks made opaque, relative and bound. Relative:
// a cursor carries no host, so it can only be followed inside the
// configured Graph URL. Bound: it carries a MAC over the tool, the person
// and the path under the keyring every replica shares, so it continues only
// the listing that issued it. Without the binding, a token limited to the
// calendar could hand list_events a cursor of its own making and read mail.
//
// A cursor is base64url(path) "." base64url(MAC).

const (
	cursorPurpose = "mcp cursor v1"
	cursorMACSize = secretbox.MinMAC
	maxCursor     = 8 << 10
)

var errBadCursor = invalid("the cursor is not valid for this tool: pass back exactly the next_cursor the previous call of the same tool returned, or leave cursor out to start again")

// cursorOf turns a nextLink into a cursor for the tool being run.
func (s *Server) cursorOf(ctx context.Context, nextLink string) string {
	if nextLink == "" {
		return ""
	}
	u, err := url.Parse(nextLink)
	if err != nil {
		return ""
	}
	i := strings.Index(u.Path, "/v1.0/")
	if i < 0 {
		return ""
	}
	rel := u.Path[i+len("/v1.0/"):]
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	mac := s.d.Keys.MAC(cursorPurpose, cursorSubject(ctx, rel))[:cursorMACSize]
	return base64.RawURLEncoding.EncodeToString([]byte(rel)) + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// pathOfCursor returns the Graph path a cursor continues, refusing any
// cursor this tool did not issue to this person.
func (s *Server) pathOfCursor(ctx context.Context, cursor string) (string, error) {
	// Only the characters graphgate writes: base64 decoding would skip
	// line breaks, giving one cursor many spellings.
	if len(cursor) > maxCursor || strings.IndexFunc(cursor, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return "", errBadCursor
	}
	p64, m64, ok := strings.Cut(cursor, ".")
	if !ok {
		return "", errBadCursor
	}
	// Strict: one cursor has one spelling (no stray bits in the last character).
	enc := base64.RawURLEncoding.Strict()
	path, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || len(path) == 0 || len(mac) != cursorMACSize {
		return "", errBadCursor
	}
	if !s.d.Keys.VerifyMAC(cursorPurpose, cursorSubject(ctx, string(path)), mac) {
		return "", errBadCursor
	}
	if strings.Contains(string(path), "://") || strings.HasPrefix(string(path), "/") || hasDotSegment(string(path)) {
		return "", errBadCursor
	}
	return string(path), nil
}

// cursorSubject is what a cursor's MAC covers: the tool, the person, the path.
func cursorSubject(ctx context.Context, path string) []byte {
	tc := callFromContext(ctx)
	user := int64(0)
	if tc.caller != nil {
		user = tc.caller.user.ID
	}
	return []byte(tc.tool + "\x00" + strconv.FormatInt(user, 10) + "\x00" + path)
}
