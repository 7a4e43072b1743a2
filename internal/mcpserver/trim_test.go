package mcpserver

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTrimRunes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven runes", 10, "eleven ru…"},
		{"Grüße aus Köln", 6, "Grüße…"},
		{"a  b  c  d", 4, "a…"}, // no space before the ellipsis
		{"日本語のテキスト", 4, "日本語…"},
	} {
		if got := trimRunes(c.in, c.n); got != c.want || utf8.RuneCountInString(got) > c.n {
			t.Errorf("trimRunes(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// FuzzTrimRunes: a trimmed text is never longer than asked, and is the
// start of the original, spaces aside (before its ellipsis).
func FuzzTrimRunes(f *testing.F) {
	f.Add("Grüße aus Köln", 6)
	f.Add("short", 10)
	f.Add("\xff\xfeinvalid", 3)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 2 || n > 1000 {
			return
		}
		got := trimRunes(s, n)
		if utf8.RuneCountInString(got) > n {
			t.Fatalf("trimRunes(%q, %d) = %q: %d runes", s, n, got, utf8.RuneCountInString(got))
		}
		if got != s && !strings.HasPrefix(strings.TrimSpace(s), strings.TrimSuffix(got, "…")) {
			t.Fatalf("trimRunes(%q, %d) = %q: not its start", s, n, got)
		}
	})
}
