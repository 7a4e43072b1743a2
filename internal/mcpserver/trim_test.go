package mcpserver

import (
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
