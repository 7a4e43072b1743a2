package graphgate_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"graphgate"
)

// capabilityTable renders the capability table the README shows.
func capabilityTable() string {
	var b strings.Builder
	b.WriteString("| capability | agents can | tools | delegated permissions to add in Entra | needs an admin | personal accounts |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, c := range graphgate.Capabilities {
		var perms, admin, personal []string
		for _, p := range c.Permissions {
			perms = append(perms, "`"+p.Name+"`")
			if p.AdminConsent {
				admin = append(admin, "`"+p.Name+"`")
			}
			if !p.WorkOnly {
				personal = append(personal, "`"+p.Name+"`")
			}
		}
		var tools []string
		for _, t := range c.Tools {
			tools = append(tools, "`"+t.Name+"`")
		}
		// A tool's arguments together: `list_files` with `site` or `drive`.
		var order []string
		params := map[string][]string{}
		for _, p := range c.Params {
			if params[p.Tool] == nil {
				order = append(order, p.Tool)
			}
			params[p.Tool] = append(params[p.Tool], "`"+p.Param+"`")
		}
		for _, tool := range order {
			tools = append(tools, "`"+tool+"` with "+strings.Join(params[tool], " or "))
		}
		or := func(list []string, none string) string {
			if len(list) == 0 {
				return none
			}
			return strings.Join(list, ", ")
		}
		b.WriteString("| `" + c.Name + "` (" + c.Title + ") | " + c.Does + " | " + strings.Join(tools, ", ") + " | " +
			strings.Join(perms, ", ") + " | " + or(admin, "no (unless the tenant lets only admins consent)") + " | " +
			or(personal, "none") + " |\n")
	}
	return b.String()
}

var tableRE = regexp.MustCompile(`(?s)<!-- capabilities -->\n.*?<!-- /capabilities -->`)

// The README's capability table is the code's: rewrite it with
// UPDATE_README=true after changing a capability.
func TestReadmeCapabilityTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "<!-- capabilities -->\n" + capabilityTable() + "<!-- /capabilities -->"
	if os.Getenv("UPDATE_README") == "true" {
		out := tableRE.ReplaceAllLiteralString(string(readme), want)
		if err := os.WriteFile("README.md", []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := tableRE.FindString(string(readme)); got != want {
		t.Fatalf("the README's capability table differs from the code's; run with UPDATE_README=true:\n%s", want)
	}
}

func TestWantedPermissions(t *testing.T) {
	work := graphgate.WantedPermissions([]string{"calendar.write", "people", "nope"}, false)
	personal := graphgate.WantedPermissions([]string{"calendar.write", "people"}, true)
	for _, p := range []string{"Mail.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "People.Read", "User.ReadBasic.All"} {
		if !graphgate.HasPermission(work, p) {
			t.Errorf("a work account is not asked for %s", p)
		}
	}
	if graphgate.HasPermission(personal, "User.ReadBasic.All") || graphgate.HasPermission(personal, "Calendars.Read.Shared") ||
		!graphgate.HasPermission(personal, "calendars.readwrite") {
		t.Errorf("a personal account is asked for %v", personal)
	}
	if m := graphgate.Missing(work, []string{"mail.read", "MAIL.SEND", "User.Read"}); graphgate.HasPermission(m, "Mail.Read") ||
		graphgate.HasPermission(m, "openid") || !graphgate.HasPermission(m, "People.Read") {
		t.Errorf("missing: %v", m)
	}
	var nilReach *graphgate.Reach
	if !nilReach.Opens("list_messages") || nilReach.Opens("create_event") {
		t.Error("no reach opens the base tools only")
	}
}
