package sandbox_test

import (
	"testing"
	"time"

	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

type deltaItem struct {
	ID      string                   `json:"id"`
	Subject string                   `json:"subject"`
	IsRead  bool                     `json:"isRead"`
	Removed *struct{ Reason string } `json:"@removed"`
}

type deltaPage struct {
	Value     []deltaItem `json:"value"`
	NextLink  string      `json:"@odata.nextLink"`
	DeltaLink string      `json:"@odata.deltaLink"`
}

// deltaRound follows a delta round to its deltaLink.
func (tn *tenant) deltaRound(tok, link string) ([]deltaItem, string) {
	tn.t.Helper()
	var all []deltaItem
	for range 200 {
		var p deltaPage
		if resp := tn.graph(tok, "GET", link, nil, &p, "Prefer", "odata.maxpagesize=7"); resp.StatusCode != 200 {
			tn.t.Fatalf("GET %s: %d", link, resp.StatusCode)
		}
		all = append(all, p.Value...)
		if p.DeltaLink != "" {
			if p.NextLink != "" {
				tn.t.Fatal("a page with both nextLink and deltaLink")
			}
			return all, p.DeltaLink
		}
		link = p.NextLink
	}
	tn.t.Fatal("the round did not end")
	return nil, ""
}

func TestMessagesDelta(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	first, link := tn.deltaRound(tok, tn.URL+"/v1.0/me/mailFolders/inbox/messages/delta")
	if len(first) < 20 {
		t.Fatalf("first round: %d messages", len(first))
	}
	if quiet, next := tn.deltaRound(tok, link); len(quiet) != 0 || next == "" {
		t.Fatalf("no changes expected: %+v", quiet)
	}
	read, gone := first[0], first[1]
	tn.graph(tok, "PATCH", "/me/messages/"+read.ID, map[string]any{"isRead": !read.IsRead}, nil)
	if resp := tn.graph(tok, "DELETE", "/me/messages/"+gone.ID, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	tn.graph(tok, "POST", "/me/sendMail", map[string]any{"message": map[string]any{"subject": "Delta check",
		"body":         map[string]string{"contentType": "text", "content": "hi"},
		"toRecipients": []map[string]any{{"emailAddress": map[string]string{"address": "alex@contoso.test"}}}}}, nil)
	since, link := tn.deltaRound(tok, link)
	var updated, removed, arrived bool
	for _, it := range since {
		switch {
		case it.ID == read.ID && it.Removed == nil && it.IsRead != read.IsRead:
			updated = true
		case it.ID == gone.ID && it.Removed != nil && it.Removed.Reason == "deleted":
			removed = true
		case it.Subject == "Delta check" && it.Removed == nil:
			arrived = true
		default:
			t.Errorf("unexpected change: %+v", it)
		}
	}
	if !updated || !removed || !arrived {
		t.Fatalf("changes: %+v", since)
	}
	// A token of another folder, a made-up one and a forgotten one: 410.
	tn.expectGraphError(tok, "GET", "/me/mailFolders/sentitems/messages/delta?$deltatoken=1", nil, 410, "SyncStateNotFound")
	tn.expectGraphError(tok, "GET", "/me/mailFolders/inbox/messages/delta?$deltatoken=999999", nil, 410, "SyncStateNotFound")
	tn.control("POST", "/sandbox/people/alex@contoso.test/outlook-resync", nil)
	tn.expectGraphError(tok, "GET", link, nil, 410, "SyncStateNotFound")
}

func TestCalendarViewDelta(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	from := tn.clock.Now().UTC().Truncate(24 * time.Hour)
	first, link := tn.deltaRound(tok, tn.URL+"/v1.0/me/calendarView/delta?"+window(from, from.Add(14*24*time.Hour)))
	if len(first) < 5 {
		t.Fatalf("first round: %d events", len(first))
	}
	alex, _ := tn.sb.Directory.Person("alex@contoso.test")
	mb, _ := tn.sb.Graph.Store().Mailbox(alex.ObjectID)
	ev := &graph.Event{Subject: "Added later", Start: from.Add(50 * time.Hour), End: from.Add(51 * time.Hour), Zone: "UTC"}
	mb.AddEvent(ev)
	since, link := tn.deltaRound(tok, link)
	if len(since) != 1 || since[0].Subject != "Added later" {
		t.Fatalf("after adding: %+v", since)
	}
	// Outside the window: nothing.
	mb.AddEvent(&graph.Event{Subject: "Far away", Start: from.Add(60 * 24 * time.Hour), End: from.Add(60*24*time.Hour + time.Hour), Zone: "UTC"})
	mb.RemoveEvent(ev.ID)
	since, _ = tn.deltaRound(tok, link)
	if len(since) != 1 || since[0].ID != ev.ID || since[0].Removed == nil {
		t.Fatalf("after removing: %+v", since)
	}
}
