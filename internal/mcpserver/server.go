// Package mcpserver is graphgate's MCP server: Streamable HTTP at /mcp
// through the official Go SDK in stateless mode (any replica answers any
// request), agents authenticated by their agent tokens, and tools that act
// on the token owner's Microsoft 365 data through Graph.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	segmentjson "github.com/segmentio/encoding/json"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/graphapi"
	"graphgate/internal/metrics"
	"graphgate/internal/microsoft365"
	"graphgate/internal/secretbox"
	"graphgate/internal/tracing"
	"graphgate/internal/version"
)

// Path is where the MCP endpoint is served.
const Path = "/mcp"

// maxBody bounds a request body: tool arguments, inline uploads included.
const maxBody = 8 << 20

// Deps are what the MCP server needs.
type Deps struct {
	Store    graphgate.Store
	Tokens   *microsoft365.Tokens
	GraphURL string
	BaseURL  string // graphgate's public URL, for links in messages
	Log      *slog.Logger
	HTTP     *http.Client // for Graph; nil for a default
	// Keys sign cursors; every replica must share them (the encryption keys).
	Keys *secretbox.Keyring
	// Checker verifies agent tokens and OAuth access tokens.
	Checker *apitoken.Checker
	Metrics *metrics.Metrics
	// Tracer makes spans of tool calls and Graph requests; no-op when nil.
	Tracer trace.Tracer
	Now    func() time.Time
}

// Server serves MCP.
type Server struct {
	d       Deps
	schemas *mcp.SchemaCache
	tools   []toolDef
	// audits are written by a background writer, off the request path.
	audits  chan *graphgate.AuditEvent
	drained chan struct{}
	// servers holds one MCP server per kind of token (read-only or not,
	// which toolsets): the tool list depends on nothing else, and building
	// a server registers every tool, which is costly to do per request.
	servers sync.Map // string -> *mcp.Server
	// views are the tools' views (see apps.go), by tool name.
	views map[string]string
	// clients is what MCP clients of earlier revisions declared when they
	// connected, by access (see apps.go): access -> rememberedClient.
	clients sync.Map
	zones   zoneCache
	// defaultLists are people's default To Do lists (see tasks.go).
	defaultLists defaultListCache
	// touched is when each person's last successful Graph call was recorded
	// (user id -> time.Time): at most once a minute, not on every call.
	touched sync.Map
	// cursors keeps where listings go on (the store; a fake in fuzzing),
	// and kept remembers which this replica stored lately.
	cursors cursorStore
	kept    keptCursors
}

// New returns an MCP server.
func New(d Deps) (*Server, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("mcpserver: a store is required")
	case d.Tokens == nil:
		return nil, errors.New("mcpserver: a token source is required")
	case d.GraphURL == "" || d.BaseURL == "":
		return nil, errors.New("mcpserver: the Graph URL and the base URL are required")
	case d.Metrics == nil:
		return nil, errors.New("mcpserver: metrics are required")
	case d.Keys == nil:
		return nil, errors.New("mcpserver: a keyring is required")
	case d.Checker == nil:
		return nil, errors.New("mcpserver: a token checker is required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTP == nil {
		d.HTTP = graphapi.NewHTTPClient()
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider().Tracer("")
	}
	s := &Server{d: d, schemas: mcp.NewSchemaCache(), tools: allTools(), audits: make(chan *graphgate.AuditEvent, 4096), drained: make(chan struct{}),
		cursors: d.Store, views: map[string]string{}}
	for _, t := range s.tools {
		if v := viewOf(t); v != "" {
			s.views[t.name] = v
		}
	}
	go s.writeAudits()
	return s, nil
}

// auditBatch bounds how many tool-call events one write stores.
const auditBatch = 128

