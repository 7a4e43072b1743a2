package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

func setCapabilities(t *testing.T, l *apptest.Linked, names ...string) {
	t.Helper()
	if _, err := l.App.Web.Admin().SetCapabilities(context.Background(), nil, names); err != nil {
		t.Fatal(err)
	}
}

func granted(t *testing.T, l *apptest.Linked, userID int64) []string {
	t.Helper()
	link, err := l.App.Store.Link(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return link.Granted
}

func signedIn(t *testing.T, l *apptest.Linked, email string) *apptest.Client {
	c := l.NewClient()
	c.SignIn(email, apptest.UserPassword)
	return c
}

// A capability's tools through its whole life: off (not listed; called,
// the admin is named), on but not granted (not listed; called, the person
// is pointed to their tile), granted through incremental consent (listed
// and working), and off again (gone at once, links untouched).
func TestCapabilityLifecycle(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, false)

	s := connect(t, l, token, "")
	if names := toolNames(t, s); slices.Contains(names, "create_event") || slices.Contains(names, "find_people") {
		t.Fatalf("capability tools listed while off: %v", names)
	}
	res := call(t, s, "create_event", map[string]any{"subject": "x", "start": "2026-12-10T10:00", "end": "2026-12-10T11:00"}, nil)
	if !res.IsError || !strings.Contains(errorText(res), "calendar.write") || !strings.Contains(errorText(res), "admin") {
		t.Fatalf("create_event while off: %s", errorText(res))
	}
	// Refused, but audited and counted: the admin sees what agents reach for.
	var refused []*graphgate.AuditEvent
	for deadline := time.Now().Add(10 * time.Second); len(refused) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		refused, _, _ = l.App.Store.ListAudit(t.Context(), graphgate.AuditFilter{Action: graphgate.ActionToolCall})
	}
	if len(refused) != 1 || refused[0].Target != "create_event" || refused[0].Details["outcome"] != "not_allowed" {
		t.Fatalf("the closed call's audit: %+v", refused)
	}
	if m := l.NewClient().Get("/metrics").Body; !strings.Contains(m, `graphgate_mcp_tool_calls_total{outcome="not_allowed",tool="create_event"} 1`) {
		t.Error("the closed call is not counted")
	}

	setCapabilities(t, l, "calendar.write", "people")
	s = connect(t, l, token, "")
	if names := toolNames(t, s); slices.Contains(names, "create_event") {
		t.Fatalf("create_event listed before alex allowed it: %v", names)
	}
	res = call(t, s, "find_people", map[string]any{"query": "meg"}, nil)
	if !res.IsError || !strings.Contains(errorText(res), "People.Read") || !strings.Contains(errorText(res), l.URL+"/integrations") {
		t.Fatalf("find_people before it was allowed: %s", errorText(res))
	}

	// The tile says what is new; one consent grants it.
	c := signedIn(t, l, "alex@contoso.test")
	if page := c.Get("/integrations").Body; !strings.Contains(page, "Allow calendar changes") || !strings.Contains(page, "Allow finding people") {
		t.Fatalf("the tile does not offer the new capabilities:\n%s", page)
	}
	if r := l.AllowMore(t, c, "alex@contoso.test", "accept"); r.Status != http.StatusSeeOther {
		t.Fatalf("allowing more: %d %s", r.Status, r.Body)
	}
	if page := c.Get("/integrations").Body; !strings.Contains(page, "Allowed ") || strings.Contains(page, `id="allow-more"`) {
		t.Fatalf("after allowing:\n%s", page)
	}
	for _, p := range []string{"Calendars.ReadWrite", "Calendars.Read.Shared", "People.Read", "User.ReadBasic.All", "Mail.Read"} {
		if !graphgate.HasPermission(granted(t, l, alex), p) {
			t.Errorf("the link lacks %s: %v", p, granted(t, l, alex))
		}
	}
	s = connect(t, l, token, "")
	names := toolNames(t, s)
	for _, want := range []string{"create_event", "update_event", "cancel_event", "respond_to_event", "find_meeting_times", "find_people"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not listed once granted", want)
		}
	}

	// Agents use them.
	var people struct {
		People []struct{ Name, Email, Source, JobTitle string }
	}
	mustCall(t, s, "find_people", map[string]any{"query": "meg"}, &people)
	if len(people.People) == 0 || people.People[0].Email != "megan@contoso.test" {
		t.Fatalf("find_people meg: %+v", people)
	}
	var created struct {
		ID        string
		Attendees []string
		Start     string
	}
	mustCall(t, s, "create_event", map[string]any{"subject": "Roadmap review", "start": "2026-12-10T10:00", "end": "2026-12-10T11:00",
		"time_zone": "Europe/Berlin", "attendees": []string{"megan@contoso.test"}, "location": "Room 4", "body": "Agenda to follow"}, &created)
	if created.ID == "" || created.Start != "2026-12-10T10:00:00+01:00" || !slices.Contains(created.Attendees, "megan@contoso.test") {
		t.Fatalf("create_event: %+v", created)
	}
	megan := sandboxMailbox(t, l, "megan@contoso.test")
	if !slices.ContainsFunc(megan.Events(), func(e *graph.Event) bool { return e.Subject == "Roadmap review" }) {
		t.Error("megan's calendar has no copy of the meeting")
	}
	if !slices.ContainsFunc(megan.Messages(), func(m *graph.Message) bool { return m.Subject == "Roadmap review" }) {
		t.Error("megan got no invitation")
	}
	var moved struct{ Start, Location string }
	mustCall(t, s, "update_event", map[string]any{"id": created.ID, "start": "2026-12-10T14:00", "end": "2026-12-10T15:00",
		"time_zone": "Europe/Berlin"}, &moved)
	if moved.Start != "2026-12-10T14:00:00+01:00" || moved.Location != "Room 4" {
		t.Fatalf("update_event: %+v", moved)
	}
	if !slices.ContainsFunc(megan.Messages(), func(m *graph.Message) bool { return m.Subject == "Updated: Roadmap review" }) {
		t.Error("megan was not sent the update")
	}
	var times struct {
		Suggestions []struct {
			Start, End string
			Confidence float64
			Attendees  map[string]string
		}
	}
	// The seeded calendars move with the clock: a week holds free hours.
	mustCall(t, s, "find_meeting_times", map[string]any{"attendees": []string{"megan@contoso.test"}, "duration_minutes": 60,
		"time_zone": "Europe/Berlin"}, &times)
	if len(times.Suggestions) == 0 || times.Suggestions[0].Attendees["megan@contoso.test"] == "" {
		t.Fatalf("find_meeting_times: %+v", times)
	}
	if res := call(t, s, "respond_to_event", map[string]any{"id": created.ID, "response": "accept"}, nil); !res.IsError ||
		!strings.Contains(errorText(res), "organized") {
		t.Errorf("the organizer answering their own meeting: %s", errorText(res))
	}
	var done struct{ Done bool }
	mustCall(t, s, "cancel_event", map[string]any{"id": created.ID, "comment": "Moved to January"}, &done)
	if !slices.ContainsFunc(megan.Events(), func(e *graph.Event) bool { return e.Subject == "Canceled: Roadmap review" && e.Cancelled }) {
		t.Error("megan's copy was not cancelled")
	}

	// Off again: gone at once, the link keeps what Microsoft granted.
	setCapabilities(t, l, "people")
	s = connect(t, l, token, "")
	if names := toolNames(t, s); slices.Contains(names, "create_event") || !slices.Contains(names, "find_people") {
		t.Fatalf("after turning calendar.write off: %v", names)
	}
	if res := call(t, s, "create_event", map[string]any{"subject": "x", "start": "2026-12-10T10:00", "end": "2026-12-10T11:00"}, nil); !res.IsError ||
		!strings.Contains(errorText(res), "not turned on") {
		t.Fatalf("create_event after turning it off: %s", errorText(res))
	}
	if !graphgate.HasPermission(granted(t, l, alex), "Calendars.ReadWrite") {
		t.Error("turning a capability off changed the link")
	}
	// A read-only token sees no write tool of any capability.
	setCapabilities(t, l, "calendar.write", "people")
	ro := connect(t, l, agentToken(t, l, alex, true), "")
	if names := toolNames(t, ro); slices.Contains(names, "create_event") || !slices.Contains(names, "find_meeting_times") {
		t.Fatalf("a read-only token sees: %v", names)
	}
}

