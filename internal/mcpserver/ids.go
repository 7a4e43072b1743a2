package mcpserver

import (
	"net/url"
	"strings"
	"unicode"
)

// maxID bounds an id an agent hands back: Graph's ids are a few hundred
// characters at most.
const maxID = 1024

// idSegment returns id escaped as one path segment, or false when it could
// not be one of Graph's ids: empty, too long, "." or ".." (which would
// climb to another Graph path), or holding separators, backslashes or
// control characters.
func idSegment(id string) (string, bool) {
	if id == "" || len(id) > maxID || id == "." || id == ".." || strings.ContainsAny(id, `/?#\:%`) ||
		strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return "", false
	}
	return url.PathEscape(id), true
}

// hasDotSegment reports whether a relative Graph path (with its query) has
// a "." or ".." segment, plain or percent-encoded.
func hasDotSegment(p string) bool {
	p, _, _ = strings.Cut(p, "?")
	for seg := range strings.SplitSeq(p, "/") {
		if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." {
			return true
		}
	}
	return false
}
