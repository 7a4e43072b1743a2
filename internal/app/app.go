// Package app assembles graphgate from its configuration: the keyring, the
// store, the web server; it runs it until the context ends and shuts down
// gracefully. The serve and demo commands, and end-to-end tests, use it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/config"
	"graphgate/internal/graphapi"
	"graphgate/internal/mcpserver"
	"graphgate/internal/metrics"
	"graphgate/internal/microsoft365"
	"graphgate/internal/oauthserver"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
	"graphgate/internal/tracing"
	"graphgate/internal/version"
	"graphgate/internal/web"
)

// App is a configured graphgate.
type App struct {
	Config  *config.Config
	Store   *sqlstore.Store
	Web     *web.Server
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Tokens hands out valid Microsoft Graph access tokens for people.
	Tokens *microsoft365.Tokens
	MCP    *mcpserver.Server
	// GraphHTTP is the HTTP client every Graph call goes through.
	GraphHTTP *http.Client
	// LoginHTTP is the HTTP client of the identity platform's endpoints.
	LoginHTTP *http.Client
	// KeepAlive refreshes idle grants when GRAPHGATE_KEEPALIVE_AGE is set.
	KeepAlive *microsoft365.KeepAlive
	// Keys seal secrets and sign cursors and confirmations.
	Keys *secretbox.Keyring
	// Tracing exports spans when OTEL_EXPORTER_OTLP_* name a collector.
	Tracing *tracing.Tracing
}

// Keyring loads the encryption keys: from GRAPHGATE_ENCRYPTION_KEY, or from
// the key file in the data folder, which is created (with a warning) when
// missing outside production.
func Keyring(cfg *config.Config, log *slog.Logger) (*secretbox.Keyring, error) {
	if cfg.EncryptionKey != "" {
		keys, err := secretbox.ParseKeys(cfg.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("GRAPHGATE_ENCRYPTION_KEY: %w", err)
		}
		return secretbox.New(keys...)
	}
	keys, created, err := secretbox.LoadOrCreateKeyFile(cfg.KeyFile())
	if err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	if created {
		log.Warn("generated an encryption key file: back it up, or set GRAPHGATE_ENCRYPTION_KEY (required in production)", "path", cfg.KeyFile())
	}
	ring, err := secretbox.New(keys...)
	if err != nil {
		return nil, err
	}
	// graphgate rotate-key --new-key adds a key to this file while
	// graphgate runs: it is learnt without a restart.
	ring.Follow(cfg.KeyFile())
	return ring, nil
}

// PrepareDataDir creates the data folder readable by its owner only, and
// warns when an existing one is open to others: it holds the database and
// perhaps the encryption key. With PostgreSQL and a configured key nothing
// lives there, and nothing is created.
func PrepareDataDir(cfg *config.Config, log *slog.Logger) error {
	if sqlstore.IsPostgres(cfg.DatabaseURL) && cfg.EncryptionKey != "" {
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("GRAPHGATE_DATA_DIR: %w", err)
	}
	fi, err := os.Stat(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("GRAPHGATE_DATA_DIR: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the data folder can be read by other users of this machine; run chmod 700 on it", "path", cfg.DataDir, "mode", fi.Mode().Perm().String())
	}
	return nil
}

// Open connects the store (migrating it), creates the first admin when the
// store has no users and the configuration names one, and builds the server.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	if err := PrepareDataDir(cfg, log); err != nil {
		return nil, err
	}
	keys, err := Keyring(cfg, log)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	traces, err := tracing.Start(cfg.Tracing, version.Version, log)
	if err != nil {
		return nil, err
	}
	tracer := traces.Tracer()
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, keys, sqlstore.Options{Observe: m.ObserveStore, Tracer: tracer})
	if err != nil {
		return nil, err
	}
	loginHTTP := &http.Client{Timeout: 30 * time.Second, Transport: graphapi.NewTransport()}
	client := microsoft365.NewClient(cfg, loginHTTP, nil)
	// App-credential problems found while refreshing are recorded by the
	// admin service, which the web server shares.
	adminSvc := admin.New(store, nil)
	tokens := microsoft365.NewTokens(store, client, adminSvc, nil)
	graphHTTP := graphapi.NewHTTPClient()
	// One checker for every bearer token: agents', connected apps', the
	// admin API's.
	checker := apitoken.NewChecker(store, nil)
	mcpSrv, err := mcpserver.New(mcpserver.Deps{Store: store, Tokens: tokens, GraphURL: cfg.M365GraphURL, BaseURL: cfg.BaseURL, Log: log, Metrics: m, Keys: keys, HTTP: graphHTTP,
		Checker: checker, Tracer: tracer})
	if err != nil {
		store.Close()
		return nil, err
	}
	oauth, err := oauthserver.New(oauthserver.Deps{Store: store, Issuer: cfg.BaseURL, Resource: cfg.MCPURL(),
		AllowPrivateClients: cfg.OAuthPrivateClients, Audit: adminSvc, Log: log})
	if err != nil {
		store.Close()
		return nil, err
	}
	w, err := web.New(web.Deps{Store: store, Config: cfg, Logger: log, Metrics: m, M365: client, Admin: adminSvc, MCP: mcpSrv.Handler(), OAuth: oauth,
		Linker: microsoft365.NewLinker(store, client, adminSvc, nil), Tokens: checker, Tracer: tracer})
	if err != nil {
		store.Close()
		return nil, err
	}
	if cfg.AdminEmail != "" {
		u, created, err := w.Admin().EnsureFirstAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			store.Close()
			return nil, err
		}
		if created {
			log.Info("created the first admin", "email", u.Email)
		}
	} else if n, err := store.CountUsers(ctx); err == nil && n == 0 {
		log.Warn("graphgate has no people yet, so nobody can sign in: set GRAPHGATE_ADMIN_EMAIL and GRAPHGATE_ADMIN_PASSWORD " +
			"and start again, or run: graphgate users create --email you@example.com --admin")
	}
	return &App{Config: cfg, Store: store, Web: w, Log: log, Metrics: m, Tokens: tokens, MCP: mcpSrv, GraphHTTP: graphHTTP, LoginHTTP: loginHTTP,
		KeepAlive: keepAlive(cfg, store, tokens, adminSvc), Keys: keys, Tracing: traces}, nil
}

