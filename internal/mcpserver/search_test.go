package mcpserver_test

import (
	"slices"
	"strings"
	"testing"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

type searchResult struct {
	Results []struct {
		Source, ID, Title, When, From, Snippet string
	}
	NextCursor string `json:"next_cursor"`
}

func sources(r searchResult) []string {
	var out []string
	for _, h := range r.Results {
		if !slices.Contains(out, h.Source) {
			out = append(out, h.Source)
		}
	}
	slices.Sort(out)
	return out
}

// search across mail, events and files: Microsoft Search for a work
// account (a request per entity type, at once), each source's own search
// for a personal account; merged by rank, paged by a cursor bound to the
// person, limited to what the token reads.
func TestSearchEverything(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, alex, false), "")

	l.Sandbox.ResetRequests()
	var r searchResult
	mustCall(t, s, "search", map[string]any{"query": "budget", "page_size": 3}, &r)
	if got := sources(r); !slices.Contains(got, "mail") || len(r.Results) == 0 || r.NextCursor == "" {
		t.Fatalf("alex's search: %+v", r)
	}
	if n := hits(l, "POST /v1.0/search/query"); n != 3 {
		t.Errorf("%d Microsoft Search requests, want one per source", n)
	}
	for i, h := range r.Results {
		if h.ID == "" || h.Title == "" || strings.Contains(h.Snippet, "<c0>") {
			t.Errorf("hit %d: %+v", i, h)
		}
	}
	// Merged by rank: the first hits of each source come before any second.
	if len(r.Results) > 1 && r.Results[0].Source == r.Results[1].Source && len(sources(r)) > 1 {
		t.Errorf("not merged by rank: %+v", r.Results[:2])
	}
	var next searchResult
	mustCall(t, s, "search", map[string]any{"query": "ignored", "cursor": r.NextCursor}, &next)
	if len(next.Results) == 0 || next.Results[0].ID == r.Results[0].ID {
		t.Fatalf("the next page: %+v", next)
	}
	var files searchResult
	mustCall(t, s, "search", map[string]any{"query": "notes", "sources": []string{"files"}}, &files)
	if got := sources(files); len(got) != 1 || got[0] != "files" {
		t.Fatalf("files only: %+v", files)
	}
	if res := call(t, s, "search", map[string]any{"query": "x", "sources": []string{"teams"}}, nil); !res.IsError {
		t.Error("an unknown source was accepted")
	}

	// A token limited to the calendar searches events only.
	cal := connect(t, l, agentToken(t, l, alex, true, "calendar"), "")
	var events searchResult
	mustCall(t, cal, "search", map[string]any{"query": "standup"}, &events)
	if got := sources(events); len(got) != 1 || got[0] != "events" {
		t.Fatalf("a calendar token's search: %+v", events)
	}
	// Someone else's cursor is refused.
	sam := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "sam@fabrikam.test"), false), "")
	if res := call(t, sam, "search", map[string]any{"query": "x", "cursor": r.NextCursor}, nil); !res.IsError {
		t.Error("sam continued alex's search")
	}

	// A personal account: each source's own search, at once.
	jo := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "jo@outlook.test"), false), "")
	l.Sandbox.ResetRequests()
	var own searchResult
	mustCall(t, jo, "search", map[string]any{"query": "dinner"}, &own)
	if !slices.Contains(sources(own), "mail") || hits(l, "POST /v1.0/search/query") != 0 {
		t.Fatalf("jo's search: %+v %v", own, l.Sandbox.Requests())
	}
	if n := hits(l, "GET /v1.0/me/messages") + hits(l, "GET /v1.0/me/events") + hits(l, "GET /v1.0/me/drive/"); n != 3 {
		t.Errorf("jo's search made %d requests, want one per source: %v", n, l.Sandbox.Requests())
	}
}
