package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// FuzzSafeNext: a post-sign-in redirect is a path on this site or nothing.
func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{"/integrations", "/\t/evil.example", "//evil.example", `/\evil.example`, "https://evil.example",
		"/%2F/evil", "javascript:alert(1)", "/a?next=//evil", "/ /x", "\x00", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") ||
			strings.ContainsAny(got, "\\") || strings.IndexFunc(got, func(r rune) bool { return r <= ' ' || unicode.IsSpace(r) }) >= 0 {
			t.Fatalf("%q kept as %q", next, got)
		}
	})
}