// writeAudits stores tool-call audit events in the background: whatever
// is waiting, up to auditBatch at a time, in one write.
func (s *Server) writeAudits() {
	defer close(s.drained)
	batch := make([]*graphgate.AuditEvent, 0, auditBatch)
	for e := range s.audits {
		batch = append(batch[:0], e)
	drain:
		for len(batch) < auditBatch {
			select {
			case e, ok := <-s.audits:
				if !ok {
					break drain
				}
				batch = append(batch, e)
			default:
				break drain
			}
		}
		if err := s.d.Store.AddAudit(context.Background(), batch...); err != nil {
			s.d.Log.Error("auditing tool calls", "calls", len(batch), "err", err)
		}
	}
}

// Close writes the pending audit events and stops the writer.
func (s *Server) Close() {
	close(s.audits)
	<-s.drained
}

// caller is who a request acts for, and with what token.
type caller struct {
	user   *graphgate.User
	access *apitoken.Principal
	// reach is the capabilities on and what the person's link was
	// granted, read at every request.
	reach *graphgate.Reach
}

const callerKey = "graphgate.caller"

// verify checks an agent token or an OAuth access token.
func (s *Server) verify(ctx context.Context, raw string, r *http.Request) (*auth.TokenInfo, error) {
	p, err := s.d.Checker.Check(ctx, raw, graphgate.TokenAgent, graphgate.TokenOAuth)
	if errors.Is(err, apitoken.ErrInvalid) {
		return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
	}
	if err != nil {
		// The SDK answers 500 for this; the challenge writer makes it a 503
		// with Retry-After, which clients treat as passing.
		if st, ok := r.Context().Value(authStateKey{}).(*authState); ok {
			st.unavailable = true
		}
		s.d.Log.Error("checking an agent token", "err", err)
		return nil, errors.New("graphgate's database is not answering; try again shortly")
	}
	reach, err := s.d.Store.Reach(ctx, p.User.ID)
	if err != nil {
		if st, ok := r.Context().Value(authStateKey{}).(*authState); ok {
			st.unavailable = true
		}
		s.d.Log.Error("reading what a person's agents may reach", "err", err)
		return nil, errors.New("graphgate's database is not answering; try again shortly")
	}
	exp := p.Expires
	if exp.IsZero() {
		exp = s.d.Now().Add(24 * time.Hour) // the SDK wants an expiry; the token has none
	}
	return &auth.TokenInfo{UserID: strconv.FormatInt(p.User.ID, 10), Expiration: exp, Scopes: p.Scopes(),
		Extra: map[string]any{callerKey: &caller{user: p.User, access: p, reach: reach}}}, nil
}

func callerOf(req *mcp.CallToolRequest) *caller {
	if req == nil || req.Extra == nil || req.Extra.TokenInfo == nil {
		return nil
	}
	c, _ := req.Extra.TokenInfo.Extra[callerKey].(*caller)
	return c
}

func callerOfRequest(r *http.Request) *caller {
	if info := auth.TokenInfoFromContext(r.Context()); info != nil {
		c, _ := info.Extra[callerKey].(*caller)
		return c
	}
	return nil
}

// allowed reports whether a token may see a tool.
func allowed(p *apitoken.Principal, d toolDef) bool {
	if p.Allows(d.toolset, !d.readOnly) {
		return true
	}
	for _, ts := range d.also {
		if p.Allows(ts, !d.readOnly) {
			return true
		}
	}
	return false
}

// serverFor returns the MCP server for one request: only the tools the
// caller's token allows, and of the capabilities' tools those the person's
// reach opens, are listed and callable. Who the caller is reaches the tools
// through the request, so servers are shared between callers whose tokens
// and reach allow the same tools.
func (s *Server) serverFor(r *http.Request) *mcp.Server {
	c := callerOfRequest(r)
	if c == nil {
		return s.buildServer(nil, nil)
	}
	scopes := slices.Clone(c.access.Scopes())
	slices.Sort(scopes)
	key := strings.Join(scopes, " ") + "|" + strings.Join(opened(c.reach), " ") + "|" + strconv.FormatBool(c.access.ConfirmWrites())
	if srv, ok := s.servers.Load(key); ok {
		return srv.(*mcp.Server)
	}
	srv, _ := s.servers.LoadOrStore(key, s.buildServer(c.access, c.reach))
	return srv.(*mcp.Server)
}

