// Package directory holds the sandbox tenant's directories and the people in
// them: two work tenants and the consumer (personal Microsoft account) tenant.
// Ids are fixed so that a link made against one run of the sandbox still names
// the same account in the next.
package directory

import (
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // zones must resolve on machines without a zoneinfo database
)

// ConsumerTenantID is the tenant id Microsoft gives every personal account.
const ConsumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Tenant is one directory.
type Tenant struct {
	ID       string // GUID, the tid claim
	Name     string
	Domain   string // verified domain, usable as an authority
	Personal bool   // the consumer tenant
}

// Person is one account that can sign in.
type Person struct {
	ObjectID    string // oid: immutable, equals the Graph user id
	UPN         string // userPrincipalName and preferred_username
	DisplayName string
	GivenName   string
	Surname     string
	JobTitle    string
	Office      string
	Phone       string
	// TimeZone is the mailbox time zone as Graph reports it (a Windows name).
	TimeZone string
	Tenant   *Tenant
}

// Personal reports whether this is a personal Microsoft account.
func (p *Person) Personal() bool { return p.Tenant.Personal }

// Directory is the set of tenants and people. It is read-only after New.
type Directory struct {
	tenants []*Tenant
	people  []*Person
}

// Tenants of the sandbox.
var (
	Contoso  = &Tenant{ID: "2f6b3c1e-8a4d-4f0b-9c7e-5d1a2b3c4d5e", Name: "Contoso", Domain: "contoso.test"}
	Fabrikam = &Tenant{ID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Name: "Fabrikam", Domain: "fabrikam.test"}
	Consumer = &Tenant{ID: ConsumerTenantID, Name: "Microsoft Accounts", Domain: "outlook.test", Personal: true}
)

// New returns the seeded directory. Time zones differ between people, and the
// zones chosen observe daylight saving so calendars cross a change.
func New() *Directory {
	return &Directory{
		tenants: []*Tenant{Contoso, Fabrikam, Consumer},
		people: []*Person{
			{ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c01", UPN: "admin@contoso.test", DisplayName: "Dana Whitfield",
				GivenName: "Dana", Surname: "Whitfield", JobTitle: "IT Administrator", Office: "Seattle 2/1120",
				Phone: "+1 206 555 0110", TimeZone: "Pacific Standard Time", Tenant: Contoso},
			{ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c02", UPN: "alex@contoso.test", DisplayName: "Alex Wilber",
				GivenName: "Alex", Surname: "Wilber", JobTitle: "Product Manager", Office: "Berlin 4/210",
				Phone: "+49 30 555 0142", TimeZone: "W. Europe Standard Time", Tenant: Contoso},
			{ObjectID: "8d2e4f6a-1b3c-4d5e-9f0a-2b4c6d8e0f03", UPN: "sam@fabrikam.test", DisplayName: "Sam Okafor",
				GivenName: "Sam", Surname: "Okafor", JobTitle: "Finance Lead", Office: "London 3/14",
				Phone: "+44 20 5550 0177", TimeZone: "GMT Standard Time", Tenant: Fabrikam},
			{ObjectID: "00000000-0000-0000-6a1c-3e5f7b9d2c04", UPN: "jo@outlook.test", DisplayName: "Jo Martin",
				GivenName: "Jo", Surname: "Martin", TimeZone: "AUS Eastern Standard Time", Tenant: Consumer},
		},
	}
}

// People returns every person, in a stable order.
func (d *Directory) People() []*Person { return d.people }

// Tenants returns every tenant, in a stable order.
func (d *Directory) Tenants() []*Tenant { return d.tenants }

// Person finds a person by UPN (case-insensitive) or object id.
func (d *Directory) Person(key string) (*Person, bool) {
	for _, p := range d.people {
		if strings.EqualFold(p.UPN, key) || p.ObjectID == strings.ToLower(key) {
			return p, true
		}
	}
	return nil, false
}

// Tenant finds a tenant by id or verified domain.
func (d *Directory) Tenant(key string) (*Tenant, bool) {
	key = strings.ToLower(key)
	for _, t := range d.tenants {
		if t.ID == key || t.Domain == key {
			return t, true
		}
	}
	return nil, false
}

// Members lists the people of one tenant.
func (d *Directory) Members(t *Tenant) []*Person {
	var out []*Person
	for _, p := range d.people {
		if p.Tenant == t {
			out = append(out, p)
		}
	}
	return out
}

// windowsZones maps the Windows time zone names that Outlook uses to IANA names.
// Only the zones a sandbox mailbox or a common client is likely to send are
// listed; IANA names are accepted wherever a Windows name is.
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

// Location resolves a Windows time zone name (as Outlook uses) or an IANA name.
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

// WindowsZones lists the supported Windows zone names, sorted.
func WindowsZones() []string {
	out := make([]string, 0, len(windowsZones))
	for k := range windowsZones {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String is used in start-up banners.
func (p *Person) String() string {
	kind := "work"
	if p.Personal() {
		kind = "personal"
	}
	return fmt.Sprintf("%-22s %-16s %s, %s (oid %s)", p.UPN, p.DisplayName, kind, p.Tenant.Name, p.ObjectID)
}
