package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

const (
	uiExtension = "io.modelcontextprotocol/ui"
	appMIME     = "text/html;profile=mcp-app"
)

// connectApps connects a client that declares MCP Apps (and answers
// elicitations with p, when given).
func connectApps(t *testing.T, l *apptest.Linked, token, version string, p *person) *mcp.ClientSession {
	t.Helper()
	caps := &mcp.ClientCapabilities{}
	caps.AddExtension(uiExtension, map[string]any{"mimeTypes": []string{appMIME}})
	opts := &mcp.ClientOptions{Capabilities: caps}
	if p != nil {
		opts.ElicitationHandler = p.handle
	}
	return connectWith(t, l, token, version, opts)
}

// viewOf is the view a listed tool names, if any.
func viewsOf(t *testing.T, s *mcp.ClientSession) map[string]map[string]any {
	t.Helper()
	res, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, tool := range res.Tools {
		if ui, ok := tool.Meta["ui"].(map[string]any); ok {
			out[tool.Name] = ui
		}
	}
	return out
}

// The views and decide_approval are offered only to clients that declare
// the extension, on each revision (before 2026-07-28 the declaration made
// at initialize is remembered for the token); every other client sees what
// it saw before.
func TestAppsOnlyForClientsThatDeclareThem(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	token := askingToken(t, l, l.SignInAndLink(t, "alex@contoso.test"))
	for _, c := range []struct {
		version string
		apps    bool
		want    bool
	}{{"2025-11-25", false, false}, {"2025-11-25", true, true}, {"2025-06-18", false, false}, {"2026-07-28", false, false}, {"2026-07-28", true, true}} {
		var s *mcp.ClientSession
		if c.apps {
			s = connectApps(t, l, token, c.version, nil)
		} else {
			s = connect(t, l, token, c.version)
		}
		views := viewsOf(t, s)
		_, err := s.ListResources(context.Background(), nil)
		names := toolNames(t, s)
		if !c.want {
			if len(views) != 0 || slices.Contains(names, "decide_approval") || err == nil {
				t.Errorf("%s (apps declared: %v): views %v, tools %v, resources error %v", c.version, c.apps, views, names, err)
			}
			continue
		}
		for tool, want := range map[string]string{"get_message": "ui://graphgate/message", "list_events": "ui://graphgate/calendar",
			"find_free_time": "ui://graphgate/calendar", "send_message": "ui://graphgate/approval",
			"delete_file": "ui://graphgate/approval", "decide_approval": "ui://graphgate/approval"} {
			if views[tool]["resourceUri"] != want {
				t.Errorf("%s names view %v, want %s", tool, views[tool], want)
			}
		}
		if v := views["decide_approval"]["visibility"]; !slices.Equal(toStrings(v), []string{"app"}) {
			t.Errorf("decide_approval is visible to %v", v)
		}
		if views["list_messages"] != nil || views["create_draft"] != nil {
			t.Errorf("a view on a tool without one: %v", views)
		}
		res, err := s.ListResources(context.Background(), nil)
		if err != nil || len(res.Resources) != 3 {
			t.Fatalf("resources: %v %v", res, err)
		}
		for _, r := range res.Resources {
			read, err := s.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: r.URI})
			if err != nil || len(read.Contents) != 1 {
				t.Fatalf("reading %s: %v", r.URI, err)
			}
			page := read.Contents[0]
			if page.MIMEType != appMIME || !strings.Contains(page.Text, `http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-`) {
				t.Errorf("%s: %s %.300s", r.URI, page.MIMEType, page.Text)
			}
			// Static: nothing of the person's, and nothing from elsewhere.
			for _, never := range []string{"http://", "https://", "alex@", "unsafe-inline", "unsafe-eval"} {
				if strings.Contains(page.Text, never) {
					t.Errorf("%s contains %q", r.URI, never)
				}
			}
		}
		if _, err := s.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "ui://graphgate/../secrets"}); err == nil {
			t.Error("an unknown resource was read")
		}
	}
}

// toolResultOf is a call the client refused to send as the model would
// see it.
func toolResultOf(err error) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out
}

type cardApproval struct {
	ID, Key, Tool, Agent, Summary, Expires string
}