// buildServer makes a server with the tools p allows and reach opens
// (none for a nil p).
func (s *Server) buildServer(p *apitoken.Principal, reach *graphgate.Reach) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "graphgate", Title: "graphgate: Microsoft 365", Version: version.Version, Icons: s.icon("graphgate")},
		&mcp.ServerOptions{
			Instructions: "Tools for the signed-in person's Outlook mail, calendar and OneDrive, through Microsoft Graph with their own delegated permissions. " +
				untrustedNote,
			SchemaCache: s.schemas,
			// The tool list depends on the caller's token: never share it.
			SetCacheable: func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) { c.CacheScope = "private" },
			// Tools only, and a list that never changes while a client holds
			// it: there is nothing to notify on a subscriptions/listen stream.
			Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: false}},
		})
	srv.AddReceivingMiddleware(s.offered(p != nil && p.ConfirmWrites()), s.capabilityGate)
	if p == nil {
		return srv
	}
	for _, d := range s.tools {
		if allowed(p, d) && reach.Opens(d.name) {
			d.add(srv, s, reach)
		}
	}
	s.addViews(srv, p.ConfirmWrites())
	return srv
}

// scopeCheck answers a tools/call of a tool the caller's OAuth grant does
// not cover with 403 insufficient_scope and the scope it needs, so that the
// client can ask the person for more (step-up) instead of seeing an unknown
// tool. Agent tokens keep the tool error they always had.
func (s *Server) scopeCheck(metadataURL string, next http.Handler) http.Handler {
	byName := map[string]toolDef{}
	for _, d := range s.tools {
		byName[d.name] = d
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callerOfRequest(r)
		if c == nil || c.access.Grant == nil || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			http.Error(w, "could not read the request", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		for _, name := range calledTools(body) {
			if d, ok := byName[name]; ok && !allowed(c.access, d) {
				need := graphgate.ScopeFor(d.toolset, !d.readOnly)
				w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+need+`", resource_metadata="`+metadataURL+`"`)
				http.Error(w, "this app's access does not include "+need+": connect it again and allow it", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// calledTools lists the tools a POST body calls, read exactly as the SDK
// reads it (its readBatch: an array of messages, or one message; each
// decoded by jsonrpc.DecodeMessage; params decoded case-sensitively, as
// its JSON decoder does), so that the scope check and the SDK can never
// disagree about what is called. A body the SDK would refuse calls nothing.
func calledTools(body []byte) []string {
	var raws []json.RawMessage
	if sdkUnmarshal(body, &raws) != nil {
		raws = []json.RawMessage{body}
	}
	var names []string
	for _, raw := range raws {
		msg, err := jsonrpc.DecodeMessage(raw)
		if err != nil {
			return nil
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.Method == "tools/call" {
			var p struct {
				Name string `json:"name"`
			}
			if sdkUnmarshal(req.Params, &p) == nil {
				names = append(names, p.Name)
			}
		}
	}
	return names
}

// sdkUnmarshal decodes as the SDK's JSON decoder does: segmentio's, with
// struct fields matched case-sensitively.
func sdkUnmarshal(data []byte, v any) error {
	dec := segmentjson.NewDecoder(bytes.NewReader(data))
	dec.DontMatchCaseInsensitiveStructFields()
	return dec.Decode(v)
}

// Handler serves /mcp and its RFC 9728 protected-resource metadata.
func (s *Server) Handler() http.Handler {
	metadataURL := s.d.BaseURL + "/.well-known/oauth-protected-resource" + Path
	streamable := mcp.NewStreamableHTTPHandler(s.serverFor, &mcp.StreamableHTTPOptions{
		Stateless:           true,
		JSONResponse:        true,
		MaxRequestBodyBytes: maxBody,
		// graphgate runs behind proxies that forward other Host headers.
		DisableLocalhostProtection: true,
		Logger:                     s.d.Log,
	})
	protected := auth.RequireBearerToken(s.verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: metadataURL})(s.scopeCheck(metadataURL, http.NewCrossOriginProtection().Handler(streamable)))
	mux := http.NewServeMux()
	mux.Handle(Path, challenge(protected))
	mux.HandleFunc("GET "+DownloadPath+"{token}", s.serveDownload)
	// Link previewers and scanners send HEAD: it must not spend the link.
	mux.HandleFunc("HEAD "+DownloadPath+"{token}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusMethodNotAllowed)
	})
	mux.HandleFunc("PUT "+UploadPath+"{token}", s.serveUpload)
	mux.HandleFunc("GET "+IconPath+"{name}", serveIcon)
	// RFC 9728 metadata, at the path-specific and the root location.
	resourceMetadata := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"resource":                 s.d.BaseURL + Path,
			"authorization_servers":    []string{s.d.BaseURL},
			"scopes_supported":         graphgate.Scopes,
			"bearer_methods_supported": []string{"header"},
			"resource_name":            "graphgate MCP server",
			"resource_documentation":   s.d.BaseURL + "/integrations",
		})
	}
	mux.HandleFunc("GET /.well-known/oauth-protected-resource"+Path, resourceMetadata)
	mux.HandleFunc("GET /.well-known/oauth-protected-resource", resourceMetadata)
	return mux
}

// challenge adds the scopes to ask for and, when a token was presented but
// refused, error="invalid_token" to the SDK's 401 challenge (RFC 6750), and turns the SDK's 500
// for a token that could not be checked (the store is down) into a 503:
// unavailability, not a server fault.
func challenge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, hasToken := apitoken.FromHeader(r.Header.Get("Authorization"))
		st := &authState{}
		r = r.WithContext(context.WithValue(r.Context(), authStateKey{}, st))
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, hasToken: hasToken, state: st}, r)
	})
}