// keepAlive is the job that refreshes idle grants, audited.
func keepAlive(cfg *config.Config, store *sqlstore.Store, tokens *microsoft365.Tokens, svc *admin.Service) *microsoft365.KeepAlive {
	host, _ := os.Hostname()
	return &microsoft365.KeepAlive{Tokens: tokens, Store: store, Age: cfg.KeepAliveAge, Pause: 2 * time.Second,
		Holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), apitoken.Random()[:8]),
		Audit: func(ctx context.Context, userID int64) {
			target := strconv.FormatInt(userID, 10)
			if u, err := store.UserByID(ctx, userID); err == nil {
				target = u.Email
			}
			_ = svc.Record(ctx, nil, graphgate.ActionKeepAlive, target, nil)
		}}
}

// baseURLMismatch warns of a loopback base URL on another port than the one
// graphgate listens on: sign-in redirects, OAuth metadata and links would
// all name a port where nothing answers. Behind a proxy the ports differ
// on purpose, but then the base URL is not on loopback.
func baseURLMismatch(baseURL string, addr net.Addr) string {
	u, err := url.Parse(baseURL)
	tcp, ok := addr.(*net.TCPAddr)
	if err != nil || !ok || !isLoopback(u.Hostname()) {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if port == strconv.Itoa(tcp.Port) {
		return ""
	}
	return fmt.Sprintf("GRAPHGATE_BASE_URL is %s but graphgate listens on port %d: browsers and MCP clients would be sent to port %s. "+
		"Set GRAPHGATE_BASE_URL (or --base-url) to http://localhost:%d", baseURL, tcp.Port, port, tcp.Port)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pruneEvery is how often what has served its time is deleted.
const pruneEvery = 15 * time.Minute

// prune deletes expired and rotated-out OAuth tokens, old codes and expired
// cursors (Store.Prune), now and
// every so often, until ctx ends. Every replica may; deleting is idempotent.
func (a *App) prune(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := a.Store.Prune(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("pruning expired tokens and cursors", "err", err)
		} else if n > 0 {
			a.Log.Debug("pruned expired tokens and cursors", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close writes what is pending and releases the store.
func (a *App) Close() error {
	a.MCP.Close()
	// The last spans go out before the store closes; a collector that does
	// not answer delays the exit by 5 s at most.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Tracing.Shutdown(ctx); err != nil {
		a.Log.Warn("sending the last spans", "err", err)
	}
	return a.Store.Close()
}

// Serve answers HTTP on ln until ctx ends, then drains in-flight requests.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	if a.Config.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.Config.MetricsAddr)
		if err != nil {
			return fmt.Errorf("GRAPHGATE_METRICS_ADDR: %w", err)
		}
		msrv := &http.Server{Handler: a.Web.MetricsListener(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
		defer msrv.Close()
		a.Log.Info("serving metrics", "addr", mln.Addr().String())
	}
	go func() { errc <- srv.Serve(ln) }()
	jobs, stop := context.WithCancel(ctx)
	defer stop()
	go a.prune(jobs, pruneEvery)
	if a.Config.KeepAliveAge > 0 {
		go a.KeepAlive.Run(jobs, time.Hour, func(err error) { a.Log.Warn("keeping grants alive", "err", err) })
	}
	a.Log.Info("graphgate is serving", "addr", ln.Addr().String(), "base_url", a.Config.BaseURL, "store", a.Store.Dialect())
	if why := baseURLMismatch(a.Config.BaseURL, ln.Addr()); why != "" {
		a.Log.Warn(why)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if d := a.Config.DrainDelay; d > 0 {
		a.Log.Info("draining: /readyz fails, still serving", "for", d.String())
		a.Web.Drain()
		time.Sleep(d)
	}
	a.Log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