// Someone who declines keeps their link as it was; a tenant that lets only
// admins consent shows Microsoft's "Need admin approval", until an admin
// consents for everyone through graphgate; a personal account is asked
// only for what personal accounts can have, and is pointed elsewhere for
// the rest.
func TestCapabilityConsent(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	setCapabilities(t, l, "calendar.write", "people")
	before := granted(t, l, alex)

	c := signedIn(t, l, "alex@contoso.test")
	l.AllowMore(t, c, "alex@contoso.test", "cancel")
	if page := c.Get("/integrations").Body; !strings.Contains(page, "Your link works as before") {
		t.Fatalf("after declining:\n%s", page)
	}
	link, _ := l.App.Store.Link(context.Background(), alex)
	if link.NeedsAttention() || !slices.Equal(link.Granted, before) {
		t.Fatalf("declining changed the link: %+v", link)
	}

	// Contoso lets only admins consent.
	tenantConsent(t, l, "contoso.test", false)
	l.AllowMore(t, c, "alex@contoso.test", "accept")
	if page := c.Get("/integrations").Body; !strings.Contains(page, "ask your admin") {
		t.Fatalf("after Need admin approval:\n%s", page)
	}
	if graphgate.HasPermission(granted(t, l, alex), "Calendars.ReadWrite") {
		t.Fatal("granted without an admin")
	}
	// The admin consents for the organisation from the MCP Servers tab.
	admin := l.GrantForOrganisation(t)
	if page := admin.Get("/admin/servers").Body; !strings.Contains(page, "Granted for the organisation") {
		t.Fatalf("the MCP Servers tab does not show the admin consent:\n%s", page)
	}
	// Now alex's next refresh carries it, without asking anyone.
	if _, err := l.App.Tokens.KeepAlive(context.Background(), alex, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !graphgate.HasPermission(granted(t, l, alex), "Calendars.ReadWrite") {
		t.Fatalf("the refresh did not bring the admin's grant: %v", granted(t, l, alex))
	}

	// A personal account: Calendars.ReadWrite and People.Read only.
	jo := l.SignInAndLink(t, "jo@outlook.test")
	g := granted(t, l, jo)
	if !graphgate.HasPermission(g, "Calendars.ReadWrite") || graphgate.HasPermission(g, "Calendars.Read.Shared") {
		t.Fatalf("jo was granted %v", g)
	}
	s := connect(t, l, agentToken(t, l, jo, false), "")
	if names := toolNames(t, s); !slices.Contains(names, "create_event") || slices.Contains(names, "find_meeting_times") {
		t.Fatalf("jo sees %v", names)
	}
	res := call(t, s, "find_meeting_times", map[string]any{"attendees": []string{"chris.doyle@outlook.test"}}, nil)
	if !res.IsError || !strings.Contains(errorText(res), "find_free_time") {
		t.Fatalf("find_meeting_times for a personal account: %s", errorText(res))
	}
}

// A work account linking while capabilities are on is asked, right after,
// for the permissions only work accounts have.
func TestWorkOnlyPermissionsAskedAfterLinking(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	setCapabilities(t, l, "calendar.write", "people")
	c := signedIn(t, l, "sam@fabrikam.test")
	r := l.Link(t, c, "sam@fabrikam.test", "accept")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, l.SandboxURL) {
		t.Fatalf("after the first consent: %d %s", r.Status, r.Location)
	}
	if r := l.Back(t, c, l.AtMicrosoft(t, r.Location, "sam@fabrikam.test", "accept")); r.Status != http.StatusSeeOther {
		t.Fatalf("second consent: %d", r.Status)
	}
	u, _ := l.App.Store.UserByEmail(context.Background(), "sam@fabrikam.test")
	if g := granted(t, l, u.ID); !graphgate.HasPermission(g, "User.ReadBasic.All") || !graphgate.HasPermission(g, "Calendars.Read.Shared") {
		t.Fatalf("sam was granted %v", g)
	}
}