// authState is what token verification tells the challenge writer.
type authState struct{ unavailable bool }

type authStateKey struct{}

type challengeWriter struct {
	http.ResponseWriter
	hasToken bool
	state    *authState
}

func (c *challengeWriter) WriteHeader(code int) {
	switch {
	case code == http.StatusUnauthorized:
		// Tell OAuth clients what to ask for, and why the token was refused.
		if v := c.Header().Get("WWW-Authenticate"); v != "" && !strings.Contains(v, "scope=") {
			v += `, scope="` + strings.Join(graphgate.Scopes, " ") + `"`
			if c.hasToken && !strings.Contains(v, "error=") {
				v += `, error="invalid_token"`
			}
			c.Header().Set("WWW-Authenticate", v)
		}
	case code == http.StatusInternalServerError && c.state.unavailable:
		c.Header().Set("Retry-After", "5")
		code = http.StatusServiceUnavailable
	}
	c.ResponseWriter.WriteHeader(code)
}

// Flush reaches the connection through every wrapper below (the web
// server's recorder has no Flush of its own): SSE streams must be flushed.
func (c *challengeWriter) Flush() { _ = http.NewResponseController(c.ResponseWriter).Flush() }

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// graph returns a Graph client acting as the caller, or an error that says
// what the person must do.
func (s *Server) graph(ctx context.Context, c *caller) (*graphapi.Client, error) {
	if c == nil {
		return nil, errors.New("no caller")
	}
	first, err := s.d.Tokens.AccessToken(ctx, c.user.ID)
	if err != nil {
		return nil, s.linkProblem(err)
	}
	return s.graphFor(c.user.ID, first)
}

// graphFor is the one way a Graph client is made: acting as the person,
// its events counted in the metrics. first, when set, is an access token
// already in hand for the first request.
func (s *Server) graphFor(userID int64, first string) (*graphapi.Client, error) {
	tokens := s.d.Tokens.For(userID)
	if first != "" {
		tokens = s.d.Tokens.ForFrom(userID, first)
	}
	g, err := graphapi.New(s.d.GraphURL, s.d.HTTP, tokens, s.d.Log)
	if err != nil {
		return nil, err
	}
	g.Observe = s.d.Metrics.GraphEvent
	g.Tracer = s.d.Tracer
	return g, nil
}

