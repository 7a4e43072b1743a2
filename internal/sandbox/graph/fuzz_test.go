package graph

import (
	"reflect"
	"testing"
	"time"
)

// FuzzFilter: any $filter is parsed or refused with Graph's error, never a
// panic, and what parses can be evaluated against a message.
func FuzzFilter(f *testing.F) {
	for _, seed := range []string{
		"receivedDateTime ge 2026-01-01T00:00:00Z and isRead eq false",
		"from/emailAddress/address eq 'alex@contoso.test'",
		"contains(subject,'budget') or startswith(subject,'Re:')",
		"categories/any(c:c eq 'Blue')",
		"not (importance eq 'high')",
		"((((", "subject eq '", "eq eq eq", "",
	} {
		f.Add(seed)
	}
	m := &Message{Subject: "Budget", ReceivedDateTime: time.Now(), Categories: []string{"Blue"}}
	f.Fuzz(func(t *testing.T, src string) {
		n, _, err := parseFilter(src, messageType)
		if err != nil {
			graphShaped(t, err)
			return
		}
		if n == nil {
			return
		}
		// What parses has a meaning: "not (x)" is its negation, and
		// "x and x", "x or x" are x.
		got := n.eval(m)
		for wrapped, want := range map[string]bool{"not (" + src + ")": !got, "(" + src + ") and (" + src + ")": got, "(" + src + ") or (" + src + ")": got} {
			if w, _, err := parseFilter(wrapped, messageType); err == nil && w != nil && w.eval(m) != want {
				t.Fatalf("%q is %v, but %q is %v", src, got, wrapped, !want)
			}
		}
	})
}

// FuzzKQL: any $search is parsed or refused, and what parses can be matched.
func FuzzKQL(f *testing.F) {
	for _, seed := range []string{`"from:alex subject:report"`, `budget OR plan`, `received>=2026-11-01`, `attachment:pdf`, `"`, `from:`, `(((`, ``} {
		f.Add(seed)
	}
	m := &Message{Subject: "Report", ReceivedDateTime: time.Now()}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := parseKQL(src)
		if err != nil {
			graphShaped(t, err)
			return
		}
		// Matching reads the message, never changes it.
		before := *m
		if q != nil {
			q.match(m)
		}
		if !reflect.DeepEqual(before, *m) {
			t.Fatalf("matching %q changed the message", src)
		}
	})
}

// graphShaped checks a refusal the way Graph words one: 400, a code, and a
// message.
func graphShaped(t *testing.T, err *apiError) {
	t.Helper()
	if err.status != 400 || err.code == "" || err.message == "" {
		t.Fatalf("a refusal not shaped as Graph's: %+v", err)
	}
}
