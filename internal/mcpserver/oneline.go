package mcpserver

import (
	"fmt"
	"strings"
	"unicode"
)

// Text other people wrote reaches agents in two shapes. Multi-line text (a
// body, a file) goes inside an <untrusted-content> block (untrusted.go).
// One-line fields (a subject, a name, a file name, a preview, an event's
// title or location) are rendered on the line of their item, outside any
// block, so they must not be able to start a line of their own: oneLine
// folds their line breaks, control and direction-changing characters into
// spaces. A confirmation shows them escaped instead (escapeControls), so
// the person sees that something odd is there.

// hidden reports whether r is a character that changes how text is laid
// out rather than showing as itself: controls (line breaks, tabs, NUL, DEL,
// C1), line and paragraph separators, and the bidirectional formatting
// characters that reorder what is shown (U+202E and its kin).
func hidden(r rune) bool {
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

// oneLine is s with every hidden character turned into a space and runs of
// white space folded into one, trimmed.
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) || r == ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s // most fields are one word or have no oddity: no copy
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return hidden(r) || unicode.IsSpace(r) }), " ")
}

// escapeControls is s with every hidden character written as an escape
// (\n, \t, \u202e), so that it shows on one line for what it is.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, hidden) {
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
		case hidden(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