// record audits and counts one tool call; never arguments or content.
func (s *Server) record(ctx context.Context, c *caller, tool string, start time.Time, g *graphapi.Client, err error) {
	outcome := outcomeOf(err)
	d := s.d.Now().Sub(start)
	s.d.Metrics.ObserveTool(tool, outcome, d)
	if c == nil {
		return
	}
	s.audit(ctx, c.user, tool, g, map[string]string{"outcome": outcome, "duration_ms": strconv.FormatInt(d.Milliseconds(), 10), "token": c.access.Label()})
}

// outcomeOf names how a tool call ended, for metrics and the audit log.
func outcomeOf(err error) string {
	var bad *badInput
	var args invalidArguments
	var closed notAllowed
	switch {
	case errors.As(err, &args):
		return "invalid_arguments"
	case errors.As(err, &closed):
		return "not_allowed"
	case errors.As(err, &bad):
		return "user_error"
	case err != nil:
		return "error"
	}
	return "ok"
}

// audit writes a tool call's audit event, with the Graph requests it made,
// off the request path.
func (s *Server) audit(ctx context.Context, u *graphgate.User, tool string, g *graphapi.Client, details map[string]string) {
	if g != nil {
		if g.Mailbox != "" {
			details["mailbox"] = g.Mailbox // another mailbox the person opened
		}
		if g.Drive != "" {
			// a SharePoint library instead of OneDrive, as Graph spells it
			details["library"], _ = url.PathUnescape(g.Drive)
		}
		if ids := g.RequestIDs(); len(ids) > 0 {
			details["graph_request_ids"] = strings.Join(ids, ",")
			if details["outcome"] == "ok" {
				s.touchLink(ctx, u.ID)
			}
		}
	}
	s.enqueueAudit(ctx, &graphgate.AuditEvent{At: s.d.Now().UTC(), ActorID: u.ID, ActorEmail: u.Email, Action: graphgate.ActionToolCall, Target: tool, Details: details})
}

// enqueueAudit hands an audit event to the background writer.
func (s *Server) enqueueAudit(ctx context.Context, e *graphgate.AuditEvent) {
	select {
	case s.audits <- e:
	default:
		// The writer is far behind: write this one on the request path
		// rather than lose it.
		if err := s.d.Store.AddAudit(context.WithoutCancel(ctx), e); err != nil {
			s.d.Log.ErrorContext(ctx, "auditing a tool call", "tool", e.Target, "err", err)
		}
	}
}

// touchLink records a successful Graph call for the admin's view of link
// health, at most once a minute per person.
func (s *Server) touchLink(ctx context.Context, userID int64) {
	now := s.d.Now()
	if last, ok := s.touched.Load(userID); ok && now.Sub(last.(time.Time)) < time.Minute {
		return
	}
	s.touched.Store(userID, now)
	if err := s.d.Store.TouchLink(context.WithoutCancel(ctx), userID, now); err != nil {
		s.d.Log.Warn("recording a Graph call", "err", err)
	}
}