// approvalIn reads the approval a card is given.
func approvalIn(t *testing.T, res *mcp.CallToolResult) cardApproval {
	t.Helper()
	var v struct{ Approval cardApproval }
	b, _ := json.Marshal(res.Meta["graphgate/view"])
	if err := json.Unmarshal(b, &v); err != nil || v.Approval.ID == "" {
		t.Fatalf("no approval for the card in %s (%s)", b, errorText(res))
	}
	return v.Approval
}

// The approval card: a gated write answers a client with the extension
// with what the person approves in the card; decide_approval records the
// decision as the page does (theirs alone, through this very access, once,
// audited), and the retry goes ahead or is told of the refusal.
func TestApprovalCard(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	token := askingToken(t, l, uid)
	s := connectApps(t, l, token, "2026-07-28", &person{answer: "accept"})
	send := func(subject string) *mcp.CallToolResult {
		return call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": subject, "body": "First line\nSecond line"}, nil)
	}
	res := send("Approved in the card")
	a := approvalIn(t, res)
	if !res.IsError || sentCount(t, l, "Approved in the card") != 0 {
		t.Fatalf("sent before the person approved: %s", errorText(res))
	}
	// The model reads where to approve, never the card's key.
	if text := errorText(res); !strings.Contains(text, "card shown in the chat") || strings.Contains(text, a.Key) {
		t.Fatalf("the model is told: %s", text)
	}
	for _, want := range []string{"Send this email?", "To: sam@fabrikam.test", "Subject: Approved in the card", "> First line"} {
		if !strings.Contains(a.Summary, want) {
			t.Fatalf("the card shows %q, not %q", a.Summary, want)
		}
	}
	if a.Tool != "send_message" || !strings.Contains(a.Agent, "careful agent") {
		t.Fatalf("card: %+v", a)
	}
	decide := func(s *mcp.ClientSession, id, key, decision string) *mcp.CallToolResult {
		res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "decide_approval", Arguments: map[string]any{"approval": id, "key": key, "decision": decision}})
		if err != nil { // an unknown tool to this client
			return toolResultOf(err)
		}
		return res
	}
	// Attacks: a client without the extension (a model calling the tool
	// through it), a wrong key, another person's token, another token of
	// alex's, an unknown decision.
	if r := decide(connect(t, l, token, "2026-07-28"), a.ID, a.Key, "approve"); !r.IsError {
		t.Fatal("a client without the extension decided")
	}
	if r := decide(s, a.ID, a.Key+"x", "approve"); !r.IsError {
		t.Fatal("decided with a wrong key")
	}
	sam := connectApps(t, l, agentToken(t, l, l.SignInAndLink(t, "sam@fabrikam.test"), false), "2026-07-28", nil)
	if r := decide(sam, a.ID, a.Key, "approve"); !r.IsError {
		t.Fatal("another person decided")
	}
	// (A token that does not ask first has no card, nor decide_approval;
	// another that does is refused.)
	if r := decide(connectApps(t, l, agentToken(t, l, uid, false), "2026-07-28", nil), a.ID, a.Key, "approve"); !r.IsError {
		t.Fatal("another of the person's tokens decided")
	}
	if r := decide(connectApps(t, l, askingToken(t, l, uid), "2026-07-28", nil), a.ID, a.Key, "approve"); !r.IsError {
		t.Fatal("another of the person's tokens decided")
	}
	if r := decide(s, a.ID, a.Key, "maybe"); !r.IsError {
		t.Fatal("an unknown decision")
	}
	if send("Approved in the card"); sentCount(t, l, "Approved in the card") != 0 {
		t.Fatal("sent after refused decisions")
	}
	// Approve, ten times at once: one decision counts; a decline after it
	// does not; the retry sends, once.
	var wg sync.WaitGroup
	var decided atomic.Int32
	for range 10 {
		wg.Go(func() {
			res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "decide_approval",
				Arguments: map[string]any{"approval": a.ID, "key": a.Key, "decision": "approve"}})
			if err == nil && !res.IsError {
				decided.Add(1)
			}
		})
	}
	wg.Wait()
	if r := decide(s, a.ID, a.Key, "decline"); !r.IsError {
		t.Fatal("declined after approving")
	}
	if decided.Load() != 1 {
		t.Fatalf("%d decisions counted", decided.Load())
	}
	if r := send("Approved in the card"); r.IsError || sentCount(t, l, "Approved in the card") != 1 {
		t.Fatalf("the retry after approval: %s", errorText(r))
	}
	again := send("Approved in the card")
	if b := approvalIn(t, again); b.ID == a.ID || sentCount(t, l, "Approved in the card") != 1 {
		t.Fatal("one approval sent twice")
	}

	// Decline: the retry is told; nothing goes.
	d := approvalIn(t, send("Declined in the card"))
	if r := decide(s, d.ID, d.Key, "decline"); r.IsError {
		t.Fatalf("declining: %s", errorText(r))
	}
	if r := send("Declined in the card"); !r.IsError || !strings.Contains(errorText(r), "declined") || sentCount(t, l, "Declined in the card") != 0 {
		t.Fatalf("the retry after declining: %s", errorText(r))
	}

	// A host on an earlier revision, which declared the extension only when
	// it connected, gets the card too, and decides through it.
	legacy := connectApps(t, l, token, "2025-11-25", nil)
	lc := approvalIn(t, call(t, legacy, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "From an older host", "body": "hi"}, nil))
	if r := decide(legacy, lc.ID, lc.Key, "approve"); r.IsError {
		t.Fatalf("deciding from an older host: %s", errorText(r))
	}
	if r := call(t, legacy, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "From an older host", "body": "hi"}, nil); r.IsError ||
		sentCount(t, l, "From an older host") != 1 {
		t.Fatalf("the older host's retry: %s", errorText(r))
	}

	// The page still works for the same approval: it is the same record.
	p := approvalIn(t, send("Approved on the page instead"))
	alex := signedIn(t, l, "alex@contoso.test")
	alex.Get("/approve/" + p.ID)
	if r := alex.Post("/approve/"+p.ID, url.Values{"decision": {"approve"}}); r.Status != 200 {
		t.Fatalf("the page: %d", r.Status)
	}
	if r := send("Approved on the page instead"); r.IsError {
		t.Fatalf("after the page: %s", errorText(r))
	}

	// Audited as the page's decisions are, saying where.
	var decisions []string
	for range 50 {
		events, _, _ := l.App.Store.ListAudit(t.Context(), graphgate.AuditFilter{Action: graphgate.ActionApproval})
		decisions = decisions[:0]
		for _, e := range events {
			if e.Details["via"] == "approval card" && e.Target == "send_message" {
				decisions = append(decisions, e.Details["decision"])
			}
		}
		if len(decisions) == 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	slices.Sort(decisions)
	if !slices.Equal(decisions, []string{"approved", "approved", "declined"}) {
		t.Fatalf("audited card decisions: %v", decisions)
	}
}

// The message view gets the body's HTML sanitised: no script, handler,
// style, frame, form or remote image; links keep their real target.
func TestMessageViewSanitises(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	token := agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false)
	mb := sandboxMailbox(t, l, "alex@contoso.test")
	m := &graph.Message{Subject: "Crafted", ParentFolderID: mb.Folder("inbox").ID, ReceivedDateTime: time.Now(),
		From: &graph.Recipient{EmailAddress: graph.EmailAddress{Address: "mallory@evil.test", Name: "Mallory"}},
		Body: graph.ItemBody{ContentType: "html", Content: `<p onclick="steal()">Hello <b>there</b></p><script>steal()</script>` +
			`<img src="https://evil.test/track.png"><img src="cid:logo"><img src=x onerror="steal()"><img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">` +
			`<a href="https://real.example/login">https://bank.example</a><a href="javascript:steal()">click</a><style>body{display:none}</style>` +
			`<iframe src="https://evil.test"></iframe><form action="https://evil.test"><input name=p></form><table><tr><td colspan="2">cell</td></tr></table>`}}
	mb.AddMessage(m)
	for _, c := range []struct {
		apps bool
	}{{false}, {true}} {
		var s *mcp.ClientSession
		if c.apps {
			s = connectApps(t, l, token, "2026-07-28", nil)
		} else {
			s = connect(t, l, token, "2026-07-28")
		}
		res := mustCall(t, s, "get_message", map[string]any{"id": m.ID}, nil)
		view, _ := res.Meta["graphgate/view"].(map[string]any)
		if !c.apps {
			if view != nil {
				t.Fatalf("a client without the extension got %v", res.Meta)
			}
			continue
		}
		html, _ := view["html"].(string)
		for _, never := range []string{"<script", "steal", "onclick", "onerror", "evil.test", "cid:", "javascript:", "<style", "<iframe", "<form", "<input"} {
			if strings.Contains(html, never) {
				t.Errorf("the sanitised body keeps %q: %s", never, html)
			}
		}
		for _, want := range []string{"<b>there</b>", `href="https://real.example/login"`, `src="data:image/png;base64,iVBORw0KGgo="`, `colspan="2"`} {
			if !strings.Contains(html, want) {
				t.Errorf("the sanitised body lost %q: %s", want, html)
			}
		}
		if link, _ := view["web_link"].(string); !strings.HasPrefix(link, "https://") {
			t.Errorf("no Outlook link: %v", view)
		}
	}
}

