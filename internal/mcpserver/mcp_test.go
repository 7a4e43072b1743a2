package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

// bearer adds an agent token to every request.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func agentToken(t *testing.T, l *apptest.Linked, userID int64, readOnly bool, toolsets ...string) string {
	t.Helper()
	token, display, hash := apitoken.New()
	if err := l.App.Store.CreateAPIToken(context.Background(), &graphgate.APIToken{UserID: userID, Kind: graphgate.TokenAgent,
		Name: "test agent", Prefix: display, Hash: hash, ReadOnly: readOnly, Toolsets: toolsets}); err != nil {
		t.Fatal(err)
	}
	return token
}

// connect opens an MCP session with the official Go SDK client over HTTP.
func connect(t *testing.T, l *apptest.Linked, token, version string) *mcp.ClientSession {
	t.Helper()
	return connectWith(t, l, token, version, nil)
}

// connectWith is connect with client options (an elicitation handler).
func connectWith(t *testing.T, l *apptest.Linked, token, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "graphgate-test", Version: "1"}, opts)
	tr := &mcp.StreamableClientTransport{Endpoint: l.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token: token, base: http.DefaultTransport}}}
	s, err := c.Connect(context.Background(), tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect (%s): %v", version, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func call(t *testing.T, s *mcp.ClientSession, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !res.IsError && res.InputRequests == nil {
		checkOutput(t, s, name, res.StructuredContent)
	}
	if out != nil && !res.IsError {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: structured content %s: %v", name, b, err)
		}
	}
	return res
}

// mustCall is call for a call that must work: a tool error fails the test.
func mustCall(t *testing.T, s *mcp.ClientSession, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	res := call(t, s, name, args, out)
	if res.IsError || res.InputRequests != nil {
		t.Fatalf("%s: %s", name, errorText(res))
	}
	return res
}

// outputSchemas are the output schemas each session was told, by tool.
var outputSchemas sync.Map // *mcp.ClientSession -> map[string]*jsonschema.Resolved

// checkOutput validates a tool's structured content against the output
// schema the server lists for it: the server does not check its own
// answers on every call, so every answer a test gets is checked here.
func checkOutput(t *testing.T, s *mcp.ClientSession, name string, structured any) {
	t.Helper()
	schemas, ok := outputSchemas.Load(s)
	if !ok {
		tools, err := s.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*jsonschema.Resolved{}
		for _, tool := range tools.Tools {
			var schema jsonschema.Schema
			b, _ := json.Marshal(tool.OutputSchema)
			if err := json.Unmarshal(b, &schema); err != nil {
				t.Fatalf("%s: output schema: %v", tool.Name, err)
			}
			if byName[tool.Name], err = schema.Resolve(nil); err != nil {
				t.Fatalf("%s: output schema: %v", tool.Name, err)
			}
		}
		schemas, _ = outputSchemas.LoadOrStore(s, byName)
	}
	schema := schemas.(map[string]*jsonschema.Resolved)[name]
	if schema == nil {
		t.Fatalf("%s answered but is not in the tool list", name)
	}
	var v any
	b, _ := json.Marshal(structured)
	_ = json.Unmarshal(b, &v)
	if v == nil {
		t.Fatalf("%s: no structured content", name)
	}
	if err := schema.Validate(v); err != nil {
		t.Fatalf("%s: the answer does not match the output schema: %v\n%s", name, err, b)
	}
}

// errorText is what a tool error says (its text content).
func errorText(res *mcp.CallToolResult) string { return textOf(res) }

func toolNames(t *testing.T, s *mcp.ClientSession) []string {
	t.Helper()
	res, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		a := tool.Annotations
		if a == nil || a.DestructiveHint == nil || a.OpenWorldHint == nil || tool.Title == "" || tool.Description == "" || tool.OutputSchema == nil {
			t.Errorf("tool %s lacks a title, description, output schema or explicit annotations", tool.Name)
		}
	}
	return names
}

