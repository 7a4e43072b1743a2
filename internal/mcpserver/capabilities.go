package mcpserver

import (
	"context"
	"fmt"
	"maps"
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
			if r.OpensParam(p.Tool) {
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
		err := notAllowed{message(s.closedWords(c.reach, capability, tool))}
		// Counted and audited like any call: an admin sees what agents
		// reach for that is not on.
		s.record(ctx, c, tool.Name, s.d.Now(), nil, err)
		return toolError(err), nil
	}
}

// notAllowed is a call of a capability's tool or argument the caller
// cannot use yet: nothing ran.
type notAllowed struct{ error }

func (e notAllowed) Unwrap() error { return e.error }

// closedWords says why a capability's tool is closed to the caller and
// what would open it.
func (s *Server) closedWords(r *graphgate.Reach, c *graphgate.Capability, t *graphgate.CapabilityTool) string {
	name := t.Name
	switch {
	case !slices.Contains(r.Capabilities, c.Name):
		return name + " belongs to the " + c.Name + " capability (" + c.Title + "), which the admin has not turned on in graphgate " +
			"(Admin Console, MCP Servers tab). Ask the admin."
	case r.Personal && workOnly(c, t.Needs):
		words := name + " needs the " + t.Needs + " permission, which Microsoft does not offer personal accounts."
		if t.Otherwise != "" {
			words += " Use " + t.Otherwise + " instead."
		}
		return words
	}
	return name + " needs the " + t.Needs + " permission, which the person has not allowed yet. They allow it at " +
		s.d.BaseURL + "/integrations (Microsoft 365 tile, \"" + c.Ask + "\"), then call " + name + " again."
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

func (m inMailbox) otherMailbox() string { return m.Mailbox }
func (o inOwner) otherMailbox() string   { return o.Owner }

// otherMailbox is the address an input names with mailbox or owner.
func otherMailbox(in any) string {
	if m, ok := in.(interface{ otherMailbox() string }); ok {
		return strings.TrimSpace(m.otherMailbox())
	}
	return ""
}

// useMailbox points the call's Graph client at the other mailbox the input
// names, once the caller's reach opens the tool's argument for it.
func (s *Server) useMailbox(c *caller, tool string, in any, g *graphapi.Client) error {
	addr := otherMailbox(in)
	if addr == "" {
		return nil
	}
	capability, p := graphgate.CapabilityOfParam(tool)
	if capability == nil {
		return nil
	}
	if !c.reach.OpensParam(tool) {
		return notAllowed{message(s.closedWords(c.reach, capability, &graphgate.CapabilityTool{Name: tool + "'s " + p.Param, Needs: p.Needs}))}
	}
	if at := strings.Index(addr, "@"); at < 1 || at == len(addr)-1 || len(addr) > 320 || strings.ContainsAny(addr, " <>,;/\\?#%\"") {
		return invalid(fmt.Sprintf("%s must be an email address, not %q", p.Param, addr))
	}
	g.Mailbox = addr
	return nil
}

// hideClosedParam returns t without the capability argument its caller
// cannot use: agents see it once it works for them.
func hideClosedParam(t *mcp.Tool, reach *graphgate.Reach) *mcp.Tool {
	_, p := graphgate.CapabilityOfParam(t.Name)
	schema, ok := t.InputSchema.(*jsonschema.Schema)
	if p == nil || reach.OpensParam(t.Name) || !ok {
		return t
	}
	narrowed := *schema
	narrowed.Properties = maps.Clone(schema.Properties)
	delete(narrowed.Properties, p.Param)
	tc := *t
	tc.InputSchema = &narrowed
	return &tc
}
