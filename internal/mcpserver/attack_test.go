package mcpserver_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

type listPage struct {
	NextCursor string `json:"next_cursor"`
}

// firstCursor calls a list tool and returns its next_cursor.
func firstCursor(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	var p listPage
	if res := call(t, s, tool, args, &p); res.IsError || p.NextCursor == "" {
		t.Fatalf("%s: no cursor: %s", tool, errorText(res))
	}
	return p.NextCursor
}

// cursorArgs are the arguments of a next-page call; search tools also
// require their query.
func cursorArgs(tool, cursor string) map[string]any {
	args := map[string]any{"cursor": cursor}
	if strings.HasPrefix(tool, "search_") {
		args["query"] = "subject:budget"
	}
	return args
}

func TestCursorsContinueOnlyTheirOwnListing(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	sam := l.SignInAndLink(t, "sam@fabrikam.test")
	full := connect(t, l, agentToken(t, l, alex, false), "")
	calendarOnly := connect(t, l, agentToken(t, l, alex, true, "calendar"), "")
	samFull := connect(t, l, agentToken(t, l, sam, false), "")

	mailCursor := firstCursor(t, full, "list_messages", map[string]any{"page_size": 5})
	searchCursor := firstCursor(t, full, "search_messages", map[string]any{"query": "subject:budget", "page_size": 1})
	fileCursor := firstCursor(t, full, "list_files", map[string]any{"path": "/Documents", "page_size": 1})
	crafted := base64.RawURLEncoding.EncodeToString([]byte("me/messages?$select=subject,bodyPreview"))
	forgedMAC := crafted + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	// The payload of a real cursor with its MAC kept but its path changed.
	_, realMAC, _ := strings.Cut(mailCursor, ".")
	swapped := crafted + "." + realMAC

	for _, tc := range []struct {
		name   string
		s      *mcp.ClientSession
		tool   string
		cursor string
	}{
		{"hand-made cursor into mail from a calendar token", calendarOnly, "list_events", crafted},
		{"hand-made cursor with a forged MAC", calendarOnly, "list_events", forgedMAC},
		{"a real MAC on another path", full, "list_messages", swapped},
		{"list_messages cursor given to list_events", calendarOnly, "list_events", mailCursor},
		{"list_messages cursor given to search_messages", full, "search_messages", mailCursor},
		{"search_messages cursor given to list_messages", full, "list_messages", searchCursor},
		{"list_files cursor given to search_files", full, "search_files", fileCursor},
		{"another person's cursor", samFull, "list_messages", mailCursor},
		{"a cursor with a dot segment", full, "list_messages", base64.RawURLEncoding.EncodeToString([]byte("me/messages/.."))},
		{"an oversized cursor", full, "list_messages", strings.Repeat("A", 20000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.Sandbox.ResetRequests()
			res := call(t, tc.s, tc.tool, cursorArgs(tc.tool, tc.cursor), nil)
			if !res.IsError || !strings.Contains(errorText(res), "cursor is not valid") {
				t.Fatalf("accepted: %s", errorText(res))
			}
			for route, n := range l.Sandbox.Requests() {
				if strings.HasPrefix(route, "GET /v1.0/me/messages") || strings.HasPrefix(route, "GET /v1.0/me/drive") {
					t.Fatalf("the refused cursor still reached Graph: %s ×%d", route, n)
				}
			}
		})
	}

	// The cursors still work where they belong.
	for _, tc := range []struct{ tool, cursor string }{
		{"list_messages", mailCursor}, {"search_messages", searchCursor}, {"list_files", fileCursor},
	} {
		if res := call(t, full, tc.tool, cursorArgs(tc.tool, tc.cursor), nil); res.IsError {
			t.Fatalf("%s refused its own cursor: %s", tc.tool, errorText(res))
		}
	}
}

func TestDotAndCraftedIDsAreRefused(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	s := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false), "")
	bad := []string{"..", ".", "%2e%2e", "a/../b", `a\b`, "a\x00b", "a\nb", "a%2fb", strings.Repeat("x", 5000)}
	cases := []struct {
		tool string
		args func(id string) map[string]any
	}{
		{"get_message", func(id string) map[string]any { return map[string]any{"id": id} }},
		{"update_message", func(id string) map[string]any { return map[string]any{"id": id, "is_read": true} }},
		{"delete_message", func(id string) map[string]any { return map[string]any{"id": id} }},
		{"move_message", func(id string) map[string]any { return map[string]any{"id": "AAMk", "folder": id} }},
		{"get_attachment", func(id string) map[string]any { return map[string]any{"message_id": "AAMk", "attachment_id": id} }},
		{"list_messages", func(id string) map[string]any { return map[string]any{"folder": id} }},
		{"get_event", func(id string) map[string]any { return map[string]any{"id": id} }},
		{"list_events", func(id string) map[string]any { return map[string]any{"calendar_id": id} }},
		{"get_file_info", func(id string) map[string]any { return map[string]any{"id": id} }},
		{"list_files", func(id string) map[string]any { return map[string]any{"path": "/Documents/" + id} }},
		{"delete_file", func(id string) map[string]any { return map[string]any{"id": id} }},
	}
	for _, tc := range cases {
		for _, id := range bad {
			if tc.tool == "list_files" && (id == "a%2fb" || len(id) < 3 && id != "." && id != "..") {
				continue // a name with % is a legal file name, escaped as such
			}
			l.Sandbox.ResetRequests()
			res := call(t, s, tc.tool, tc.args(id), nil)
			if !res.IsError {
				t.Errorf("%s %q: accepted", tc.tool, id)
				continue
			}
			for route := range l.Sandbox.Requests() {
				if route == "GET /v1.0/me" || route == "GET /v1.0/me/" || strings.Contains(route, "..") {
					t.Errorf("%s %q reached %s", tc.tool, id, route)
				}
			}
		}
	}
}
