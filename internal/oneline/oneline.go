// Package oneline keeps text other people wrote on its one line. Multi-line
// text (a mail body, a file) reaches agents inside an <untrusted-content>
// block; one-line fields (a subject, a name, a file name, a preview, an
// event's title or location, an app's name) are rendered on the line of
// their item, outside any block, or on a page beside fields of graphgate's
// own, so they must not be able to start a line of their own or reorder
// what is shown: Clean folds their line breaks, control and
// direction-changing characters into spaces. A confirmation shows them
// escaped instead (Escape), so the person sees that something odd is there.
package oneline

import (
	"fmt"
	"strings"
	"unicode"
)

// Hidden reports whether r is a character that changes how text is laid
// out rather than showing as itself: controls (line breaks, tabs, NUL, DEL,
// C1), line and paragraph separators, and the bidirectional formatting
// characters that reorder what is shown (U+202E and its kin).
func Hidden(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029' || r == '\u061c' || r == '\u200e' || r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Clean is s with every hidden character turned into a space and runs of
// white space folded into one, trimmed.
func Clean(s string) string {
	if !strings.ContainsFunc(s, Hidden) && !strings.Contains(s, "  ") && s == strings.TrimSpace(s) {
		return s // most fields: no copy
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return Hidden(r) || unicode.IsSpace(r) }), " ")
}

// Escape is s with every hidden character written as an escape
// (\n, \t, \u202e), so that it shows on one line for what it is.
func Escape(s string) string {
	if !strings.ContainsFunc(s, Hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case Hidden(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
