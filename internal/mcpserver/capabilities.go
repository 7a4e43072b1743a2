package mcpserver

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/graphapi"
)

// opened lists the capability tools a person's reach opens, sorted: with
// the token's scopes, it decides which tools a server lists.
func opened(r *graphgate.Reach) []string {
	var out []string
	for _, c := range graphgate.Capabilities {
		for _, t := range c.Tools {
			if r.Opens(t.Name) {
				out = append(out, t.Name)
			}
		}
		for _, p := range c.Params {
			if r.OpensParam(p.Tool, p.Param) {
				out = append(out, p.Tool+"."+p.Param)
			}
		}
	}
	slices.Sort(out)
	return out
}

// capabilityGate answers a call of a capability's tool the caller cannot
// use (not listed for them) with what to do about it, in place of the
// SDK's "unknown tool": the admin turns the capability on, or the person
// allows it on their tile, or their kind of account cannot have it.
func (s *Server) capabilityGate(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		call, ok := req.(*mcp.CallToolRequest)
		if method != "tools/call" || !ok || call.Params == nil {
			return next(ctx, method, req)
		}
		c := callerOf(call)
		capability, tool := graphgate.CapabilityOfTool(call.Params.Name)
		if capability == nil || c == nil || c.reach.Opens(tool.Name) {
			return next(ctx, method, req)
		}
		err := s.closed(c.reach, capability, tool)
		// Counted and audited like any call: an admin sees what agents
		// reach for that is not on.
		s.record(ctx, c, tool.Name, s.d.Now(), nil, err)
		return s.failed(ctx, err), nil
	}
}

// notAllowed is a call of a capability's tool or argument the caller
// cannot use yet: nothing ran.
type notAllowed struct{ error }

func (e notAllowed) Unwrap() error { return e.error }

// closed says why a capability's tool is closed to the caller and what
// would open it; when it is the person's to open, on which page.
func (s *Server) closed(r *graphgate.Reach, c *graphgate.Capability, t *graphgate.CapabilityTool) error {
	name := t.Name
	switch {
	case !slices.Contains(r.Capabilities, c.Name):
		return notAllowed{message(name + " belongs to the " + c.Name + " capability (" + c.Title + "), which the admin has not turned on in graphgate " +
			"(Admin Console, MCP Servers tab). Ask the admin.")}
	case c.NeedsAdmin(t.Needs) && !r.Personal:
		return notAllowed{message(name + " needs the " + t.Needs + " permission, which only an admin may grant, for everyone in the organisation. " +
			"Ask the admin to grant it (Admin Console, MCP Servers tab, \"Grant for my organisation at Microsoft\"), then call " + name + " again.")}
	case r.Personal && workOnly(c, t.Needs):
		words := name + " needs the " + t.Needs + " permission, which Microsoft does not offer personal accounts."
		if t.Otherwise != "" {
			words += " Use " + t.Otherwise + " instead."
		}
		return notAllowed{message(words)}
	}
	integrations := s.d.BaseURL + "/integrations"
	return notAllowed{atPage{message(name + " needs the " + t.Needs + " permission, which the person has not allowed yet. They allow it at " +
		integrations + " (Microsoft 365 tile, \"" + c.Ask + "\"), then call " + name + " again."), integrations}}
}

func workOnly(c *graphgate.Capability, permission string) bool {
	for _, p := range c.Permissions {
		if strings.EqualFold(p.Name, permission) {
			return p.WorkOnly
		}
	}
	return false
}

// inMailbox and inOwner are the shared_mailboxes capability's arguments:
// another mailbox, or another person's calendar, the person may open in
// Exchange. The tools' code is unchanged: the call's Graph client sends
// their mail and calendar paths there (graphapi.Client.Mailbox).
type inMailbox struct {
	Mailbox string `json:"mailbox,omitempty" jsonschema:"a shared mailbox's address; default the person's own"`
}

type inOwner struct {
	Owner string `json:"owner,omitempty" jsonschema:"whose calendar (an address shared with the person); default their own"`
}

// inLibrary are the sharepoint capabilities' arguments: a document
// library instead of the person's OneDrive, where the files tools' paths
// are sent (graphapi.Client.Drive).
type inLibrary struct {
	Site  string `json:"site,omitempty" jsonschema:"a SharePoint site (id or URL): its main library; default the person's OneDrive"`
	Drive string `json:"drive,omitempty" jsonschema:"a library id from list_site_drives"`
}

func (m inMailbox) otherPlace() map[string]string { return map[string]string{"mailbox": m.Mailbox} }
func (o inOwner) otherPlace() map[string]string   { return map[string]string{"owner": o.Owner} }
func (l inLibrary) otherPlace() map[string]string {
	return map[string]string{"site": l.Site, "drive": l.Drive}
}

