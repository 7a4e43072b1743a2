package timezone

import "testing"

func TestLocation(t *testing.T) {
	for name, want := range map[string]string{
		"W. Europe Standard Time":   "Europe/Berlin",
		"Pacific Standard Time":     "America/Los_Angeles",
		"AUS Eastern Standard Time": "Australia/Sydney",
		"Europe/London":             "Europe/London",
		"UTC":                       "UTC",
	} {
		if got := IANA(name); got != want {
			t.Errorf("IANA(%q) = %q, want %q", name, got, want)
		}
	}
	for _, bad := range []string{"", "Local", "Mars Standard Time", "Nowhere/Special"} {
		if _, ok := Location(bad); ok {
			t.Errorf("%q resolved", bad)
		}
	}
}
