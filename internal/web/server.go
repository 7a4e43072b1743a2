// Package web serves graphgate's pages (sign-in, onboarding, the Admin
// Console) and its admin JSON API, with server-rendered HTML and no
// external assets.
package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/config"
	"graphgate/internal/metrics"
	"graphgate/internal/microsoft365"
	"graphgate/internal/oauthserver"
	"graphgate/internal/tracing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Server is the HTTP side of graphgate.
type Server struct {
	store   graphgate.Store
	admin   *admin.Service
	cfg     *config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	pages   map[string]*template.Template
	limiter *loginLimiter
	tokens  *apitoken.Checker
	// verifying bounds the password checks running at once.
	verifying chan struct{}
	m365      *microsoft365.Client
	linker    *microsoft365.Linker
	mcp       http.Handler
	oauth     *oauthserver.Server
	now       func() time.Time
	tracer    trace.Tracer
	// draining is set when the process is stopping: /readyz fails so that
	// load balancers send requests elsewhere.
	draining atomic.Bool
}

// Deps are what the web server needs; all but Now are required.
type Deps struct {
	Store   graphgate.Store
	Config  *config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	M365    *microsoft365.Client
	// Linker links people's Microsoft accounts and signs them in.
	Linker *microsoft365.Linker
	// Tokens checks the bearer tokens of the admin API.
	Tokens *apitoken.Checker
	// Admin is the admin service to share; one is made when nil.
	Admin *admin.Service
	// MCP, when set, serves /mcp and its protected-resource metadata.
	MCP http.Handler
	// OAuth, when set, is the authorization server of /mcp: its consent
	// page is served here, its other endpoints by its own handler.
	OAuth *oauthserver.Server
	// Tracer makes a span of each request; no-op when nil.
	Tracer trace.Tracer
	Now    func() time.Time
}

