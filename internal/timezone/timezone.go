// Package timezone resolves the time zone names Microsoft 365 uses: Outlook
// speaks Windows names ("W. Europe Standard Time"), Go and agents IANA ones
// ("Europe/Berlin").
package timezone

import (
	_ "embed"
	"strings"
	"time"
	_ "time/tzdata" // zones must resolve on machines without a zoneinfo database
)

// windowsZones maps every Windows time zone name Microsoft uses to its
// IANA zone: the Unicode CLDR table, embedded (windows_zones.txt).
var windowsZones = parseWindowsZones(windowsTable)

//go:embed windows_zones.txt
var windowsTable string

func parseWindowsZones(table string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(table, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		windows, iana, ok := strings.Cut(line, "\t")
		if !ok {
			panic("timezone: a bad line in windows_zones.txt: " + line)
		}
		m[windows] = iana
	}
	// Coordinated Universal Time reads better as UTC than as Etc/UTC.
	m["UTC"] = "UTC"
	return m
}

// Known reports whether name is a Windows zone name graphgate knows, or an
// IANA name.
func Known(name string) bool {
	_, ok := Location(name)
	return ok
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
