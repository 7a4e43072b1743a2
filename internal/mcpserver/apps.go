package mcpserver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/microcosm-cc/bluemonday"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
)

// MCP Apps (the io.modelcontextprotocol/ui extension). A client that
// declares it sees three views: an approval card on the tools that ask the
// person first, a message view on get_message and a calendar view on the
// calendar's reading tools. The host fetches a view (resources/read of a
// ui:// resource), frames it, and feeds it the tool's result; graphgate's
// part of a result meant for a view only is under _meta[viewMeta].
//
// A client that does not declare the extension sees exactly what it saw
// before: no _meta on tools, no resources, no decide_approval, the same
// results. The declaration travels with every request from 2026-07-28 on;
// an earlier client makes it in its initialize request only, so graphgate
// remembers it, in the store, under the access the client uses (its agent
// token or OAuth grant): any replica answers its later requests.

const (
	uiExtension = "io.modelcontextprotocol/ui"
	appMIME     = "text/html;profile=mcp-app"
	// viewMeta is the key of what a result carries for a view alone.
	viewMeta    = "graphgate/view"
	decideTool  = "decide_approval"
	cardPurpose = "mcp approval card v1"
	// maxViewHTML bounds a sanitised mail body sent to the message view.
	maxViewHTML = 512 << 10
)

const approvalView = "ui://graphgate/approval"

// views are the ui:// resources, each built once from views/. The tool a
// view belongs to describes it; the list gives only what a host needs.
var views = []struct{ uri, name, title string }{
	{approvalView, "approval", "Approve or decline"},
	{"ui://graphgate/message", "message", "Message"},
	{"ui://graphgate/calendar", "calendar", "Calendar"},
}

// viewOf is the view shown for a tool: the approval card for every tool
// that asks first.
func viewOf(d toolDef) string {
	switch {
	case d.asks:
		return approvalView
	case d.name == "get_message":
		return views[1].uri
	case d.name == "list_events" || d.name == "find_free_time" || d.name == "find_meeting_times":
		return views[2].uri
	}
	return ""
}

//go:embed views
var viewFiles embed.FS