// New builds the server, parsing every template once.
func New(d Deps) (*Server, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("web: a store is required")
	case d.Config == nil:
		return nil, errors.New("web: a configuration is required")
	case d.Logger == nil:
		return nil, errors.New("web: a logger is required")
	case d.Metrics == nil:
		return nil, errors.New("web: metrics are required")
	case d.M365 == nil:
		return nil, errors.New("web: a Microsoft 365 client is required")
	case d.Linker == nil:
		return nil, errors.New("web: a linker is required")
	case d.Tokens == nil:
		return nil, errors.New("web: a token checker is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	if d.Admin == nil {
		d.Admin = admin.New(d.Store, d.Now)
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return &Server{store: d.Store, admin: d.Admin, cfg: d.Config, log: d.Logger, metrics: d.Metrics,
		pages: pages, limiter: newLoginLimiter(d.Now), tokens: d.Tokens, verifying: make(chan struct{}, maxVerifying), m365: d.M365, linker: d.Linker, mcp: d.MCP, oauth: d.OAuth, now: d.Now, tracer: d.Tracer}, nil
}

// Admin returns the admin service the server uses.
func (s *Server) Admin() *admin.Service { return s.admin }

// Handler returns every route behind the shared middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", s.MetricsHandler())
	}
	mux.Handle("GET /static/", http.FileServerFS(assets))

	mux.HandleFunc("GET /{$}", s.withUser(s.root))
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.withUser(s.logout))
	mux.HandleFunc("GET /connect", s.withUser(s.integrations))
	mux.HandleFunc("POST /connect/done", s.withUser(s.finishConnect))
	mux.HandleFunc("GET /integrations", s.withUser(s.integrations))
	mux.HandleFunc("POST /integrations/microsoft365/link", s.withUser(s.linkAccount))
	mux.HandleFunc("POST /integrations/microsoft365/unlink", s.withUser(s.unlink))
	mux.HandleFunc("POST /integrations/microsoft365/allow", s.withUser(s.allowMore))
	mux.HandleFunc("GET "+callbackPath, s.callback)
	mux.HandleFunc("POST /login/microsoft", s.loginMicrosoft)
	mux.HandleFunc("POST /integrations/tokens", s.withUser(s.createToken))
	mux.HandleFunc("POST /integrations/tokens/{id}/revoke", s.withUser(s.revokeToken))

	mux.HandleFunc("GET /onboarding", s.withAdmin(s.onboardingTools))
	mux.HandleFunc("GET /onboarding/microsoft365", s.withAdmin(s.onboardingForm))
	mux.HandleFunc("POST /onboarding/microsoft365", s.withAdmin(s.onboardingSave))
	mux.HandleFunc("GET /onboarding/done", s.withAdmin(s.onboardingDone))
	mux.HandleFunc("POST /onboarding/finish", s.withAdmin(s.onboardingFinish))
	mux.HandleFunc("POST /onboarding/skip", s.withAdmin(s.onboardingFinish))

	mux.HandleFunc("GET /admin", s.withAdmin(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/servers", http.StatusSeeOther)
	}))
	mux.HandleFunc("GET /admin/servers", s.withAdmin(s.servers))
	mux.HandleFunc("GET /admin/servers/microsoft365/edit", s.withAdmin(s.m365EditForm))
	mux.HandleFunc("POST /admin/servers/microsoft365/edit", s.withAdmin(s.m365Edit))
	mux.HandleFunc("GET /admin/servers/microsoft365/rotate", s.withAdmin(s.m365RotateForm))
	mux.HandleFunc("POST /admin/servers/microsoft365/rotate", s.withAdmin(s.m365Rotate))
	mux.HandleFunc("POST /admin/servers/microsoft365/enable", s.withAdmin(s.m365SetEnabled(true)))
	mux.HandleFunc("POST /admin/servers/microsoft365/disable", s.withAdmin(s.m365SetEnabled(false)))
	mux.HandleFunc("GET /admin/servers/microsoft365/remove", s.withAdmin(s.m365RemoveForm))
	mux.HandleFunc("POST /admin/servers/microsoft365/capabilities", s.withAdmin(s.setCapabilities))
	mux.HandleFunc("POST /admin/servers/microsoft365/admin-consent", s.withAdmin(s.adminConsent))
	mux.HandleFunc("POST /admin/servers/microsoft365/remove", s.withAdmin(s.m365Remove))
	mux.HandleFunc("GET /admin/users", s.withAdmin(s.users))
	mux.HandleFunc("POST /admin/users", s.withAdmin(s.createUser))
	mux.HandleFunc("POST /admin/users/{id}/{action}", s.withAdmin(s.userAction))
	mux.HandleFunc("GET /admin/audit", s.withAdmin(s.auditLog))
	mux.HandleFunc("POST /admin/signin", s.withAdmin(s.signInRules))
	mux.HandleFunc("GET /admin/users.csv", s.withAdmin(s.linkHealthCSV))

	if s.mcp != nil {
		mux.Handle("/mcp", s.mcp)
		mux.Handle("GET /.well-known/oauth-protected-resource/mcp", s.mcp)
		mux.Handle("GET /.well-known/oauth-protected-resource", s.mcp)
		mux.Handle("GET /api/v1/downloads/{token}", s.mcp)
		mux.Handle("PUT /api/v1/uploads/{token}", s.mcp)
		mux.Handle("GET /icons/{name}", s.mcp)
		mux.HandleFunc("GET /approve/{id}", s.withUser(s.approval))
		mux.HandleFunc("POST /approve/{id}", s.withUser(s.decideApproval))
	}
	cop := http.NewCrossOriginProtection()
	if s.oauth != nil {
		// Clients call these from anywhere, browser-based ones included; no
		// cookie gives them authority, so cross-origin calls are fine.
		open := cors(s.oauth.Handler())
		for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration",
			oauthserver.TokenPath, oauthserver.RegisterPath, oauthserver.RevokePath} {
			mux.Handle(p, open)
			cop.AddInsecureBypassPattern(p)
		}
		mux.HandleFunc("GET "+oauthserver.AuthorizePath, s.withUser(s.consent))
		mux.HandleFunc("POST "+oauthserver.AuthorizePath, s.withUser(s.decide))
		mux.HandleFunc("POST /integrations/apps/{id}/disconnect", s.withUser(s.disconnectApp))
		mux.HandleFunc("POST /admin/apps/{id}/revoke", s.withAdmin(s.revokeApp))
		mux.HandleFunc("POST /admin/oauth", s.withAdmin(s.oauthSettings))
	}
	s.apiRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, graphgate.Errorf(graphgate.ENOTFOUND, "There is no page at %s.", r.URL.Path))
	})

	// Browsers announce cross-site form posts (Sec-Fetch-Site, Origin): refuse
	// them outright, on top of the per-form CSRF tokens.
	// Behind trusted proxies, RemoteAddr becomes the client's address
	// first, so that every limit counts per client.
	return s.cfg.TrustedProxies.Middleware(s.observe(s.hostCheck(securityHeaders(s.cfg, cop.Handler(mux)))))
}

