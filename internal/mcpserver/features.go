package mcpserver

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
)

// What each request's client declared it can do: MCP Apps, and the
// elicitation modes it answers. From 2026-07-28 on every request carries
// it; an earlier client declares it in its initialize request only, so it
// is remembered under the access the client uses (see apps.go).

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