// otherPlaces are the capability arguments an input gives (mailbox,
// owner, site, drive), by name. Go promotes otherPlace from the one
// embedded struct; an input embedding two kinds merges them in a method
// of its own (listChangesIn), or neither would be promoted.
func otherPlaces(in any) map[string]string {
	out := map[string]string{}
	if m, ok := in.(interface{ otherPlace() map[string]string }); ok {
		for k, v := range m.otherPlace() {
			if v = strings.TrimSpace(v); v != "" {
				out[k] = v
			}
		}
	}
	return out
}

// usePlace points the call's Graph client at the other mailbox or the
// library the input names, once the caller's reach opens the tool's
// argument for it.
func (s *Server) usePlace(c *caller, tool string, in any, g *graphapi.Client) error {
	places := otherPlaces(in)
	for param := range places {
		capability, p := graphgate.CapabilityOfParam(tool, param)
		if capability == nil {
			return invalid(tool + " takes no " + param)
		}
		if !c.reach.OpensParam(tool, param) {
			return s.closed(c.reach, capability, &graphgate.CapabilityTool{Name: tool + "'s " + p.Param, Needs: p.Needs})
		}
	}
	if len(places) > 1 {
		return invalid("give one of " + strings.Join(slices.Sorted(maps.Keys(places)), ", ") + ", not several")
	}
	for param, v := range places {
		switch param {
		case "mailbox", "owner":
			if at := strings.Index(v, "@"); at < 1 || at == len(v)-1 || len(v) > 320 || strings.ContainsAny(v, " <>,;/\\?#%\"") {
				return invalid(fmt.Sprintf("%s must be an email address, not %q", param, v))
			}
			g.Mailbox = v
		case "site":
			ref, ok := siteRef(v)
			if !ok {
				return invalid(fmt.Sprintf("site must be a site id from search_sites or its https://….sharepoint.com/sites/… address, not %q", v))
			}
			g.Drive = "sites/" + ref + "/drive"
		case "drive":
			seg, ok := idSegment(v)
			if !ok {
				return invalid("drive must be a library id from list_site_drives")
			}
			g.Drive = "drives/" + seg
		}
	}
	return nil
}

// siteRef is how Graph addresses a site given by id
// (host,collection-guid,web-guid) or by its URL (host:/sites/name:).
func siteRef(v string) (string, bool) {
	if u, err := url.Parse(v); err == nil && u.Scheme != "" {
		host := strings.ToLower(u.Hostname())
		segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
		if u.Scheme != "https" || !strings.HasSuffix(host, ".sharepoint.com") || u.Port() != "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || len(segs) != 2 || segs[0] != "sites" && segs[0] != "teams" {
			return "", false
		}
		if name, err := url.PathUnescape(segs[1]); err != nil || !siteName.MatchString(name) {
			return "", false
		}
		return host + ":/" + segs[0] + "/" + segs[1] + ":", true
	}
	if !siteID.MatchString(v) {
		return "", false
	}
	return v, true
}

var (
	siteName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	siteID   = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.sharepoint\.com,[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// placeParam is the capability argument that sent a stored Graph path
// (a cursor's, a one-time link's) elsewhere than the person's own
// mailbox or OneDrive; false for their own.
func placeParam(tool, path string) (string, bool) {
	switch {
	case strings.HasPrefix(path, "users/"):
		if _, p := graphgate.CapabilityOfParam(tool, "owner"); p != nil {
			return "owner", true
		}
		return "mailbox", true
	case strings.HasPrefix(path, "drives/"), strings.HasPrefix(path, "sites/"):
		return "drive", true
	}
	return "", false
}

// hideClosedParam returns t without the capability arguments its caller
// cannot use: agents see them once they work for them.
func hideClosedParam(t *mcp.Tool, reach *graphgate.Reach) *mcp.Tool {
	schema, ok := t.InputSchema.(*jsonschema.Schema)
	if !ok {
		return t
	}
	var closed []string
	for _, c := range graphgate.Capabilities {
		for _, p := range c.Params {
			if p.Tool == t.Name && !reach.OpensParam(p.Tool, p.Param) {
				closed = append(closed, p.Param)
			}
		}
	}
	if len(closed) == 0 {
		return t
	}
	narrowed := *schema
	narrowed.Properties = maps.Clone(schema.Properties)
	for _, p := range closed {
		delete(narrowed.Properties, p)
	}
	tc := *t
	tc.InputSchema = &narrowed
	return &tc
}
