package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
)

// The capabilities API: read, set exactly what is named, audited; bad
// bodies and unknown names change nothing.
func TestCapabilitiesAPI(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	ctx := context.Background()
	token, _ := adminToken(t, l.srv, apptest.AdminEmail, graphgate.TokenAdmin)
	auth := []string{"Authorization", "Bearer " + token}
	c := l.srv.NewClient()

	var got map[string]any
	if err := json.Unmarshal([]byte(c.Do("GET", "/api/v1/admin/microsoft365/capabilities", "", auth...).Body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got["capabilities"].([]any)) != 0 || len(got["available"].([]any)) != len(graphgate.Capabilities) {
		t.Fatalf("GET: %v", got)
	}
	r := c.Do("PUT", "/api/v1/admin/microsoft365/capabilities", `{"capabilities":["people","calendar.write","people"]}`, auth...)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"capabilities":["calendar.write","people"]`) {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(r.Body, `"Calendars.ReadWrite"`) || !strings.Contains(r.Body, `"workOnly":true`) {
		t.Errorf("the permissions to add are not in the answer: %s", r.Body)
	}
	events, _, err := l.srv.App.Store.ListAudit(ctx, graphgate.AuditFilter{Action: graphgate.ActionCapabilities})
	if err != nil || len(events) != 1 || events[0].Details["on"] != "calendar.write people" || events[0].ActorEmail != apptest.AdminEmail {
		t.Fatalf("audit: %+v %v", events, err)
	}
	for _, bad := range []struct{ body, says string }{
		{`{"capabilities":["calendar.write","teams"]}`, `Unknown capability \"teams\"`},
		{`{"capabilities":["` + strings.Repeat("x", 5000) + `"]}`, "Unknown capability"},
		{`{}`, `Send {\"capabilities\"`},
		{`{"capabilities":"people"}`, ""},
		{`{"capabilities":[],"more":1}`, ""},
		{`not json`, ""},
	} {
		r := c.Do("PUT", "/api/v1/admin/microsoft365/capabilities", bad.body, auth...)
		if r.Status/100 != 4 || !strings.Contains(r.Body, bad.says) || len(r.Body) > 2000 {
			t.Errorf("PUT %.40s: %d %.300s", bad.body, r.Status, r.Body)
		}
	}
	if cfg, _ := l.srv.App.Store.M365Config(ctx); !slices.Equal(cfg.Capabilities, []string{"calendar.write", "people"}) {
		t.Fatalf("a refused PUT changed them: %v", cfg.Capabilities)
	}
	if n, _, _ := l.srv.App.Store.ListAudit(ctx, graphgate.AuditFilter{Action: graphgate.ActionCapabilities}); len(n) != 1 {
		t.Errorf("refused PUTs were audited: %d events", len(n))
	}
	// The console's form sets them too.
	admin := l.srv.NewClient()
	admin.SignIn(apptest.AdminEmail, apptest.AdminPassword)
	admin.Get("/admin/servers")
	if r := admin.Post("/admin/servers/microsoft365/capabilities", map[string][]string{"capability": {"people"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("console form: %d", r.Status)
	}
	page := admin.Get("/admin/servers").Body
	if !strings.Contains(page, `value="people" checked`) || strings.Contains(page, `value="calendar.write" checked`) {
		t.Fatalf("the MCP Servers tab after saving:\n%s", page)
	}
}

// Turning a capability off hides its tools at once on every replica.
func TestCapabilityOffOnEveryReplica(t *testing.T) {
	l, second := twoReplicas(t)
	alex := l.signIn(t, "alex@contoso.test")
	l.link(t, alex, "alex@contoso.test", "accept")
	if _, err := l.srv.App.Web.Admin().SetCapabilities(context.Background(), nil, []string{"people"}); err != nil {
		t.Fatal(err)
	}
	l.AllowMore(t, alex, "alex@contoso.test", "accept")
	token, display, hash := apitoken.New()
	if err := l.srv.App.Store.CreateAPIToken(context.Background(), &graphgate.APIToken{UserID: l.userID(t, "alex@contoso.test"),
		Kind: graphgate.TokenAgent, Name: "agent", Prefix: display, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, body, err := apptest.ToolCall(http.DefaultClient, second.URL, token, "find_people", `{"query":"meg"}`); err != nil ||
		!strings.Contains(body, "megan@contoso.test") {
		t.Fatalf("find_people on the second replica: %v %s", err, body)
	}
	if _, err := l.srv.App.Web.Admin().SetCapabilities(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, body, err := apptest.ToolCall(http.DefaultClient, second.URL, token, "find_people", `{"query":"meg"}`); err != nil ||
		!strings.Contains(body, "not turned on") || strings.Contains(body, "megan@contoso.test") {
		t.Fatalf("find_people on the second replica after turning it off: %v %s", err, body)
	}
}

// In Chromium: the admin turns a capability on, a linked person sees it on
// their tile and grants it with one more consent (Microsoft lists only
// what is new), and their agent uses it.
func TestCapabilityInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, apptest.AdminEmail, apptest.AdminPassword)
	do(t, ctx,
		chromedp.Navigate(l.srv.URL+"/admin/servers"),
		chromedp.WaitVisible(`#capabilities-form`),
		chromedp.Click(`#capability-calendar-write input`),
		chromedp.Click(`#capability-people input`),
		chromedp.Click(`#save-capabilities`),
		chromedp.WaitVisible(`p.flash.success`),
	)
	if got := text(t, ctx); !strings.Contains(got, "Saved the capabilities") || !strings.Contains(got, "Calendars.ReadWrite") {
		t.Fatalf("after saving:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "mcp-servers-capabilities")
	if cfg, _ := l.srv.App.Store.M365Config(context.Background()); !slices.Equal(cfg.Capabilities, []string{"calendar.write", "people"}) {
		t.Fatalf("stored: %v", cfg.Capabilities)
	}

	person := browsertest.New(t)
	signIn(t, person, l.srv.URL, "alex@contoso.test", apptest.UserPassword)
	do(t, person, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#tile-new`))
	if got := text(t, person); !strings.Contains(got, "Allow calendar changes") || !strings.Contains(got, "Allow finding people") {
		t.Fatalf("the tile:\n%s", got)
	}
	browsertest.Screenshot(t, person, "tile-allow-more")
	do(t, person,
		chromedp.Click(`#allow-more`),
		chromedp.WaitVisible(`input[name=account]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#accept`),
	)
	consent, err := chromedp.Run(person, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(consent, "Have full access to your calendars") || strings.Contains(consent, "Read your mail") {
		t.Fatalf("Microsoft's consent page should list only what is new:\n%s", consent)
	}
	browsertest.Screenshot(t, person, "consent-only-new")
	do(t, person, chromedp.Click(`#accept`), chromedp.WaitVisible(`p.flash.success`))
	if got := text(t, person); !strings.Contains(got, "Allowed ") || !strings.Contains(got, "Also allowed: Calendar changes, People") {
		t.Fatalf("after allowing:\n%s", got)
	}

	token, display, hash := apitoken.New()
	if err := l.srv.App.Store.CreateAPIToken(context.Background(), &graphgate.APIToken{UserID: l.userID(t, "alex@contoso.test"),
		Kind: graphgate.TokenAgent, Name: "agent", Prefix: display, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, body, err := apptest.ToolCall(http.DefaultClient, l.srv.URL, token, "create_event",
		`{"subject":"Planning","start":"2026-12-18T10:00","end":"2026-12-18T10:30","time_zone":"Europe/Berlin","attendees":["megan@contoso.test"]}`); err != nil ||
		!strings.Contains(body, "megan@contoso.test") || strings.Contains(body, `"isError":true`) {
		t.Fatalf("the agent's create_event: %v %s", err, body)
	}
}

// In Chromium: the admin turns on To Do, Teams chats and SharePoint, and a
// person allows them with one more consent; then Teams channels, whose
// messages only an admin may grant: the admin grants them for the
// organisation at Microsoft, and the person's tile takes them with no
// consent page. Their agent then reads a channel, a SharePoint library and
// their tasks.
func TestTeamsSharePointAndToDoInABrowser(t *testing.T) {
	l := startLinked(t, nil, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	ctx := browsertest.New(t)
	signIn(t, ctx, l.srv.URL, apptest.AdminEmail, apptest.AdminPassword)
	turnOn := func(ids ...string) {
		actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(l.srv.URL + "/admin/servers"), chromedp.WaitVisible(`#capabilities-form`)}
		for _, id := range ids {
			actions = append(actions, chromedp.Click(`#capability-`+id+` input`))
		}
		do(t, ctx, append(actions, chromedp.Click(`#save-capabilities`), chromedp.WaitVisible(`p.flash.success`))...)
	}
	turnOn("tasks", "teams-chats", "sharepoint")
	if got := text(t, ctx); !strings.Contains(got, "Chat.ReadWrite (work and school accounts)") || !strings.Contains(got, "Sites.Read.All") {
		t.Fatalf("after saving:\n%s", got)
	}

	person := browsertest.New(t)
	signIn(t, person, l.srv.URL, "alex@contoso.test", apptest.UserPassword)
	do(t, person, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#tile-new`))
	for _, ask := range []string{"Allow To Do tasks", "Allow Teams chats", "Allow SharePoint"} {
		if got := text(t, person); !strings.Contains(got, ask) {
			t.Fatalf("the tile does not say %q:\n%s", ask, got)
		}
	}
	do(t, person,
		chromedp.Click(`#allow-more`),
		chromedp.WaitVisible(`input[name=account]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#accept`),
	)
	consent, err := chromedp.Run(person, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(consent, "Read and write your chat messages") || !strings.Contains(consent, "Read items in all site collections") ||
		strings.Contains(consent, "Read your mail") {
		t.Fatalf("Microsoft's consent page:\n%s", consent)
	}
	browsertest.Screenshot(t, person, "consent-teams-sharepoint")
	do(t, person, chromedp.Click(`#accept`), chromedp.WaitVisible(`p.flash.success`))
	if got := text(t, person); !strings.Contains(got, "Also allowed: To Do tasks, Teams chats, SharePoint") {
		t.Fatalf("after allowing:\n%s", got)
	}

	// Teams channels: the admin consent step.
	turnOn("teams-channels")
	if got := text(t, ctx); !strings.Contains(got, "ChannelMessage.Read.All (needs an admin's consent)") {
		t.Fatalf("after saving:\n%s", got)
	}
	browsertest.Screenshot(t, ctx, "mcp-servers-teams-sharepoint")
	do(t, person, chromedp.Navigate(l.srv.URL+"/integrations"), chromedp.WaitVisible(`#tile-awaiting-admin`))
	if got := text(t, person); !strings.Contains(got, "Allow Teams channels") || !strings.Contains(got, "Waiting for your admin: Teams channels") {
		t.Fatalf("the tile before the admin's consent:\n%s", got)
	}
	browsertest.Screenshot(t, person, "tile-awaiting-admin")
	do(t, ctx, chromedp.Click(`#grant-admin-consent`), chromedp.WaitVisible(`#accept`))
	if got := text(t, ctx); !strings.Contains(got, "Read user channel messages") || !strings.Contains(got, "for everyone in your organization") {
		t.Fatalf("Microsoft's admin consent page:\n%s", got)
	}
	do(t, ctx,
		chromedp.Click(`input[name=account][value="admin@contoso.test"]`),
		chromedp.Click(`#accept`),
		chromedp.WaitVisible(`#admin-consent-result`),
	)
	if got := text(t, ctx); !strings.Contains(got, "Granted for the organisation") {
		t.Fatalf("after the admin consent:\n%s", got)
	}
	// The admin granted it for everyone: Microsoft asks the person nothing.
	do(t, person,
		chromedp.Navigate(l.srv.URL+"/integrations"),
		chromedp.WaitVisible(`#allow-more`),
		chromedp.Click(`#allow-more`),
		chromedp.WaitVisible(`input[name=account]`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`p.flash.success`),
	)
	if got := text(t, person); !strings.Contains(got, "Also allowed: To Do tasks, Teams chats, Teams channels, SharePoint") {
		t.Fatalf("after allowing channels:\n%s", got)
	}

	token, display, hash := apitoken.New()
	if err := l.srv.App.Store.CreateAPIToken(context.Background(), &graphgate.APIToken{UserID: l.userID(t, "alex@contoso.test"),
		Kind: graphgate.TokenAgent, Name: "agent", Prefix: display, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	launch := l.sb.Graph.Store().Teams().TeamID("Contoso Launch")
	for _, c := range []struct{ tool, args, want string }{
		{"list_channels", `{"team_id":"` + launch + `"}`, "Marketing"},
		{"list_files", `{"site":"https://contoso.sharepoint.com/sites/marketing"}`, "Press release.docx"},
		{"list_tasks", `{}`, "Send the Q4 budget"},
	} {
		if _, body, err := apptest.ToolCall(http.DefaultClient, l.srv.URL, token, c.tool, c.args); err != nil ||
			!strings.Contains(body, c.want) || strings.Contains(body, `"isError":true`) {
			t.Fatalf("the agent's %s: %v %s", c.tool, err, body)
		}
	}
}