func TestAuthAndMetadata(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	for _, tok := range []string{"", "ggt_not-a-real-token-but-long-enough-000000000000", "nonsense"} {
		req, _ := http.NewRequest("POST", l.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wa := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != 401 || !strings.Contains(wa, `resource_metadata="`+l.URL+`/.well-known/oauth-protected-resource/mcp"`) {
			t.Fatalf("token %q: %d %q", tok, resp.StatusCode, wa)
		}
		if tok != "" && !strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("refused token without error=invalid_token: %q", wa)
		}
	}
	resp, err := http.Get(l.URL + "/.well-known/oauth-protected-resource/mcp")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"resource":"`+l.URL+`/mcp"`) {
		t.Fatalf("metadata: %s", b)
	}
	// Revoked and expired tokens are refused; an admin API token is not an agent token.
	id := l.SignInAndLink(t, "alex@contoso.test")
	tok := agentToken(t, l, id, false)
	s := connect(t, l, tok, "")
	if len(toolNames(t, s)) == 0 {
		t.Fatal("no tools")
	}
	toks, _ := l.App.Store.ListAPITokens(context.Background(), id)
	_ = l.App.Store.RevokeAPIToken(context.Background(), id, toks[0].ID)
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	if _, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: l.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token: tok, base: http.DefaultTransport}}}, nil); err == nil {
		t.Fatal("a revoked token connected")
	}
}

func TestToolsOverBothProtocolGenerations(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	tok := agentToken(t, l, id, false)
	for _, version := range []string{"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"} {
		t.Run(version, func(t *testing.T) {
			s := connect(t, l, tok, version)
			names := toolNames(t, s)
			for _, want := range []string{"get_profile", "list_messages", "send_message", "list_events", "list_files", "read_file"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools/list lacks %s", want)
				}
			}
			var p struct {
				Email string `json:"email"`
			}
			if res := call(t, s, "get_profile", nil, &p); res.IsError || p.Email != "alex@contoso.test" {
				t.Fatalf("get_profile: %s %+v", errorText(res), p)
			}
			// The tool list depends on the caller's token: it must not be shared.
			if version == "2026-07-28" {
				list, err := s.ListTools(context.Background(), nil)
				if err != nil || list.CacheScope != "private" {
					t.Fatalf("tools/list cacheScope %q (%v), want private", list.CacheScope, err)
				}
			}
		})
	}
}

func TestMailTools(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, id, false), "")

	var folders struct {
		Folders []struct {
			Name  string `json:"name"`
			Total int    `json:"total"`
		} `json:"folders"`
	}
	call(t, s, "list_mail_folders", nil, &folders)
	if len(folders.Folders) < 5 {
		t.Fatalf("folders: %+v", folders)
	}
	// Paging to the end of the 200-message inbox with cursors.
	type page struct {
		Messages []struct {
			ID       string    `json:"id"`
			Subject  string    `json:"subject"`
			Received time.Time `json:"received"`
			IsRead   bool      `json:"is_read"`
		} `json:"messages"`
		NextCursor string `json:"next_cursor"`
	}
	seen := map[string]bool{}
	cursor := ""
	for range 20 {
		var p page
		args := map[string]any{"page_size": 50}
		if cursor != "" {
			args["cursor"] = cursor
		}
		if res := call(t, s, "list_messages", args, &p); res.IsError {
			t.Fatal(errorText(res))
		}
		for _, m := range p.Messages {
			seen[m.ID] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
		if strings.Contains(cursor, "http") {
			t.Fatal("the cursor exposes a URL")
		}
	}
	if len(seen) < 200 {
		t.Fatalf("paged %d inbox messages", len(seen))
	}
	var unread page
	after := time.Now().AddDate(0, 0, -30)
	mustCall(t, s, "list_messages", map[string]any{"unread_only": true, "after": after.Format("2006-01-02"), "page_size": 50}, &unread)
	if len(unread.Messages) == 0 {
		t.Fatal("unread_only and after found nothing in a seeded inbox with unread mail")
	}
	for _, m := range unread.Messages {
		if m.IsRead || m.Received.Before(after.Truncate(24*time.Hour)) {
			t.Fatalf("unread_only/after returned %+v", m)
		}
	}
	// The filters do filter: the inbox holds read messages too.
	var all page
	mustCall(t, s, "list_messages", map[string]any{"page_size": 50}, &all)
	if !slices.ContainsFunc(all.Messages, func(m struct {
		ID       string    `json:"id"`
		Subject  string    `json:"subject"`
		Received time.Time `json:"received"`
		IsRead   bool      `json:"is_read"`
	}) bool {
		return m.IsRead
	}) {
		t.Fatal("no read message in the inbox: the unread_only check proves nothing")
	}
	var hits page
	call(t, s, "search_messages", map[string]any{"query": "subject:budget"}, &hits)
	if len(hits.Messages) == 0 || !strings.Contains(strings.ToLower(hits.Messages[0].Subject), "budget") {
		t.Fatalf("search: %+v", hits)
	}
	var msg struct {
		Body        string `json:"body"`
		Truncated   bool   `json:"truncated"`
		NextOffset  int    `json:"next_offset"`
		Attachments []any  `json:"attachments"`
	}
	call(t, s, "get_message", map[string]any{"id": hits.Messages[0].ID, "max_chars": 500}, &msg)
	if msg.Body == "" || strings.Contains(msg.Body, "<div") || strings.Contains(msg.Body, "<p>") {
		t.Fatalf("body is not compact Markdown: %q", msg.Body)
	}
	// Sending: delivered once.
	var sent struct {
		Sent bool `json:"sent"`
	}
	res := call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Agenda for Monday", "body": "Draft attached."}, &sent)
	if res.IsError || !sent.Sent {
		t.Fatalf("send: %s", errorText(res))
	}
	// Bad input is a tool error that says what to fix, and sends nothing.
	l.Sandbox.ResetRequests()
	for _, args := range []map[string]any{
		{"to": []string{"not-an-address"}, "subject": "x", "body": "y"},
		{"subject": "x", "body": "y"},
		{"to": []string{"sam@fabrikam.test"}, "subject": "x", "body": "y", "body_type": "rtf"},
	} {
		if res := call(t, s, "send_message", args, nil); !res.IsError {
			t.Errorf("%v: accepted", args)
		}
	}
	if n := l.Sandbox.Requests()["POST /v1.0/me/sendMail"]; n != 0 {
		t.Fatalf("a refused send reached Graph %d times", n)
	}
	if res := call(t, s, "list_messages", map[string]any{"cursor": "aHR0cHM6Ly9ldmlsLmV4YW1wbGUuY29tL3YxLjAvbWU"}, nil); !res.IsError {
		t.Fatal("a cursor pointing elsewhere was followed")
	}
}

func TestSendIsDeliveredOnceUnderTrouble(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, id, false), "")
	args := map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Exactly once", "body": "Hello"}
	// Throttled first: retried after Retry-After, delivered once.
	if _, err := l.Sandbox.AddFault(sandbox.Fault{Method: "POST", Path: "^/v1.0/me/sendMail$", Status: 429, RetryAfter: "0.2", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if res := call(t, s, "send_message", args, nil); res.IsError {
		t.Fatalf("throttled send: %s", errorText(res))
	}
	// Dropped after Graph acted: reported, never repeated.
	_, _ = l.Sandbox.AddFault(sandbox.Fault{Method: "POST", Path: "^/v1.0/me/sendMail$", Drop: "after", Times: 1})
	args["subject"] = "Exactly once, again"
	res := call(t, s, "send_message", args, nil)
	if !res.IsError || !strings.Contains(errorText(res), "may have been carried out") {
		t.Fatalf("dropped send: %v %s", res.IsError, errorText(res))
	}
	sam := l.SignInAndLink(t, "sam@fabrikam.test")
	samSession := connect(t, l, agentToken(t, l, sam, true), "")
	for _, subject := range []string{"Exactly once", "Exactly once, again"} {
		var p struct {
			Messages []any `json:"messages"`
		}
		call(t, samSession, "search_messages", map[string]any{"query": `subject:"` + subject + `"`}, &p)
		want := 1
		if subject == "Exactly once" {
			want = 2 // the search also matches "Exactly once, again"
		}
		if len(p.Messages) != want {
			t.Fatalf("%q delivered %d times (search hits)", subject, len(p.Messages))
		}
	}
}

func TestReadOnlyAndToolsets(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	ro := connect(t, l, agentToken(t, l, id, true), "")
	names := toolNames(t, ro)
	if slices.Contains(names, "send_message") || slices.Contains(names, "create_folder") || !slices.Contains(names, "list_messages") {
		t.Fatalf("read-only tools: %v", names)
	}
	// A complete, valid send: refused for the token, not for the arguments.
	res, err := ro.CallTool(context.Background(), &mcp.CallToolParams{Name: "send_message", Arguments: map[string]any{
		"to": []string{"sam@fabrikam.test"}, "subject": "From a read-only token", "body": "should not arrive"}})
	if err == nil && !res.IsError {
		t.Fatal("a read-only token sent mail")
	}
	msg := fmt.Sprint(err)
	if res != nil {
		msg = errorText(res)
	}
	if !strings.Contains(msg, "send_message") || strings.Contains(msg, "validating") {
		t.Fatalf("the refusal is not about the tool: %s", msg)
	}
	if n := sentCount(t, l, "From a read-only token"); n != 0 {
		t.Fatalf("delivered %d times", n)
	}
	files := connect(t, l, agentToken(t, l, id, false, "files"), "")
	names = toolNames(t, files)
	for _, n := range names {
		if !slices.Contains([]string{"list_files", "search_files", "list_changes", "search", "get_file_info", "read_file", "upload_file", "create_folder", "move_file", "delete_file"}, n) {
			t.Fatalf("files-only token lists %s", n)
		}
	}
	// list_changes and search serve three toolsets, each call checked for its source.
	cal := connect(t, l, agentToken(t, l, id, true, "calendar"), "")
	if !slices.Contains(toolNames(t, cal), "list_changes") {
		t.Fatal("a calendar token does not see list_changes")
	}
	if res := call(t, cal, "list_changes", map[string]any{"source": "calendar"}, nil); res.IsError {
		t.Fatalf("calendar changes with a calendar token: %s", errorText(res))
	}
	for _, src := range []string{"mail", "files"} {
		if res := call(t, cal, "list_changes", map[string]any{"source": src}, nil); !res.IsError {
			t.Fatalf("a calendar token read %s changes", src)
		}
	}
}

func TestLinkStatesAreToolErrors(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	u, _ := l.App.Store.UserByEmail(context.Background(), "jo@outlook.test")
	s := connect(t, l, agentToken(t, l, u.ID, false), "")
	res := call(t, s, "get_profile", nil, nil)
	if !res.IsError || !strings.Contains(errorText(res), "Link Account") || !strings.Contains(errorText(res), l.URL+"/integrations") {
		t.Fatalf("unlinked: %s", errorText(res))
	}
	l.SignInAndLink(t, "jo@outlook.test")
	l.Sandbox.Identity.RevokeGrants(mustPerson(t, l, "jo@outlook.test"))
	_, _ = l.App.Store.UpdateLink(context.Background(), u.ID, func(x *graphgate.Link) (*graphgate.Link, error) {
		x.AccessExpiresAt = time.Now().Add(-time.Minute)
		return x, nil
	})
	res = call(t, s, "get_profile", nil, nil)
	if !res.IsError || !strings.Contains(errorText(res), "Reconnect") {
		t.Fatalf("revoked: %s", errorText(res))
	}
	_, _ = l.App.Web.Admin().SetM365Enabled(context.Background(), nil, false)
	res = call(t, s, "get_profile", nil, nil)
	if !res.IsError || !strings.Contains(errorText(res), "turned Microsoft 365 off") || !strings.Contains(errorText(res), l.URL+"/integrations") {
		t.Fatalf("disabled: %s", errorText(res))
	}
	if _, err := l.App.Web.Admin().RemoveM365(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	res = call(t, s, "get_profile", nil, nil)
	if !res.IsError || !strings.Contains(errorText(res), "not configured") {
		t.Fatalf("not configured: %s", errorText(res))
	}
}

func TestCalendarAndFileTools(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, id, false), "")
	var cals struct {
		Calendars []struct{ ID string } `json:"calendars"`
	}
	call(t, s, "list_calendars", nil, &cals)
	if len(cals.Calendars) != 2 {
		t.Fatalf("calendars: %+v", cals)
	}
	var evs struct {
		Events []struct {
			ID, Subject, Start, Kind string
		} `json:"events"`
	}
	// Without a zone, times come in the person's own zone: alex works in
	// Berlin. The mailbox settings need a scope graphgate does not ask for,
	// so the zone comes from alex's own events.
	var prof struct {
		TimeZone       string `json:"time_zone"`
		TimeZoneSource string `json:"time_zone_source"`
	}
	call(t, s, "get_profile", nil, &prof)
	if prof.TimeZone != "Europe/Berlin" || prof.TimeZoneSource != "calendar" {
		t.Fatalf("profile zone: %+v", prof)
	}
	if res := call(t, s, "list_events", nil, &evs); res.IsError {
		t.Fatal(errorText(res))
	}
	standup := false
	for _, e := range evs.Events {
		if e.Subject == "Team standup" {
			standup = true
			if !strings.Contains(e.Start, "T09:30:00+01:00") && !strings.Contains(e.Start, "T09:30:00+02:00") {
				t.Fatalf("standup start %q is not 09:30 Berlin time with its offset", e.Start)
			}
		}
	}
	if !standup {
		t.Fatal("the recurring standup is not expanded into the next 7 days")
	}
	var tokyo struct {
		Events []struct{ Start, TimeZone string } `json:"events"`
	}
	call(t, s, "list_events", map[string]any{"time_zone": "Asia/Tokyo"}, &tokyo)
	if len(tokyo.Events) == 0 || !strings.HasSuffix(tokyo.Events[0].Start, "+09:00") && len(tokyo.Events[0].Start) != 10 {
		t.Fatalf("explicit zone: %+v", tokyo.Events[:min(1, len(tokyo.Events))])
	}
	var ev struct{ Subject string }
	call(t, s, "get_event", map[string]any{"id": evs.Events[0].ID}, &ev)
	if ev.Subject != evs.Events[0].Subject {
		t.Fatalf("get_event: %+v", ev)
	}
	if res := call(t, s, "list_events", map[string]any{"time_zone": "Mars/Olympus"}, nil); !res.IsError {
		t.Fatal("a bad zone was accepted")
	}

	var items struct {
		Items []struct{ Name, Kind, Path string } `json:"items"`
	}
	call(t, s, "list_files", map[string]any{"path": "/Documents/Projects/Apollo"}, &items)
	if len(items.Items) != 4 || items.Items[0].Path != "/Documents/Projects/Apollo/"+items.Items[0].Name {
		t.Fatalf("list_files: %+v", items)
	}
	var file struct {
		Text      string `json:"text"`
		Truncated bool   `json:"truncated"`
		Note      string `json:"note"`
	}
	call(t, s, "read_file", map[string]any{"path": "/Documents/Meeting notes.txt"}, &file)
	if !strings.HasPrefix(untrustedBody(t, file.Text, "file Meeting notes.txt"), "Meeting notes") {
		t.Fatalf("read_file: %+v", file)
	}
	var binary struct {
		Text string `json:"text"`
		Note string `json:"note"`
	}
	call(t, s, "read_file", map[string]any{"path": "/Recordings/town-hall.mp4"}, &binary)
	if binary.Note == "" || binary.Text != "" {
		t.Fatalf("binary file: %+v", binary)
	}
	call(t, s, "search_files", map[string]any{"query": "spec"}, &items)
	if len(items.Items) == 0 {
		t.Fatal("search_files found nothing")
	}
	var folder struct{ Name, Path string }
	call(t, s, "create_folder", map[string]any{"parent": "/Documents", "name": "Agent output"}, &folder)
	if folder.Path != "/Documents/Agent output" {
		t.Fatalf("create_folder: %+v", folder)
	}
	if res := call(t, s, "create_folder", map[string]any{"parent": "/Documents", "name": "Agent output"}, nil); !res.IsError {
		t.Fatal("a clashing folder was created")
	}
	if res := call(t, s, "list_files", map[string]any{"path": "/../etc"}, nil); !res.IsError {
		t.Fatal("a path with .. was accepted")
	}
}

func mustPerson(t *testing.T, l *apptest.Linked, upn string) *directory.Person {
	t.Helper()
	p, ok := l.Sandbox.Directory.Person(upn)
	if !ok {
		t.Fatalf("no sandbox person %s", upn)
	}
	return p
}

func TestMailWriteTools(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false), "")
	jo := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "jo@outlook.test"), false), "")
	find := func(s *mcp.ClientSession, query string) []struct{ ID, Subject string } {
		var p struct {
			Messages []struct{ ID, Subject string } `json:"messages"`
		}
		call(t, s, "search_messages", map[string]any{"query": query}, &p)
		return p.Messages
	}
	var d struct{ ID, Subject string }
	if res := call(t, alex, "create_draft", map[string]any{"subject": "Trip plan", "body": "Day 1: arrive"}, &d); res.IsError || d.ID == "" {
		t.Fatalf("create_draft: %s", errorText(res))
	}
	call(t, alex, "update_draft", map[string]any{"id": d.ID, "to": []string{"jo@outlook.test"}, "subject": "Trip plan v2"}, &d)
	if d.Subject != "Trip plan v2" {
		t.Fatalf("update_draft: %+v", d)
	}
	if res := call(t, alex, "send_draft", map[string]any{"id": d.ID}, nil); res.IsError {
		t.Fatalf("send_draft: %s", errorText(res))
	}
	got := find(jo, `subject:"Trip plan v2"`)
	if len(got) != 1 {
		t.Fatalf("jo got %d copies", len(got))
	}
	if res := call(t, jo, "reply_to_message", map[string]any{"id": got[0].ID, "comment": "Sounds good"}, nil); res.IsError {
		t.Fatalf("reply: %s", errorText(res))
	}
	replies := find(alex, `subject:"RE: Trip plan v2"`)
	if len(replies) != 1 {
		t.Fatalf("alex got %d replies", len(replies))
	}
	mustCall(t, alex, "forward_message", map[string]any{"id": replies[0].ID, "to": []string{"sam@fabrikam.test"}, "comment": "FYI"}, nil)
	forwarded := 0
	for _, m := range sandboxMailbox(t, l, "sam@fabrikam.test").Messages() {
		if !m.IsDraft && strings.Contains(m.Subject, "Trip plan v2") && strings.Contains(m.Body.Content, "FYI") {
			forwarded++
		}
	}
	if forwarded != 1 {
		t.Fatalf("the forward reached sam %d times", forwarded)
	}
	mustCall(t, alex, "update_message", map[string]any{"id": replies[0].ID, "is_read": true, "flag": "flagged", "categories": []string{"Red category"}}, nil)
	var updated *graph.Message
	for _, m := range sandboxMailbox(t, l, "alex@contoso.test").Messages() {
		if m.ID == replies[0].ID {
			updated = m
		}
	}
	if updated == nil || !updated.IsRead || updated.Flag.FlagStatus != "flagged" || !slices.Equal(updated.Categories, []string{"Red category"}) {
		t.Fatalf("update_message did not stick: %+v", updated)
	}
	var moved struct{ ID string }
	call(t, alex, "move_message", map[string]any{"id": replies[0].ID, "folder": "archive"}, &moved)
	if moved.ID == "" || moved.ID == replies[0].ID {
		t.Fatalf("move gave id %q", moved.ID)
	}
	if res := call(t, alex, "get_message", map[string]any{"id": replies[0].ID}, nil); !res.IsError || !strings.Contains(errorText(res), "not found") {
		t.Fatal("the old id still works after a move")
	}
	var deleted struct{ ID string }
	call(t, alex, "delete_message", map[string]any{"id": moved.ID}, &deleted)
	var inDeleted struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	call(t, alex, "list_messages", map[string]any{"folder": "deleteditems", "page_size": 50}, &inDeleted)
	found := false
	for _, m := range inDeleted.Messages {
		found = found || m.ID == deleted.ID
	}
	if !found {
		t.Fatal("the deleted message is not in Deleted Items")
	}
	if res := call(t, alex, "update_message", map[string]any{"id": moved.ID, "flag": "maybe"}, nil); !res.IsError {
		t.Fatal("a bad flag was accepted")
	}
}

func TestFileWriteTools(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	s := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false), "")
	var it struct{ ID, Name, Path string }
	if res := call(t, s, "upload_file", map[string]any{"path": "/Agent/notes/summary.md", "text": "# Summary\nAll good."}, &it); res.IsError {
		t.Fatalf("upload: %s", errorText(res))
	}
	var f struct{ Text string }
	call(t, s, "read_file", map[string]any{"path": "/Agent/notes/summary.md"}, &f)
	if untrustedBody(t, f.Text, "file summary.md") != "# Summary\nAll good." {
		t.Fatalf("read back: %q", f.Text)
	}
	if res := call(t, s, "upload_file", map[string]any{"path": "/Agent/notes/summary.md", "text": "x", "if_exists": "fail"}, nil); !res.IsError {
		t.Fatal("if_exists=fail overwrote")
	}
	call(t, s, "create_folder", map[string]any{"name": "Archive"}, nil)
	call(t, s, "move_file", map[string]any{"id": it.ID, "new_name": "final.md", "new_parent": "/Archive"}, &it)
	if it.Path != "/Archive/final.md" {
		t.Fatalf("move_file: %+v", it)
	}
	if res := call(t, s, "delete_file", map[string]any{"path": "/Archive/final.md"}, nil); res.IsError {
		t.Fatalf("delete: %s", errorText(res))
	}
	if res := call(t, s, "get_file_info", map[string]any{"path": "/Archive/final.md"}, nil); !res.IsError {
		t.Fatal("deleted file still there")
	}
	if res := call(t, s, "delete_file", map[string]any{"path": "/"}, nil); !res.IsError {
		t.Fatal("the root was deletable")
	}
}

func TestToolCallsAreAuditedAndCounted(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, id, false), "")
	call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Secret plans", "body": "the body text"}, nil)
	call(t, s, "send_message", map[string]any{"to": []string{"bad"}, "subject": "x", "body": "y"}, nil)
	// Arguments the input schema refuses: nothing runs, but the call is
	// audited and counted too.
	if res := call(t, s, "send_message", map[string]any{"to": "not-a-list", "subject": 5}, nil); !res.IsError {
		t.Fatal("arguments against the schema were accepted")
	}
	// Tool calls are audited by a background writer: wait for it.
	var events []*graphgate.AuditEvent
	for deadline := time.Now().Add(10 * time.Second); len(events) < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		events, _, _ = l.App.Store.ListAudit(context.Background(), graphgate.AuditFilter{Action: "mcp.tool_call"})
	}
	if len(events) != 3 {
		t.Fatalf("%d tool-call audit entries", len(events))
	}
	outcomes := map[string]*graphgate.AuditEvent{}
	for _, e := range events {
		outcomes[e.Details["outcome"]] = e
	}
	ok, bad, refused := outcomes["ok"], outcomes["user_error"], outcomes["invalid_arguments"]
	if ok == nil || bad == nil || refused == nil || ok.Target != "send_message" || ok.Details["graph_request_ids"] == "" || ok.ActorEmail != "alex@contoso.test" ||
		refused.Target != "send_message" || refused.ActorEmail != "alex@contoso.test" {
		t.Fatalf("audit entries: %+v", events)
	}
	for _, e := range events {
		for _, v := range e.Details {
			if strings.Contains(v, "Secret plans") || strings.Contains(v, "the body text") {
				t.Fatal("the audit log holds message content")
			}
		}
	}
	c := l.NewClient()
	resp := c.Get("/metrics")
	if !strings.Contains(resp.Body, `graphgate_mcp_tool_calls_total{outcome="ok",tool="send_message"} 1`) ||
		!strings.Contains(resp.Body, `graphgate_mcp_tool_calls_total{outcome="user_error",tool="send_message"} 1`) ||
		!strings.Contains(resp.Body, `graphgate_mcp_tool_calls_total{outcome="invalid_arguments",tool="send_message"} 1`) {
		t.Fatal("tool calls are not counted in /metrics")
	}
}

func TestDownloadLinks(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	s := connect(t, l, agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), true), "")
	var f struct {
		DownloadURL string `json:"download_url"`
		File        struct {
			Size int64 `json:"size"`
		} `json:"file"`
	}
	call(t, s, "read_file", map[string]any{"path": "/Recordings/town-hall.mp4"}, &f)
	if !strings.HasPrefix(f.DownloadURL, l.URL+"/api/v1/downloads/") {
		t.Fatalf("download url %q", f.DownloadURL)
	}
	resp, err := http.Get(f.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != f.File.Size || !strings.Contains(resp.Header.Get("Content-Disposition"), "town-hall.mp4") {
		t.Fatalf("download: %d, %d of %d bytes", resp.StatusCode, n, f.File.Size)
	}
	// Once only.
	resp, _ = http.Get(f.DownloadURL)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second download: %d", resp.StatusCode)
	}

	// Attachments: text comes back as text, the rest as a link.
	var hits struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	call(t, s, "search_messages", map[string]any{"query": "hasattachment:true", "page_size": 50}, &hits)
	sawText, sawLink := false, false
	for _, m := range hits.Messages {
		var msg struct {
			Attachments []struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				ContentType string `json:"content_type"`
			} `json:"attachments"`
		}
		call(t, s, "get_message", map[string]any{"id": m.ID, "max_chars": 500}, &msg)
		for _, a := range msg.Attachments {
			var got struct {
				Text        string `json:"text"`
				DownloadURL string `json:"download_url"`
			}
			call(t, s, "get_attachment", map[string]any{"message_id": m.ID, "attachment_id": a.ID}, &got)
			switch {
			case a.ContentType == "text/plain" && strings.HasPrefix(untrustedBody(t, got.Text, "attachment "+a.Name), "Meeting notes"):
				sawText = true
			case a.ContentType == "application/pdf" && got.DownloadURL != "":
				resp, err := http.Get(got.DownloadURL)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.HasPrefix(string(b), "%PDF") {
					t.Fatalf("the PDF link gave %q", b[:min(20, len(b))])
				}
				sawLink = true
			}
		}
		if sawText && sawLink {
			break
		}
	}
	if !sawText || !sawLink {
		t.Fatalf("text attachment read: %v, PDF link worked: %v", sawText, sawLink)
	}
}

func TestTransportGuards(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	id := l.SignInAndLink(t, "alex@contoso.test")
	tok := agentToken(t, l, id, false)
	post := func(body string, hdr ...string) int {
		req, _ := http.NewRequest("POST", l.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"jsonrpc":"2.0","id":1,"method":"ping"}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("cross-site request: %d", code)
	}
	if code := post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"upload_file","arguments":{"path":"/x","text":"` + strings.Repeat("a", 9<<20) + `"}}}`); code < 400 {
		t.Errorf("oversized body: %d", code)
	}
	// A 503 on a read is retried; the agent sees a normal answer.
	s := connect(t, l, tok, "")
	_, _ = l.Sandbox.AddFault(sandbox.Fault{Method: "GET", Path: "^/v1.0/me$", Status: 503, Times: 1})
	var p struct{ Email string }
	if res := call(t, s, "get_profile", nil, &p); res.IsError || p.Email != "alex@contoso.test" {
		t.Fatalf("after a 503: %s", errorText(res))
	}
	// The whole tools/list stays small.
	res, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(res)
	t.Logf("tools/list: %d tools, %d bytes", len(res.Tools), len(raw))
}

// sandboxMailbox is a person's mailbox in the sandbox, to check what a
// tool did from Microsoft's side.
func sandboxMailbox(t *testing.T, l *apptest.Linked, address string) *graph.Mailbox {
	t.Helper()
	mb, ok := l.Sandbox.Graph.Store().MailboxByAddress(address)
	if !ok {
		t.Fatalf("no mailbox %s", address)
	}
	return mb
}
