// Package metrics defines graphgate's Prometheus metrics on a registry of
// its own, so tests and several servers in one process do not collide.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors.
type Metrics struct {
	Registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	storeLatency *prometheus.HistogramVec
	toolCalls    *prometheus.CounterVec
	toolDuration *prometheus.HistogramVec
	graphEvents  *prometheus.CounterVec
	// PasswordChecks is how many password checks are running now.
	PasswordChecks prometheus.Gauge
}

// New registers graphgate's metrics and the Go runtime's.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphgate_http_requests_total", Help: "HTTP requests answered, by route and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "graphgate_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "graphgate_store_operation_duration_seconds", Help: "Time taken by store operations, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}, []string{"op"}),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphgate_mcp_tool_calls_total", Help: "MCP tool calls, by tool and outcome (ok, invalid_arguments, not_allowed, user_error, error).",
		}, []string{"tool", "outcome"}),
		toolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "graphgate_mcp_tool_duration_seconds", Help: "Time to answer MCP tool calls, by tool.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"tool"}),
		graphEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphgate_graph_events_total", Help: "Microsoft Graph retries and throttled answers.",
		}, []string{"event"}),
		PasswordChecks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "graphgate_password_checks_running", Help: "Sign-in password checks running now (bounded).",
		}),
	}
	m.Registry.MustRegister(m.httpRequests, m.httpDuration, m.storeLatency, m.toolCalls, m.toolDuration, m.graphEvents, m.PasswordChecks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveStore records one store operation; it fits sqlstore.Options.Observe.
func (m *Metrics) ObserveStore(op string, d time.Duration) {
	m.storeLatency.WithLabelValues(op).Observe(d.Seconds())
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// ObserveHTTP records one answered request. route is the mux pattern, never
// the raw path, so ids and tokens in paths cannot explode the label space.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveTool records one MCP tool call.
func (m *Metrics) ObserveTool(tool, outcome string, d time.Duration) {
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
	m.toolDuration.WithLabelValues(tool).Observe(d.Seconds())
}

// GraphEvent counts a Graph retry or throttled answer.
func (m *Metrics) GraphEvent(event string) { m.graphEvents.WithLabelValues(event).Inc() }