// linkProblem turns a token-source error into what the person must do.
func (s *Server) linkProblem(err error) error {
	integrations := s.d.BaseURL + "/integrations"
	var na *microsoft365.NeedsAttentionError
	var refused *microsoft365.AppRefusedError
	switch {
	case errors.Is(err, microsoft365.ErrNotLinked):
		return atPage{fmt.Errorf("no Microsoft account is linked to this graphgate user. Ask them to open %s and click Link Account, then try again", integrations), integrations}
	case errors.As(err, &na):
		return atPage{fmt.Errorf("the linked Microsoft account needs attention: %s Ask the user to open %s and click Reconnect, then try again", na.Reason, integrations), integrations}
	case errors.Is(err, microsoft365.ErrDisabled):
		return fmt.Errorf("the graphgate admin has turned Microsoft 365 off; ask them to enable it in the Admin Console (%s/admin/servers). The user's Integrations page (%s) shows when it is back", s.d.BaseURL, integrations)
	case errors.Is(err, microsoft365.ErrNotConfigured):
		return tell("Microsoft 365 is not configured in graphgate yet; ask the graphgate admin to set it up (%s/admin/servers), then link the account at %s", s.d.BaseURL, integrations)
	case errors.As(err, &refused):
		return tell("Microsoft refused graphgate's own app credentials (%s); the graphgate admin must fix them in the Admin Console (%s/admin/servers). The user's link is fine", refused.Reason, s.d.BaseURL)
	case errors.Is(err, microsoft365.ErrSignInUnavailable):
		s.d.Log.Warn("token refresh failed for a passing reason", "err", err)
		return tell("Microsoft's sign-in service did not answer while renewing the access token; the linked account is fine. Try again in a minute")
	}
	if errors.Is(err, secretbox.ErrUnknownKey) {
		s.d.Log.Error("a stored token is sealed with a key this replica does not have: give every replica the same keys", "err", err)
		return tell("graphgate cannot read this person's stored Microsoft sign-in: it was sealed with an encryption key this graphgate " +
			"does not have. The operator must give every graphgate the same keys (GRAPHGATE_ENCRYPTION_KEY or the key file); nothing is lost")
	}
	// The store or something else inside graphgate: say so, without details.
	s.d.Log.Error("getting an access token", "err", err)
	return errors.New("graphgate could not get an access token right now (its database may be unavailable); try again in a minute")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// graphProblem turns a Graph failure into a message a model can act on.
func graphProblem(err error) error {
	var ge *graphapi.Error
	var said message
	switch {
	case errors.As(err, &said):
		return said
	case errors.As(err, &ge) && ge.Status == http.StatusNotFound:
		return fmt.Errorf("not found: %s (%s). Check the id; ids change when a message is moved", ge.Message, ge.Code)
	case errors.As(err, &ge) && ge.Status == http.StatusTooManyRequests:
		return tell("Microsoft Graph is throttling this mailbox; try again in %s", max(ge.RetryAfter, time.Second).Round(time.Second))
	case errors.As(err, &ge):
		return tell("Microsoft Graph refused the request: %s: %s (request-id %s)", ge.Code, ge.Message, ge.RequestID)
	case errors.Is(err, graphapi.ErrAmbiguous):
		return fmt.Errorf("the connection to Microsoft Graph failed after the request was sent; it may have been carried out. Check (for a message: Sent Items) before trying again")
	case isTimeout(err):
		return tell("Microsoft Graph did not answer in time; try again in a moment")
	}
	return fmt.Errorf("calling Microsoft Graph failed: %v", err)
}

// startToolSpan starts a tool call's span: a child of the trace the MCP
// request's _meta names (traceparent), linked to the HTTP request's span,
// or else a child of the HTTP request's. Its attributes are the tool and,
// at its end, the outcome: never arguments or content.
func (s *Server) startToolSpan(ctx context.Context, req *mcp.CallToolRequest) (context.Context, trace.Span) {
	name := req.Params.Name
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("mcp.method.name", "tools/call"), attribute.String("gen_ai.tool.name", name))}
	if parent := tracing.FromMeta(ctx, req.Params.Meta); parent != ctx {
		opts = append(opts, trace.WithLinks(trace.LinkFromContext(ctx)))
		ctx = parent
	}
	return s.d.Tracer.Start(ctx, "tools/call "+name, opts...)
}

// endToolSpan records how a tool call ended.
func endToolSpan(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	outcome := outcomeOf(err)
	span.SetAttributes(attribute.String("graphgate.outcome", outcome))
	if outcome == "error" {
		span.SetStatus(codes.Error, "")
	}
}
