package mcpserver_test

import (
	"strings"
	"testing"
	"time"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

// A zone Microsoft names that graphgate does not know (Outlook's custom
// zones) is said in get_profile, never passed off as UTC.
func TestUnknownZoneIsSaid(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "jo@outlook.test")
	jo := mustPerson(t, l, "jo@outlook.test")
	mb, _ := l.Sandbox.Graph.Store().Mailbox(jo.ObjectID)
	for _, e := range mb.Events() {
		mb.RemoveEvent(e.ID)
	}
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	mb.AddEvent(&graph.Event{Subject: "Made in a custom zone", Start: start, End: start.Add(time.Hour), Zone: "tzone://Microsoft/Custom",
		Organizer: graph.Recipient{EmailAddress: graph.EmailAddress{Name: jo.DisplayName, Address: jo.UPN}}, Created: time.Now()})
	var p struct {
		TimeZone       string `json:"time_zone"`
		TimeZoneSource string `json:"time_zone_source"`
		TimeZoneNote   string `json:"time_zone_note"`
	}
	if res := call(t, connect(t, l, agentToken(t, l, uid, true), ""), "get_profile", nil, &p); res.IsError {
		t.Fatal(errorText(res))
	}
	if p.TimeZone != "UTC" || p.TimeZoneSource != "default" || !strings.Contains(p.TimeZoneNote, "tzone://Microsoft/Custom") {
		t.Fatalf("profile: %+v", p)
	}
}
