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

// Every Windows zone name of Microsoft's (the whole CLDR table) resolves to
// a zone Go knows, with the offset the table's zone has.
func TestEveryWindowsZone(t *testing.T) {
	if len(windowsZones) < 139 {
		t.Fatalf("only %d Windows zones", len(windowsZones))
	}
	for windows, iana := range windowsZones {
		loc, ok := Location(windows)
		if !ok || loc.String() != iana {
			t.Errorf("%q: %v, want %s", windows, loc, iana)
		}
	}
	// Those that used to become UTC silently.
	for name, want := range map[string]string{
		"E. Africa Standard Time": "Africa/Nairobi", "Arab Standard Time": "Asia/Riyadh",
		"SA Pacific Standard Time": "America/Bogota", "E. Australia Standard Time": "Australia/Brisbane",
		"India Standard Time": "Asia/Kolkata", "Nepal Standard Time": "Asia/Kathmandu",
	} {
		if got := IANA(name); got != want {
			t.Errorf("IANA(%q) = %q, want %q", name, got, want)
		}
	}
}
