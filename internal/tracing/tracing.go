// Package tracing is graphgate's OpenTelemetry traces: exported with OTLP
// (HTTP and protobuf) when the standard OTEL_EXPORTER_OTLP_* variables name
// a collector, off otherwise. Off, every tracer is OpenTelemetry's no-op
// one: starting a span costs a context and records nothing.
//
// Spans say what happened, never what it was about: routes, tool names,
// Graph routes with their ids left out, statuses, request ids, retries and
// waits. Arguments, message content, paths of files and query strings
// never reach a span.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Name is the instrumentation scope of graphgate's spans.
const Name = "graphgate"

// Settings are the OpenTelemetry variables graphgate reads (the standard
// names; see the README).
type Settings struct {
	Endpoint       string // OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL
	TracesEndpoint string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL, instead
	Headers        string // OTEL_EXPORTER_OTLP_HEADERS (and _TRACES_HEADERS): k=v,k=v
	Protocol       string // OTEL_EXPORTER_OTLP_PROTOCOL (and _TRACES_PROTOCOL): http/protobuf only
	ServiceName    string // OTEL_SERVICE_NAME; default graphgate
	Sampler        string // OTEL_TRACES_SAMPLER; default parentbased_always_on
	SamplerArg     string // OTEL_TRACES_SAMPLER_ARG: the ratio of the ratio samplers
	Disabled       bool   // OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none
}

// On reports whether traces are to be exported.
func (s Settings) On() bool { return !s.Disabled && (s.Endpoint != "" || s.TracesEndpoint != "") }

// Validate says what is wrong with the settings, before anything starts.
func (s Settings) Validate() error {
	if !s.On() {
		return nil
	}
	if s.Protocol != "" && s.Protocol != "http/protobuf" {
		return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: graphgate exports traces with http/protobuf only; point it at the collector's OTLP HTTP port (4318)", s.Protocol)
	}
	if _, err := s.url(); err != nil {
		return err
	}
	if _, err := headers(s.Headers); err != nil {
		return err
	}
	_, err := s.sampler()
	return err
}

// url is where spans are sent: the traces endpoint as given, or the
// endpoint with /v1/traces added, as the specification says.
func (s Settings) url() (string, error) {
	raw, name := s.TracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	if raw == "" {
		raw, name = strings.TrimRight(s.Endpoint, "/")+"/v1/traces", "OTEL_EXPORTER_OTLP_ENDPOINT"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s must be an http or https URL, such as http://collector:4318", name)
	}
	return raw, nil
}

// headers parses k=v,k=v with percent-encoded values (W3C baggage form).
func headers(raw string) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.SplitSeq(raw, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if !ok || k == "" || err != nil {
			return nil, errors.New("OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas")
		}
		out[k] = value
	}
	return out, nil
}

func (s Settings) sampler() (sdktrace.Sampler, error) {
	ratio := 1.0
	if s.SamplerArg != "" {
		r, err := strconv.ParseFloat(s.SamplerArg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, errors.New("OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1")
		}
		ratio = r
	}
	switch s.Sampler {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER %q: use always_on, always_off, traceidratio or their parentbased_ forms", s.Sampler)
}

// Tracing is the tracer provider: a real one exporting with OTLP, or the
// no-op one.
type Tracing struct {
	Provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider
}

// Off is tracing that records nothing.
func Off() *Tracing { return &Tracing{Provider: noop.NewTracerProvider()} }

// Start begins exporting per s, or returns Off when s names no collector.
func Start(s Settings, version string, log *slog.Logger) (*Tracing, error) {
	if !s.On() {
		return Off(), nil
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	endpoint, _ := s.url()
	hdrs, _ := headers(s.Headers)
	sampler, _ := s.sampler()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint), otlptracehttp.WithHeaders(hdrs),
		otlptracehttp.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	name := s.ServiceName
	if name == "" {
		name = "graphgate"
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithSampler(sampler))
	log.Info("exporting traces with OTLP", "endpoint", redactedURL(endpoint))
	return &Tracing{Provider: tp, sdk: tp}, nil
}

// Tracer is graphgate's tracer.
func (t *Tracing) Tracer() trace.Tracer { return t.Provider.Tracer(Name) }

// Flush sends the spans waiting now.
func (t *Tracing) Flush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

// Shutdown sends the spans still waiting.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// redactedURL is an endpoint for a log line: no user information or query.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// Propagator reads and writes W3C traceparent and tracestate.
var Propagator = propagation.TraceContext{}

// FromMeta is ctx with the trace context an MCP request carries in its
// _meta (traceparent, tracestate), when it carries a valid one.
func FromMeta(ctx context.Context, meta map[string]any) context.Context {
	tp, _ := meta["traceparent"].(string)
	if tp == "" {
		return ctx
	}
	carrier := propagation.MapCarrier{"traceparent": tp}
	if ts, ok := meta["tracestate"].(string); ok {
		carrier["tracestate"] = ts
	}
	return Propagator.Extract(ctx, carrier)
}

// WithTraceIDs is h adding to each record the trace and span ids of the
// context it is logged with (slog's *Context methods), so that a log line
// and its trace are found from each other.
func WithTraceIDs(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}
func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }
