package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

// appHost is a minimal MCP Apps host in Chromium: a page built on the
// official AppBridge (scripts/mcp-client-check/apps-host.mjs) that frames
// graphgate's views, fed with results a real MCP client got from
// graphgate; the views' own tool calls go through that same client.
type appHost struct {
	t   *testing.T
	ctx context.Context
	s   *mcp.ClientSession
	// view is the framed view's own context: Chromium runs the sandboxed
	// frame (an opaque origin) in a process of its own, a target to attach to.
	view context.Context
	// seen are the frames' targets used so far: each show makes a new one.
	seen map[target.ID]bool
}

func startAppHost(t *testing.T, s *mcp.ClientSession) *appHost {
	t.Helper()
	dir := apptest.ClientCheckDir(t, "@modelcontextprotocol/ext-apps", "esbuild")
	bundle := filepath.Join(t.TempDir(), "host.js")
	build := exec.Command(filepath.Join("node_modules", ".bin", "esbuild"), "apps-host.mjs", "--bundle", "--format=esm", "--log-level=warning", "--outfile="+bundle)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("bundling the host: %v\n%s", err, out)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"><title>host</title><style>`+
			`body{margin:0;padding:16px;background:#eef0f3;font:14px sans-serif}body.dark{background:#111}`+
			`iframe{display:block;width:100%;max-width:760px;border:0;border-radius:10px;min-height:60px}</style></head>`+
			`<body><div id="frames"></div><script type="module" src="/host.js"></script></body></html>`)
	})
	mux.HandleFunc("GET /host.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, bundle)
	})
	mux.HandleFunc("POST /call", func(w http.ResponseWriter, r *http.Request) {
		var p mcp.CallToolParams
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := s.CallTool(r.Context(), &p)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof window.show === "function"`)); err != nil {
		t.Fatal(err)
	}
	return &appHost{t: t, ctx: ctx, s: s, seen: map[target.ID]bool{}}
}

// show frames uri's view for a call of tool with args and its result.
func (h *appHost) show(uri, tool string, args map[string]any, res *mcp.CallToolResult, theme string) {
	h.t.Helper()
	read, err := h.s.ReadResource(h.ctx, &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		h.t.Fatal(err)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	body := "document.body.className = " + js(theme) + "; show(" + js(read.Contents[0].Text) + ", " + js(tool) + ", " + js(args) + ", " + js(res) + ", " + js(theme) + ")"
	if _, err := chromedp.Run(h.ctx, chromedp.Evaluate[any](body, chromedp.EvalAwaitPromise)); err != nil {
		h.t.Fatalf("showing %s: %v", uri, err)
	}
	if _, err := chromedp.Run(h.ctx, chromedp.Poll[bool](`window.host.ready`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		h.t.Fatalf("showing %s: %v", uri, err)
	}
	// The frame grows to what the view reports it needs: wait until it
	// holds still, or a click could land where a button has not come yet.
	settled := `(() => { const h = document.querySelector("iframe").getBoundingClientRect().height;
		const still = window.host.sizes.length > 0 && window.lastHeight === h; window.lastHeight = h; return still; })()`
	if _, err := chromedp.Run(h.ctx, chromedp.Poll[bool](settled, chromedp.WithPollingInterval(150*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		h.t.Fatalf("showing %s: %v", uri, err)
	}
	h.view = nil
}

// inView is the view's context, attached to its frame's target.
func (h *appHost) inView() context.Context {
	h.t.Helper()
	if h.view != nil {
		return h.view
	}
	for range 100 {
		infos, err := chromedp.Targets(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && !h.seen[info.TargetID] {
				h.seen[info.TargetID] = true
				ctx, cancel := chromedp.NewContext(h.ctx, chromedp.WithTargetID(info.TargetID))
				h.t.Cleanup(cancel)
				h.view = ctx
				return ctx
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatal("the view's frame has no target of its own")
	return nil
}

func (h *appHost) text(sel string) string {
	h.t.Helper()
	s, err := chromedp.Run(h.inView(), chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		h.t.Fatalf("reading %s in the view: %v", sel, err)
	}
	return s
}

func (h *appHost) click(sel string) {
	h.t.Helper()
	if err := chromedp.Do(h.inView(), chromedp.Click(chromedp.CSS(sel))); err != nil {
		h.t.Fatalf("clicking %s in the view: %v", sel, err)
	}
}

func (h *appHost) count(sel string) int {
	h.t.Helper()
	nodes, err := chromedp.Run(h.inView(), chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		h.t.Fatal(err)
	}
	return len(nodes)
}

// asked waits for n things the view asked of the host (messages or links).
func (h *appHost) asked(what string, n int) []string {
	h.t.Helper()
	if _, err := chromedp.Run(h.ctx, chromedp.Poll[bool](fmt.Sprintf("window.host.%s.length >= %d", what, n), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		state, _ := chromedp.Run(h.ctx, chromedp.Evaluate[any]("window.host"))
		shown, _ := chromedp.Run(h.inView(), chromedp.Text(chromedp.CSS("main")))
		h.t.Fatalf("waiting for %d %s: %v (host: %v; the view shows %q)", n, what, err, state, shown)
	}
	got, err := chromedp.Run(h.ctx, chromedp.Evaluate[[]string]("window.host."+what))
	if err != nil {
		h.t.Fatal(err)
	}
	return got
}

// escaped reports whether anything in a view reached the host page.
func (h *appHost) escaped() bool {
	v, err := chromedp.Run(h.ctx, chromedp.Evaluate[bool](`window.escaped === true || !!window.host.escaped || !document.getElementById("frames")`))
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// The approval card approves and declines through the real bridge, the
// message view shows a real message safely, the calendar view shows real
// events and free time and suggests a slot; nothing escapes the frame.
func TestAppsInAHost(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	setCapabilities(t, l, "calendar.write")
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
	s := connectApps(t, l, askingToken(t, l, uid), "2026-07-28", nil)
	h := startAppHost(t, s)

	// The approval card. The subject tries to be markup: it stays text.
	subject := `Card <img src=x onerror="parent.escaped=true">`
	args := map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": subject, "body": "Hello Sam,\nthe plan is attached."}
	send := func() *mcp.CallToolResult {
		res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "send_message", Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	h.show("ui://graphgate/approval", "send_message", args, send(), "light")
	if got := h.text("#summary"); !strings.Contains(got, "Subject: "+subject) || !strings.Contains(got, "To: sam@fabrikam.test") {
		t.Fatalf("the card shows %q", got)
	}
	browsertest.Screenshot(t, h.ctx, "app-approval")
	h.click("#approve")
	if said := h.asked("messages", 1); !strings.Contains(said[0], "I approved send_message") {
		t.Fatalf("the card told the agent %q", said)
	}
	if got := h.text("#status"); !strings.Contains(got, "Approved") {
		t.Fatalf("after approving the card shows %q", got)
	}
	if res := send(); res.IsError || sentCount(t, l, subject) != 1 {
		t.Fatalf("the agent's retry after the card: %s", errorText(res))
	}
	args["subject"] = "Declined in the host"
	h.show("ui://graphgate/approval", "send_message", args, send(), "dark")
	browsertest.Screenshot(t, h.ctx, "app-approval-dark")
	h.click("#decline")
	if said := h.asked("messages", 2); !strings.Contains(said[1], "I declined send_message") {
		t.Fatalf("the card told the agent %q", said)
	}
	if res := send(); !res.IsError || sentCount(t, l, "Declined in the host") != 0 {
		t.Fatalf("the retry after declining: %s", errorText(res))
	}

	// The message view, on a crafted message.
	mb := sandboxMailbox(t, l, "alex@contoso.test")
	m := &graph.Message{Subject: "Quarterly numbers", ParentFolderID: mb.Folder("inbox").ID, ReceivedDateTime: time.Now(),
		From:         &graph.Recipient{EmailAddress: graph.EmailAddress{Address: "megan@contoso.test", Name: "Megan Bowen"}},
		ToRecipients: []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: "alex@contoso.test"}}},
		Body: graph.ItemBody{ContentType: "html", Content: `<p>Hi Alex,</p><p>The <b>numbers</b> are in: <a href="https://real.example/report">https://contoso.sharepoint.com/report</a></p>` +
			`<script>parent.escaped=true</script><img src=x onerror="parent.escaped=true"><p onclick="parent.escaped=true">Thanks, Megan</p>`}}
	mb.AddMessage(m)
	get := map[string]any{"id": m.ID}
	res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "get_message", Arguments: get})
	if err != nil || res.IsError {
		t.Fatalf("get_message: %v %s", err, errorText(res))
	}
	h.show("ui://graphgate/message", "get_message", get, res, "light")
	if got := h.text("#subject"); got != "Quarterly numbers" {
		t.Fatalf("the message view's subject: %q", got)
	}
	if got := h.text("#fields"); !strings.Contains(got, "Megan Bowen <megan@contoso.test>") {
		t.Fatalf("the message view's fields: %q", got)
	}
	if got := h.text("article"); !strings.Contains(got, "(https://real.example/report)") || !strings.Contains(got, "Thanks, Megan") {
		t.Fatalf("the body: %q", got)
	}
	browsertest.Screenshot(t, h.ctx, "app-message")
	h.click("article a")
	h.click("#outlook")
	if links := h.asked("links", 2); links[0] != "https://real.example/report" || !strings.HasPrefix(links[1], "https://") {
		t.Fatalf("links opened: %v", links)
	}

	// The calendar view: this week's events, then free time at phone width.
	var events struct{ Events []struct{ Subject string } }
	week := map[string]any{}
	res, err = s.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_events", Arguments: week})
	if err != nil || res.IsError {
		t.Fatalf("list_events: %v %s", err, errorText(res))
	}
	b, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(b, &events)
	h.show("ui://graphgate/calendar", "list_events", week, res, "light")
	if n := h.count(".item") + h.count(".allday"); len(events.Events) == 0 || n != len(events.Events) {
		t.Fatalf("the calendar shows %d of %d events", n, len(events.Events))
	}
	if got := h.text(".week"); !strings.Contains(got, events.Events[0].Subject) {
		t.Fatalf("the calendar does not show %q: %q", events.Events[0].Subject, got)
	}
	browsertest.Screenshot(t, h.ctx, "app-calendar")
	if err := chromedp.Do(h.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	free := map[string]any{"minutes": 60}
	res, err = s.CallTool(t.Context(), &mcp.CallToolParams{Name: "find_free_time", Arguments: free})
	if err != nil || res.IsError {
		t.Fatalf("find_free_time: %v %s", err, errorText(res))
	}
	h.show("ui://graphgate/calendar", "find_free_time", free, res, "dark")
	if h.count("button.item") == 0 {
		t.Fatal("no free slot to choose")
	}
	browsertest.Screenshot(t, h.ctx, "app-free-time-phone")
	h.click("button.item")
	if said := h.asked("messages", 3); !strings.HasPrefix(said[2], "Let's use ") {
		t.Fatalf("choosing a slot told the model %q", said[2])
	}
	// Suggested meeting times: each a button too.
	meet := map[string]any{"attendees": []string{"megan@contoso.test"}, "duration_minutes": 60, "time_zone": "Europe/Berlin"}
	res, err = s.CallTool(t.Context(), &mcp.CallToolParams{Name: "find_meeting_times", Arguments: meet})
	if err != nil || res.IsError {
		t.Fatalf("find_meeting_times: %v %s", err, errorText(res))
	}
	h.show("ui://graphgate/calendar", "find_meeting_times", meet, res, "light")
	if got := h.text("#title"); !strings.Contains(got, "Suggested meeting times") || h.count("button.item") == 0 {
		t.Fatalf("the suggestions: %q, %d buttons", got, h.count("button.item"))
	}
	h.click("button.item")
	if said := h.asked("messages", 4); !strings.HasPrefix(said[3], "Let's use ") {
		t.Fatalf("choosing a suggested time told the model %q", said[3])
	}
	calls, err := chromedp.Run(h.ctx, chromedp.Evaluate[[]string]("window.host.calls"))
	if err != nil {
		t.Fatal(err)
	}
	// The views called only decide_approval; nothing created an event.
	if strings.Join(calls, ",") != "decide_approval,decide_approval" {
		t.Fatalf("the views called %v", calls)
	}
	if h.escaped() {
		t.Fatal("a view reached the host page")
	}
}
