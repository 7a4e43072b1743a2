package mcpserver

import (
	"context"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
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
		res := &mcp.CallToolResult{IsError: true}
		res.Content = []mcp.Content{&mcp.TextContent{Text: s.closedWords(c.reach, capability, tool)}}
		return res, nil
	}
}

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
