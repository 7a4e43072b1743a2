package tracing_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/otel/trace"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/tracing"
)

// collector is an in-process OTLP receiver (HTTP, protobuf).
type collector struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	service string
	headers http.Header
}

func startCollector(t *testing.T) (*collector, string) {
	c := &collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.headers = r.Header.Clone()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.GetAttributes() {
				if a.Key == "service.name" {
					c.service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func (c *collector) named(prefix string) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			switch v := a.Value.Value.(type) {
			case *commonpb.AnyValue_StringValue:
				return v.StringValue
			case *commonpb.AnyValue_IntValue:
				b, _ := json.Marshal(v.IntValue)
				return string(b)
			}
		}
	}
	return ""
}

// bearer adds the agent token and a W3C traceparent to every request.
type bearer struct {
	token, traceparent string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	r.Header.Set("traceparent", b.traceparent)
	return http.DefaultTransport.RoundTrip(r)
}

const (
	headerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	metaTrace   = "0af7651916cd43dd8448eb211c80319c"
	metaSpan    = "b7ad6b7169203331"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, graphgate sends spans to the
// collector: the HTTP request's, continuing the caller's traceparent; the
// tool call's, continuing the traceparent of the request's _meta; the
// Graph requests', with status, request id and throttling waits; the
// store's. No argument, content, id or token reaches a span.
func TestTracesReachTheCollector(t *testing.T) {
	col, url := startCollector(t)
	l := apptest.StartWithSandbox(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=collector%20secret",
		"OTEL_SERVICE_NAME": "graphgate-test"}, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	token, display, hash := apitoken.New()
	if err := l.App.Store.CreateAPIToken(t.Context(), &graphgate.APIToken{UserID: uid, Kind: graphgate.TokenAgent, Name: "traced", Prefix: display, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	// Graph throttles the first inbox request once.
	res, err := http.Post(l.SandboxURL+"/sandbox/faults", "application/json",
		strings.NewReader(`{"method":"GET","path":"^/v1.0/me/mailFolders/inbox/messages$","status":429,"retryAfter":"0.2","times":1}`))
	if err != nil || res.StatusCode >= 300 {
		t.Fatalf("fault: %v %v", res, err)
	}
	res.Body.Close()

	client := mcp.NewClient(&mcp.Implementation{Name: "traced", Version: "1"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: l.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{token: token,
		traceparent: "00-" + headerTrace + "-00f067aa0ba902b7-01"}}}
	s, err := client.Connect(t.Context(), tr, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secret := "Quarterly-secret-words"
	call, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_messages", Arguments: map[string]any{"from": secret + "@contoso.test"},
		Meta: mcp.Meta{"traceparent": "00-" + metaTrace + "-" + metaSpan + "-01"}})
	if err != nil || call.IsError {
		t.Fatalf("list_messages: %v %v", err, call)
	}
	if _, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_messages", Arguments: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if err := l.App.Tracing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	if col.service != "graphgate-test" || col.headers.Get("X-Api-Key") != "collector secret" {
		t.Fatalf("export: service %q, headers %v", col.service, col.headers)
	}
	var httpSpan *tracepb.Span
	for _, sp := range col.named("POST /mcp") {
		if hex.EncodeToString(sp.TraceId) == headerTrace && hex.EncodeToString(sp.ParentSpanId) == "00f067aa0ba902b7" && attr(sp, "http.response.status_code") == "200" {
			httpSpan = sp
		}
	}
	if httpSpan == nil {
		t.Fatalf("no HTTP span continuing the header's trace among %d", len(col.spans))
	}
	tools := col.named("tools/call list_messages")
	if len(tools) != 2 {
		t.Fatalf("%d tool spans", len(tools))
	}
	var first, second *tracepb.Span
	for _, sp := range tools {
		if hex.EncodeToString(sp.TraceId) == metaTrace {
			first = sp
		} else {
			second = sp
		}
	}
	if first == nil || hex.EncodeToString(first.ParentSpanId) != metaSpan || len(first.Links) != 1 ||
		hex.EncodeToString(first.Links[0].TraceId) != headerTrace || attr(first, "graphgate.outcome") != "ok" || attr(first, "gen_ai.tool.name") != "list_messages" {
		t.Fatalf("the tool span of the call with _meta: %v", first)
	}
	// Without _meta, the tool span is the HTTP request's child.
	if second == nil || hex.EncodeToString(second.TraceId) != headerTrace {
		t.Fatalf("the tool span of the call without _meta: %v", second)
	}
	var throttled bool
	for _, g := range col.named("graph GET ") {
		if attr(g, "http.response.status_code") != "200" || attr(g, "graph.request_id") == "" {
			t.Errorf("graph span %s: %v", g.Name, g.Attributes)
		}
		if g.Name == "graph GET me/mailFolders/inbox/messages" && attr(g, "graph.retries") == "1" && attr(g, "graph.throttled_ms") != "0" {
			throttled = true
			if hex.EncodeToString(g.TraceId) != metaTrace || !bytes.Equal(g.ParentSpanId, first.SpanId) {
				t.Errorf("the Graph span is not the tool call's child: %v", g)
			}
		}
	}
	if !throttled {
		t.Error("no Graph span shows the throttled request's retry and wait")
	}
	// The store's operations of the request: what the caller may reach.
	if reach := col.named("store reach"); len(reach) == 0 || attr(reach[0], "db.system.name") != "sqlite" || hex.EncodeToString(reach[0].TraceId) != headerTrace {
		t.Errorf("store spans: %v", reach)
	}
	// Nothing of what was asked, or of the person, reaches a span.
	all, _ := proto.Marshal(&tracepb.ResourceSpans{ScopeSpans: []*tracepb.ScopeSpans{{Spans: col.spans}}})
	for _, never := range []string{secret, token, "alex@contoso.test", "Bearer", "$filter"} {
		if bytes.Contains(all, []byte(never)) {
			t.Errorf("a span contains %q", never)
		}
	}
}

// Off, the tracer records nothing and costs no exporter.
func TestOffByDefault(t *testing.T) {
	tr, err := tracing.Start(tracing.Settings{}, "dev", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Tracer().Start(t.Context(), "x")
	if span.IsRecording() {
		t.Fatal("a span recorded with tracing off")
	}
	on := tracing.Settings{Endpoint: "http://127.0.0.1:1", Disabled: true}
	if on.On() {
		t.Fatal("OTEL_SDK_DISABLED did not turn traces off")
	}
}

func TestSettingsRefuseWhatCannotWork(t *testing.T) {
	for _, s := range []tracing.Settings{
		{Endpoint: "collector:4318"},
		{Endpoint: "http://collector:4318", Protocol: "grpc"},
		{Endpoint: "http://collector:4318", Headers: "no-equals-sign"},
		{Endpoint: "http://collector:4318", Sampler: "sometimes"},
		{Endpoint: "http://collector:4318", Sampler: "traceidratio", SamplerArg: "2"},
		{TracesEndpoint: "ftp://collector/v1/traces"},
	} {
		if s.Validate() == nil {
			t.Errorf("%+v was accepted", s)
		}
	}
	if err := (tracing.Settings{Endpoint: "https://collector:4318/", Headers: "a=b, c = d%2Ce", Sampler: "parentbased_traceidratio", SamplerArg: "0.25"}).Validate(); err != nil {
		t.Error(err)
	}
}

// Log lines carry the trace and span ids of their request.
func TestLogLinesCarryTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(tracing.WithTraceIDs(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	tid, _ := trace.TraceIDFromHex(headerTrace)
	sid, _ := trace.SpanIDFromHex(metaSpan)
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.InfoContext(ctx, "request")
	log.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.Contains(lines[0], `"trace_id":"`+headerTrace+`"`) || !strings.Contains(lines[0], `"span_id":"`+metaSpan+`"`) || strings.Contains(lines[1], "trace_id") {
		t.Fatalf("log lines: %s", buf.String())
	}
}