func tenantConsent(t *testing.T, l *apptest.Linked, tenant string, allowed bool) {
	t.Helper()
	body, _ := json.Marshal(map[string]bool{"allowed": allowed})
	req, _ := http.NewRequest("PUT", l.SandboxURL+"/sandbox/tenants/"+tenant+"/user-consent", strings.NewReader(string(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("user consent for %s: %v %v", tenant, err, resp)
	}
	resp.Body.Close()
}

// With "ask me before sending or deleting", whatever reaches other people
// asks first: an event with attendees (invitations), a change to a meeting,
// a cancellation, an answer sent to the organizer. An appointment of one's
// own, or an answer not sent, does not.
func TestCalendarWritesAskFirst(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	setCapabilities(t, l, "calendar.write")
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
	token := askingToken(t, l, alex)
	megan := sandboxMailbox(t, l, "megan@contoso.test")
	invited := func(subject string) bool {
		return slices.ContainsFunc(megan.Events(), func(e *graph.Event) bool { return e.Subject == subject })
	}
	event := func(subject string, attendees ...string) map[string]any {
		return map[string]any{"subject": subject, "start": "2026-12-22T10:00", "end": "2026-12-22T11:00", "time_zone": "Europe/Berlin",
			"attendees": attendees}
	}

	no := &person{answer: "decline"}
	s := connectAsking(t, l, token, "2026-07-28", no)
	if res := call(t, s, "create_event", event("Focus time"), nil); res.IsError || len(no.seen) != 0 {
		t.Fatalf("an appointment without attendees: %s, asked %d times", errorText(res), len(no.seen))
	}
	if res := call(t, s, "create_event", event("Declined invite", "megan@contoso.test"), nil); !res.IsError || invited("Declined invite") ||
		len(no.seen) != 1 || !strings.Contains(no.seen[0], "Send this meeting invitation?") || !strings.Contains(no.seen[0], "megan@contoso.test") {
		t.Fatalf("declined invitation: %s, seen %q", errorText(res), no.seen)
	}

	yes := &person{answer: "accept"}
	s = connectAsking(t, l, token, "2026-07-28", yes)
	var created struct{ ID string }
	mustCall(t, s, "create_event", event("Accepted invite", "megan@contoso.test"), &created)
	if !invited("Accepted invite") || len(yes.seen) != 1 {
		t.Fatalf("accepted invitation: invited %v, asked %d times", invited("Accepted invite"), len(yes.seen))
	}
	mustCall(t, s, "update_event", map[string]any{"id": created.ID, "location": "Room 7"}, nil)
	if len(yes.seen) != 2 || !strings.Contains(yes.seen[1], "Send this meeting update?") || !strings.Contains(yes.seen[1], "Room 7") {
		t.Fatalf("update: %q", yes.seen)
	}
	mustCall(t, s, "cancel_event", map[string]any{"id": created.ID, "comment": "Sorry"}, nil)
	if len(yes.seen) != 3 || !strings.Contains(yes.seen[2], "Cancel this event?") {
		t.Fatalf("cancel: %q", yes.seen)
	}

	// Megan answers Alex's next invitation: sent answers ask, others not.
	mustCall(t, connect(t, l, agentToken(t, l, alex, false), ""), "create_event", event("Sync", "megan@contoso.test"), nil)
	meganID := l.SignInAndLink(t, "megan@contoso.test")
	l.AllowMore(t, signedIn(t, l, "megan@contoso.test"), "megan@contoso.test", "accept")
	var copyID string
	for _, e := range megan.Events() {
		if e.Subject == "Sync" {
			copyID = e.ID
		}
	}
	careful := &person{answer: "decline"}
	ms := connectAsking(t, l, askingToken(t, l, meganID), "2026-07-28", careful)
	if res := call(t, ms, "respond_to_event", map[string]any{"id": copyID, "response": "tentative", "comment": "Maybe"}, nil); !res.IsError ||
		len(careful.seen) != 1 || !strings.Contains(careful.seen[0], "Send this answer to the organizer?") {
		t.Fatalf("a sent answer, declined: %s %q", errorText(res), careful.seen)
	}
	if res := call(t, ms, "respond_to_event", map[string]any{"id": copyID, "response": "accept", "send_response": false}, nil); res.IsError || len(careful.seen) != 1 {
		t.Fatalf("an answer not sent: %s, asked %d times", errorText(res), len(careful.seen))
	}
}
