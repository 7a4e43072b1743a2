package mcpserver

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"maps"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
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
	viewMeta = "graphgate/view"
	// maxViewHTML bounds a sanitised mail body sent to the message view.
	maxViewHTML = 512 << 10
)

const (
	approvalView = "ui://graphgate/approval"
	messageView  = "ui://graphgate/message"
	calendarView = "ui://graphgate/calendar"
)

// views are the ui:// resources, each built once from views/. The tool a
// view belongs to describes it; the list gives only what a host needs.
var views = []struct{ uri, name, title string }{
	{approvalView, "approval", "Approve or decline"},
	{messageView, "message", "Message"},
	{calendarView, "calendar", "Calendar"},
}

// viewOf is the view shown for a tool: the approval card for every tool
// that asks first.
func viewOf(d toolDef) string {
	switch {
	case d.asks:
		return approvalView
	case d.name == "get_message":
		return messageView
	case d.name == "list_events" || d.name == "find_free_time" || d.name == "find_meeting_times":
		return calendarView
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
	if !f.apps && !asks {
		return r // no view to name, no decide_approval to hide
	}
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
