// Package directory holds the sandbox tenant's directories and the people in
// them: two work tenants and the consumer (personal Microsoft account) tenant.
// Ids are fixed so that a link made against one run of the sandbox still names
// the same account in the next.
package directory

import (
	"fmt"
	"strings"
	"time"

	"graphgate/internal/timezone"
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
	Department  string
	Office      string
	Phone       string
	// TimeZone is the mailbox time zone as Graph reports it (a Windows name).
	TimeZone string
	Tenant   *Tenant
	// NewToGraphgate marks a person the demo and the tests give no graphgate
	// account, for Sign in with Microsoft to create.
	NewToGraphgate bool
	// Mail is the mail attribute as the tenant's admin set it; empty: the
	// UPN. Any tenant's admin can write any address there: Microsoft puts
	// it in the email claim, saying it is verified (xms_edov) only when
	// its domain is one the tenant verified.
	Mail string
	// Outsider keeps a person out of the seeded mail of others.
	Outsider bool
	// Admin: a Global Administrator of their tenant, who may consent for
	// everyone in it.
	Admin bool
	// FullAccess, for a shared mailbox, are the people (UPNs) Exchange lets
	// read it and send as it (Full Access and Send As).
	FullAccess []string
}

// Reaches reports whether Exchange lets p open mailbox (their own, or a
// shared one they have Full Access to).
func (mailbox *Person) Reaches(p *Person) bool {
	if mailbox == p {
		return true
	}
	for _, upn := range mailbox.FullAccess {
		if strings.EqualFold(upn, p.UPN) {
			return true
		}
	}
	return false
}

// MailAddress is what the email claim carries.
func (p *Person) MailAddress() string {
	if p.Mail != "" {
		return p.Mail
	}
	return p.UPN
}

// MailVerified reports whether the mail address is in the tenant's own
// verified domain (what xms_edov says).
func (p *Person) MailVerified() bool {
	_, domain, _ := strings.Cut(p.MailAddress(), "@")
	return strings.EqualFold(domain, p.Tenant.Domain)
}

// Personal reports whether this is a personal Microsoft account.
func (p *Person) Personal() bool { return p.Tenant.Personal }

// Directory is the set of tenants and people. It is read-only after New.
type Directory struct {
	tenants []*Tenant
	people  []*Person
	// shared are shared mailboxes: mailboxes nobody signs in to.
	shared []*Person
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
				Phone: "+1 206 555 0110", TimeZone: "Pacific Standard Time", Tenant: Contoso, Admin: true},
			{ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c02", UPN: "alex@contoso.test", DisplayName: "Alex Wilber",
				GivenName: "Alex", Surname: "Wilber", JobTitle: "Product Manager", Department: "Product", Office: "Berlin 4/210",
				Phone: "+49 30 555 0142", TimeZone: "W. Europe Standard Time", Tenant: Contoso},
			{ObjectID: "8d2e4f6a-1b3c-4d5e-9f0a-2b4c6d8e0f03", UPN: "sam@fabrikam.test", DisplayName: "Sam Okafor",
				GivenName: "Sam", Surname: "Okafor", JobTitle: "Finance Lead", Office: "London 3/14",
				Phone: "+44 20 5550 0177", TimeZone: "GMT Standard Time", Tenant: Fabrikam},
			{ObjectID: "00000000-0000-0000-6a1c-3e5f7b9d2c04", UPN: "jo@outlook.test", DisplayName: "Jo Martin",
				GivenName: "Jo", Surname: "Martin", TimeZone: "AUS Eastern Standard Time", Tenant: Consumer},
			// Nina has no graphgate account in the demo and the tests: she
			// shows people being created at their first Sign in with Microsoft.
			{ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c05", UPN: "nina@contoso.test", DisplayName: "Nina Patel",
				GivenName: "Nina", Surname: "Patel", JobTitle: "Sales Director", Office: "Chicago 12/40",
				Phone: "+1 312 555 0163", TimeZone: "Central Standard Time", Tenant: Contoso, NewToGraphgate: true},
			// Mallory is a Fabrikam account whose mail attribute her
			// tenant's admin set to Contoso's admin address: Microsoft
			// sends it as her email, unverified (xms_edov false).
			{ObjectID: "8d2e4f6a-1b3c-4d5e-9f0a-2b4c6d8e0f06", UPN: "mallory@fabrikam.test", DisplayName: "Mallory Quinn",
				GivenName: "Mallory", Surname: "Quinn", JobTitle: "Contractor", TimeZone: "GMT Standard Time", Tenant: Fabrikam,
				NewToGraphgate: true, Mail: "admin@contoso.test", Outsider: true},
			// Megan is a Contoso colleague everyone's seeded mail already
			// names (so she is no Outsider to it twice); she has a mailbox
			// and a calendar for meetings, and is found in the directory.
			{ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c07", UPN: "megan@contoso.test", DisplayName: "Megan Bowen",
				GivenName: "Megan", Surname: "Bowen", JobTitle: "Marketing Manager", Department: "Marketing", Office: "Seattle 3/212",
				Phone: "+1 206 555 0177", TimeZone: "Pacific Standard Time", Tenant: Contoso, Outsider: true},
		},
		shared: []*Person{
			{ObjectID: "4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c10", UPN: "support@contoso.test", DisplayName: "Contoso Support",
				TimeZone: "Pacific Standard Time", Tenant: Contoso, Outsider: true,
				FullAccess: []string{"alex@contoso.test", "megan@contoso.test"}},
		},
	}
}

// SharedMailboxes returns the shared mailboxes, in a stable order.
func (d *Directory) SharedMailboxes() []*Person { return d.shared }

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

// Location resolves a Windows time zone name (as Outlook uses) or an IANA name.
func Location(name string) (*time.Location, bool) { return timezone.Location(name) }

// String is used in start-up banners.
func (p *Person) String() string {
	kind := "work"
	if p.Personal() {
		kind = "personal"
	}
	return fmt.Sprintf("%-22s %-16s %s, %s (oid %s)", p.UPN, p.DisplayName, kind, p.Tenant.Name, p.ObjectID)
}