// URL elicitation: a client that opens pages for the person is sent to
// the page that fixes what stops a tool (link, allow a capability, approve,
// Reconnect), and its retry once they are done works. Other clients keep
// the error with the link.
func TestURLElicitation(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := signedIn(t, l, "alex@contoso.test")
	u, err := l.App.Store.UserByEmail(t.Context(), "alex@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	token := askingToken(t, l, u.ID)
	var opened []string
	// The person, at each page the client opens: link, allow, approve.
	open := func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		if req.Params.Mode != "url" {
			return nil, errors.New("asked in a form: " + req.Params.Message)
		}
		opened = append(opened, req.Params.URL)
		switch path := strings.TrimPrefix(req.Params.URL, l.URL); {
		case path == "/integrations" && (len(opened) == 1 || len(opened) == 4):
			l.Link(t, alex, "alex@contoso.test", "accept") // Link Account, or Reconnect
		case path == "/integrations":
			l.AllowMore(t, alex, "alex@contoso.test", "accept")
		case strings.HasPrefix(path, "/approve/"):
			alex.Get(path)
			alex.Post(path, url.Values{"decision": {"approve"}})
		default:
			return &mcp.ElicitResult{Action: "decline"}, nil
		}
		return &mcp.ElicitResult{Action: "accept"}, nil
	}
	urlOnly := &mcp.ClientOptions{ElicitationHandler: open,
		Capabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}}}

	// Clients without it get the error and the link, on each revision.
	for _, v := range []string{"2025-11-25", "2026-07-28"} {
		if r := call(t, connect(t, l, token, v), "list_messages", nil, nil); !r.IsError || !strings.Contains(errorText(r), l.URL+"/integrations") {
			t.Fatalf("%s without URL elicitation: %s", v, errorText(r))
		}
	}
	s := connectWith(t, l, token, "2026-07-28", urlOnly)
	// Not linked: the person links at the page, and the retry reads mail.
	if r := call(t, s, "list_messages", nil, nil); r.IsError {
		t.Fatalf("after linking: %s", errorText(r))
	}
	// A capability the person has not allowed yet.
	setCapabilities(t, l, "people")
	// (CallTool: the session's first list, which checks answers, had no find_people.)
	if r, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "find_people", Arguments: map[string]any{"query": "megan"}}); err != nil || r.IsError {
		t.Fatalf("after allowing: %v %s", err, errorText(r))
	}
	// A send this client cannot be asked about in a form: the approval page.
	if r := call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Approved by URL", "body": "hi"}, nil); r.IsError ||
		sentCount(t, l, "Approved by URL") != 1 {
		t.Fatalf("after approving on the page: %s", errorText(r))
	}
	// Microsoft revoked the grant: the person reconnects at the page.
	trouble(t, l, "/sandbox/people/alex@contoso.test/revoke", "")
	expireAccess(t, l, u.ID)
	if r := call(t, s, "get_profile", nil, nil); r.IsError {
		t.Fatalf("after reconnecting: %s", errorText(r))
	}
	if len(opened) != 4 || opened[0] != l.URL+"/integrations" || opened[1] != l.URL+"/integrations" || !approvalPage.MatchString(opened[2]) ||
		opened[3] != l.URL+"/integrations" {
		t.Fatalf("pages opened: %v", opened)
	}
	// The person does not approve: the client gives up after its retries
	// and nothing is sent.
	declining := &mcp.ClientOptions{Capabilities: urlOnly.Capabilities, ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "accept"}, nil // back without deciding
	}}
	res, err := connectWith(t, l, token, "2026-07-28", declining).CallTool(t.Context(), &mcp.CallToolParams{Name: "send_message",
		Arguments: map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Never approved", "body": "hi"}})
	if (err == nil && !res.IsError) || sentCount(t, l, "Never approved") != 0 {
		t.Fatalf("sent without approval: %v %v", res, err)
	}
}