// viewPages are the views' HTML by URI: static, no data in them, with a
// CSP that allows their own script and style (by hash) and nothing from
// anywhere else.
var viewPages = func() map[string]string {
	read := func(name string) string {
		b, err := viewFiles.ReadFile("views/" + name)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	hash := func(s string) string {
		d := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(d[:]) + "'"
	}
	pages := map[string]string{}
	for _, v := range views {
		style := read("base.css") + read(v.name+".css")
		script := read("bridge.js") + read(v.name+".js")
		csp := "default-src 'none'; script-src " + hash(script) + "; style-src " + hash(style) + "; img-src data:; form-action 'none'; base-uri 'none'"
		pages[v.uri] = `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
			`<meta http-equiv="Content-Security-Policy" content="` + csp + `">` +
			`<meta name="viewport" content="width=device-width, initial-scale=1"><title>` + v.title + `</title><style>` + style + `</style></head><body>` +
			read(v.name+".html") + `<script>` + script + `</script></body></html>`
	}
	return pages
}()

// features are what one request's client declared it can do.
type features struct {
	apps bool
	// form and url: the elicitation modes it answers (2026-07-28 only: an
	// earlier client cannot be asked by a stateless server).
	form, url bool
}

// declared is what capabilities declare, on a protocol revision.
func declared(caps *mcp.ClientCapabilities, version string) features {
	var f features
	if caps == nil {
		return f
	}
	if ui, ok := caps.Extensions[uiExtension].(map[string]any); ok {
		switch types := ui["mimeTypes"].(type) {
		case []any:
			f.apps = slices.Contains(types, any(appMIME))
		case []string:
			f.apps = slices.Contains(types, appMIME)
		}
	}
	if e := caps.Elicitation; e != nil && version >= multiRoundTrip {
		f.url = e.URL != nil
		// Neither mode named means form (the specification's default).
		f.form = e.Form != nil || e.URL == nil
	}
	return f
}

type featuresKey struct{}

// featuresFrom is what the client of the request being answered declared.
func featuresFrom(ctx context.Context) features {
	f, _ := ctx.Value(featuresKey{}).(features)
	return f
}

// features is what the client of one request declared: with the request
// from 2026-07-28 on, in its initialize request before (remembered then).
func (s *Server) features(ctx context.Context, req mcp.Request) features {
	if init, ok := req.(*mcp.ServerRequest[*mcp.InitializeParams]); ok && init.Params != nil {
		f := declared(init.Params.Capabilities, init.Params.ProtocolVersion)
		s.rememberClient(ctx, req, f.apps)
		return f
	}
	ss, _ := req.GetSession().(*mcp.ServerSession)
	if ss == nil {
		return features{}
	}
	if ip := ss.InitializeParams(); ip != nil && ip.ProtocolVersion >= multiRoundTrip {
		return declared(ip.Capabilities, ip.ProtocolVersion)
	}
	return features{apps: s.rememberedApps(ctx, req)}
}

// clientMemory is how long a replica trusts what it read or wrote of a
// client's declaration before reading the store again.
const clientMemory = time.Minute

type rememberedClient struct {
	apps bool
	at   time.Time
}

// accessOf is the key a client's declaration is kept under: its access.
func accessOf(req mcp.Request) (string, *caller) {
	extra := req.GetExtra()
	if extra == nil || extra.TokenInfo == nil {
		return "", nil
	}
	c, _ := extra.TokenInfo.Extra[callerKey].(*caller)
	if c == nil {
		return "", nil
	}
	if id := c.access.GrantID(); id != 0 {
		return "g:" + strconv.FormatInt(id, 10), c
	}
	return "t:" + strconv.FormatInt(c.access.TokenID(), 10), c
}

// rememberClient keeps what an earlier revision's client declared when it
// connected, unless this replica knows it already.
func (s *Server) rememberClient(ctx context.Context, req mcp.Request, apps bool) {
	key, c := accessOf(req)
	if c == nil {
		return
	}
	now := s.d.Now()
	if v, ok := s.clients.Load(key); ok && v.(rememberedClient).apps == apps && now.Sub(v.(rememberedClient).at) < clientMemory {
		return
	}
	if err := s.d.Store.RememberClient(ctx, &graphgate.MCPClient{Access: key, UserID: c.user.ID, Apps: apps, SeenAt: now.UTC()}); err != nil {
		s.d.Log.Warn("remembering what an MCP client declared", "err", err)
		return
	}
	s.clients.Store(key, rememberedClient{apps: apps, at: now})
}

// rememberedApps is whether the client of an earlier revision's request
// declared MCP Apps when it connected.
func (s *Server) rememberedApps(ctx context.Context, req mcp.Request) bool {
	key, c := accessOf(req)
	if c == nil {
		return false
	}
	now := s.d.Now()
	if v, ok := s.clients.Load(key); ok && now.Sub(v.(rememberedClient).at) < clientMemory {
		return v.(rememberedClient).apps
	}
	got, err := s.d.Store.MCPClient(ctx, key)
	apps := err == nil && got.Apps
	if err != nil && graphgate.ErrorCode(err) != graphgate.ENOTFOUND {
		s.d.Log.Warn("reading what an MCP client declared", "err", err)
		return false
	}
	s.clients.Store(key, rememberedClient{apps: apps, at: now})
	return apps
}

// offered is what each client is offered: tools always; the views only to
// clients with the extension, the approval card only where there is
// something to approve (asks: the token or app asks the person first).
// Prompts, completions, and resources for clients without the extension,
// are unknown methods, as graphgate offers none.
func (s *Server) offered(asks bool) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return s.offer(next, asks)
	}
}

func (s *Server) offer(next mcp.MethodHandler, asks bool) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		f := s.features(ctx, req)
		ctx = context.WithValue(ctx, featuresKey{}, f)
		if strings.HasPrefix(method, "prompts/") || strings.HasPrefix(method, "completion/") || strings.HasPrefix(method, "resources/") && !f.apps {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "method not found: graphgate offers tools only"}
		}
		res, err := next(ctx, method, req)
		if err != nil {
			return res, err
		}
		switch r := res.(type) {
		case *mcp.ListToolsResult:
			return s.toolsFor(r, f, asks), nil
		case *mcp.InitializeResult:
			if f.apps {
				c := *r
				c.Capabilities = withApps(r.Capabilities)
				return &c, nil
			}
		case *mcp.DiscoverResult:
			if f.apps {
				c := *r
				c.Capabilities = withApps(r.Capabilities)
				return &c, nil
			}
		}
		return res, nil
	}
}

// withApps declares the extension and the views, as resources.
func withApps(c *mcp.ServerCapabilities) *mcp.ServerCapabilities {
	out := &mcp.ServerCapabilities{}
	if c != nil {
		*out = *c
		out.Extensions = maps.Clone(c.Extensions)
	}
	out.Resources = &mcp.ResourceCapabilities{}
	out.AddExtension(uiExtension, nil)
	return out
}

// toolsFor is the tool list as f's client sees it: with the extension,
// each tool names its view; without it, as before, and no decide_approval.
func (s *Server) toolsFor(r *mcp.ListToolsResult, f features, asks bool) *mcp.ListToolsResult {
	out := *r
	out.Tools = make([]*mcp.Tool, 0, len(r.Tools))
	for _, t := range r.Tools {
		if t.Name == decideTool && !f.apps {
			continue
		}
		if uri := s.views[t.Name]; uri != "" && f.apps && (asks || uri != approvalView) {
			c := *t
			c.Meta = mcp.Meta{"ui": map[string]any{"resourceUri": uri}}
			t = &c
		}
		out.Tools = append(out.Tools, t)
	}
	return &out
}

// addViews adds the views as resources, and with asks the approval card's
// decide_approval.
func (s *Server) addViews(srv *mcp.Server, asks bool) {
	for _, v := range views {
		if v.uri == approvalView && !asks {
			continue
		}
		srv.AddResource(&mcp.Resource{URI: v.uri, Name: v.name, MIMEType: appMIME},
			func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: v.uri, MIMEType: appMIME, Text: viewPages[v.uri],
					// No outside origin at all: nothing to connect to or load.
					Meta: mcp.Meta{"ui": map[string]any{"csp": map[string]any{"connectDomains": []string{}, "resourceDomains": []string{}}, "prefersBorder": true}}}}}, nil
			})
	}
	if asks {
		srv.AddTool(decideToolDef, s.decideApproval)
	}
}

type decideIn struct {
	Approval string `json:"approval"`
	Key      string `json:"key"`
	Decision string `json:"decision"`
}

type decideOut struct {
	State string `json:"state"`
	Tool  string `json:"tool"`
}

var decideToolDef = func() *mcp.Tool {
	in, err := jsonschema.For[decideIn](nil)
	if err != nil {
		panic(err)
	}
	in.Properties["decision"].Enum = []any{"approve", "decline"}
	out, err := jsonschema.For[decideOut](nil)
	if err != nil {
		panic(err)
	}
	return &mcp.Tool{Name: decideTool, Title: "Approve or decline", InputSchema: in, OutputSchema: out,
		Description: "The approval card's Approve and Decline.",
		Annotations: annotations(false, false, false),
		Meta:        mcp.Meta{"ui": map[string]any{"resourceUri": approvalView, "visibility": []string{"app"}}}}
}()

// cardKey is what a card must show to decide an approval: given to the
// view in the result's _meta, never in the text the model reads, so that
// knowing an approval's id (it is in the page link) is not enough.
func (s *Server) cardKey(a *graphgate.Approval) string {
	return base64.RawURLEncoding.EncodeToString(s.d.Keys.MAC(cardPurpose, []byte(a.ID+"\x00"+strconv.FormatInt(a.UserID, 10))))
}

// decideApproval records the person's Approve or Decline from the card,
// as the approval page does: their own approval, asked through this very
// token or app, still open, decided once, audited.
func (s *Server) decideApproval(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	c := callerOf(req)
	if c == nil {
		return toolError(errors.New("no caller")), nil
	}
	if !featuresFrom(ctx).apps {
		return toolError(invalid(decideTool + " is for graphgate's approval card only: the person answers there, or on the approval page")), nil
	}
	var in decideIn
	if err := json.Unmarshal(req.Params.Arguments, &in); err != nil || (in.Decision != "approve" && in.Decision != "decline") {
		return toolError(invalid("give approval, key and decision (approve or decline)")), nil
	}
	gone := invalid("this request has expired, was already answered, or belongs to someone else; if the agent still needs it, it will ask again")
	a, err := s.d.Store.Approval(ctx, c.user.ID, in.Approval)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return toolError(gone), nil
	case err != nil:
		return nil, err
	case !hmac.Equal([]byte(in.Key), []byte(s.cardKey(a))) || a.TokenID != c.access.TokenID() || a.GrantID != c.access.GrantID():
		return toolError(gone), nil
	}
	approve := in.Decision == "approve"
	if err := s.d.Store.DecideApproval(ctx, c.user.ID, a.ID, approve); err != nil {
		if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
			return toolError(gone), nil
		}
		return nil, err
	}
	state := graphgate.ApprovalDeclined
	if approve {
		state = graphgate.ApprovalApproved
	}
	s.enqueueAudit(ctx, &graphgate.AuditEvent{At: s.d.Now().UTC(), ActorID: c.user.ID, ActorEmail: c.user.Email, Action: graphgate.ActionApproval,
		Target: a.Tool, Details: map[string]string{"decision": string(state), "token": a.Label, "via": "approval card"}})
	out := decideOut{State: string(state), Tool: a.Tool}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: compactText(out)}}, StructuredContent: out}, nil
}

// askInCard is askOnPage for a client with the extension: the result the
// card shows until the person decides, with the same page as a way round.
func (s *Server) askInCard(ctx context.Context, subject []byte, pv preview) (*mcp.CallToolResult, error) {
	call := callFromContext(ctx)
	a, err := s.approvalFor(ctx, subject, pv)
	if a == nil || err != nil {
		if err == nil {
			call.accepted = &pv
		}
		return nil, err
	}
	res := toolError(invalid(fmt.Sprintf("nothing was done yet: the person is asked to approve in the card shown in the chat (or at %s%s%s, until %s UTC). "+
		"When they have approved, call %s again with exactly the same arguments", s.d.BaseURL, ApprovalPath, a.ID, a.ExpiresAt.UTC().Format("15:04"), call.tool)))
	res.Meta = mcp.Meta{viewMeta: map[string]any{"approval": map[string]string{"id": a.ID, "key": s.cardKey(a), "tool": a.Tool, "agent": a.Label,
		"summary": a.Summary, "expires": a.ExpiresAt.UTC().Format("15:04 UTC")}}}
	return res, nil
}

// mailPolicy is what of a mail's HTML the message view shows: text,
// structure, tables, links (http, https, mailto) and inline images given
// as data: URIs; no scripts, styles, forms, frames, event handlers, or
// anything the view would fetch from elsewhere (remote and cid: images go).
var mailPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardURLs()
	p.AllowAttrs("href").OnElements("a")
	p.RequireNoReferrerOnLinks(true)
	p.AllowElements("p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "small", "big", "blockquote", "pre", "code",
		"hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "center")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowDataURIImages()
	p.AllowAttrs("src").Matching(regexp.MustCompile(`^data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+$`)).OnElements("img")
	p.AllowAttrs("alt", "width", "height").OnElements("img")
	return p
}()

// viewOfMessage is what the message view shows of a body beyond the
// structured answer: the HTML sanitised, and the message's Outlook link.
func viewOfMessage(contentType, body, webLink string) mcp.Meta {
	v := map[string]any{"web_link": webLink}
	if contentType == "html" {
		if html := mailPolicy.Sanitize(body); len(html) <= maxViewHTML {
			v["html"] = html
		}
	}
	return mcp.Meta{viewMeta: v}
}
