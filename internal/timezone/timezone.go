// Package timezone resolves the time zone names Microsoft 365 uses: Outlook
// speaks Windows names ("W. Europe Standard Time"), Go and agents IANA ones
// ("Europe/Berlin").
package timezone

import (
	"strings"
	"time"
	_ "time/tzdata" // zones must resolve on machines without a zoneinfo database
)

// windowsZones maps the Windows time zone names Outlook uses to IANA names
// (from the Unicode CLDR's windowsZones table, the zones in common use).
var windowsZones = map[string]string{
	"UTC":                             "UTC",
	"Pacific Standard Time":           "America/Los_Angeles",
	"Mountain Standard Time":          "America/Denver",
	"Central Standard Time":           "America/Chicago",
	"Eastern Standard Time":           "America/New_York",
	"GMT Standard Time":               "Europe/London",
	"W. Europe Standard Time":         "Europe/Berlin",
	"Romance Standard Time":           "Europe/Paris",
	"Central Europe Standard Time":    "Europe/Budapest",
	"E. Europe Standard Time":         "Europe/Chisinau",
	"India Standard Time":             "Asia/Kolkata",
	"China Standard Time":             "Asia/Shanghai",
	"Tokyo Standard Time":             "Asia/Tokyo",
	"AUS Eastern Standard Time":       "Australia/Sydney",
	"New Zealand Standard Time":       "Pacific/Auckland",
	"Hawaiian Standard Time":          "Pacific/Honolulu",
	"E. South America Standard Time":  "America/Sao_Paulo",
	"South Africa Standard Time":      "Africa/Johannesburg",
	"Singapore Standard Time":         "Asia/Singapore",
	"Arabian Standard Time":           "Asia/Dubai",
	"Greenwich Standard Time":         "Atlantic/Reykjavik",
	"Atlantic Standard Time":          "America/Halifax",
	"Alaskan Standard Time":           "America/Anchorage",
	"US Mountain Standard Time":       "America/Phoenix",
	"Russian Standard Time":           "Europe/Moscow",
	"Korea Standard Time":             "Asia/Seoul",
	"SE Asia Standard Time":           "Asia/Bangkok",
	"Cen. Australia Standard Time":    "Australia/Adelaide",
	"W. Australia Standard Time":      "Australia/Perth",
	"Israel Standard Time":            "Asia/Jerusalem",
	"Turkey Standard Time":            "Europe/Istanbul",
	"Pacific SA Standard Time":        "America/Santiago",
	"Argentina Standard Time":         "America/Argentina/Buenos_Aires",
	"Canada Central Standard Time":    "America/Regina",
	"Newfoundland Standard Time":      "America/St_Johns",
	"Central European Standard Time":  "Europe/Warsaw",
	"FLE Standard Time":               "Europe/Kiev",
	"GTB Standard Time":               "Europe/Bucharest",
	"Egypt Standard Time":             "Africa/Cairo",
	"Pakistan Standard Time":          "Asia/Karachi",
	"Bangladesh Standard Time":        "Asia/Dhaka",
	"Taipei Standard Time":            "Asia/Taipei",
	"W. Central Africa Standard Time": "Africa/Lagos",
}

// Location resolves a Windows or an IANA time zone name.
func Location(name string) (*time.Location, bool) {
	if iana, ok := windowsZones[name]; ok {
		name = iana
	}
	if name == "" || strings.EqualFold(name, "local") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	return loc, true
}

// IANA returns the IANA name of a Windows or IANA zone name, or "".
func IANA(name string) string {
	loc, ok := Location(name)
	if !ok {
		return ""
	}
	return loc.String()
}
