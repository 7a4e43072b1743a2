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

// FuzzAuthorizeProblem: whatever error and description Microsoft's answer
// (or someone posing as it) carries, the message is short plain text.
func FuzzAuthorizeProblem(f *testing.F) {
	f.Add("access_denied", "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x")
	f.Add("invalid_request", "AADSTS50020: User account from identity provider does not exist in tenant.")
	f.Add("server_error", "")
	f.Add(strings.Repeat("x", 5000), strings.Repeat("<script>", 1000))
	f.Add("a\r\nSet-Cookie: x=y", "b\x00c")
	f.Fuzz(func(t *testing.T, code, desc string) {
		msg := authorizeProblem(code, desc)
		if len(msg) > 600 || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
			t.Fatalf("message %q", msg)
		}
	})
}