// cors lets browser-based MCP clients (the MCP Inspector, web apps) call the
// OAuth endpoints: they take no cookies, so any origin may.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization, MCP-Protocol-Version")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// MetricsListener is the handler of GRAPHGATE_METRICS_ADDR: GET /metrics
// and nothing else.
func (s *Server) MetricsListener() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	return mux
}

// MetricsHandler serves /metrics, behind GRAPHGATE_METRICS_TOKEN when set.
func (s *Server) MetricsHandler() http.Handler {
	h := s.metrics.Handler()
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := []byte(s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, _ := apitoken.FromHeader(r.Header.Get("Authorization")); subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="graphgate metrics"`)
			http.Error(w, "Metrics need the bearer token set in GRAPHGATE_METRICS_TOKEN.", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hostCheck answers only for graphgate's own host names: the base URL's,
// GRAPHGATE_ALLOWED_HOSTS, and any loopback name when the base URL is on
// loopback. A page on another site can point its own name at 127.0.0.1 (DNS
// rebinding) and reach a graphgate listening there; the Host header it
// sends is still its own name. Probes of /healthz and /readyz, which come
// by address and reveal nothing, are always answered.
func (s *Server) hostCheck(next http.Handler) http.Handler {
	base, _ := url.Parse(s.cfg.BaseURL)
	allowed := map[string]bool{strings.ToLower(base.Hostname()): true}
	for _, h := range s.cfg.AllowedHosts {
		allowed[strings.Trim(h, "[]")] = true
	}
	loopback := isLoopbackName(base.Hostname())
	// A scraper that comes by pod address, with the token, gets metrics.
	metricsByAddress := s.cfg.MetricsToken != "" && s.cfg.MetricsAddr == ""
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostName(r.Host)
		if allowed[host] || loopback && isLoopbackName(host) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" ||
			metricsByAddress && r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "graphgate does not answer for this host name; use its base URL, or add the name to GRAPHGATE_ALLOWED_HOSTS.", http.StatusMisdirectedRequest)
	})
}

// hostName is the lower-cased name of a Host header, without port or brackets.
func hostName(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

func isLoopbackName(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Drain makes /readyz fail from now on; the server keeps answering.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		http.Error(w, "not ready: store unavailable or not migrated", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe logs, counts and traces every request by route pattern. Paths
// and query strings are not logged: callbacks carry codes and states in
// them, download links their tokens. The span continues the trace a
// traceparent header names.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		ctx, span := s.tracer.Start(tracing.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)), "HTTP "+r.Method,
			trace.WithSpanKind(trace.SpanKindServer))
		r = r.WithContext(ctx)
		defer span.End()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic", "route", r.Pattern, "panic", p)
				if rec.status == 0 {
					http.Error(rec, "Internal error.", http.StatusInternalServerError)
				}
			}
			d := time.Since(start)
			s.metrics.ObserveHTTP(r.Pattern, r.Method, rec.status, d)
			if span.IsRecording() {
				// "POST /mcp", "GET /approve/{id}": the route, never the path.
				route := r.Pattern
				if _, path, ok := strings.Cut(route, " "); ok {
					route = path
				}
				if route != "" {
					span.SetName(r.Method + " " + route)
				}
				span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route),
					attribute.Int("http.response.status_code", rec.status))
				if rec.status >= 500 {
					span.SetStatus(codes.Error, "")
				}
			}
			if r.Pattern != "GET /healthz" && r.Pattern != "GET /metrics" {
				s.log.InfoContext(ctx, "request", "method", r.Method, "route", r.Pattern, "status", rec.status, "duration_ms", d.Milliseconds())
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// securityHeaders sets a strict CSP. Forms may only go to graphgate itself
// and, since Link Account's form redirects there, the identity platform.
// Nothing but the static assets may be cached: pages show personal data,
// tokens shown once and CSRF tokens. Behind https, browsers are told to
// never use plain http for graphgate again.
func securityHeaders(cfg *config.Config, next http.Handler) http.Handler {
	csp := "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self' " + cfg.M365LoginURL + "; frame-ancestors 'none'"
	hsts := cfg.Secure()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", csp)
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
