package proctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
)

// ReplicaRun describes a run of several graphgate replicas on one
// PostgreSQL database behind a loopback load balancer.
type ReplicaRun struct {
	Postgres   string        // a PostgreSQL server URL; a fresh database is made on it
	Replicas   int           // graphgate processes
	Duration   time.Duration // of the load
	Rate       int           // tool calls per second, from every agent token in turn
	TokensEach int           // agent tokens per person
	Drain      time.Duration // GRAPHGATE_DRAIN_DELAY of every replica
	Log        io.Writer     // progress; nil for none
}

// ReplicaReport is what a run measured.
type ReplicaReport struct {
	Calls, Failed    int
	Failures         map[string]int // by kind
	P50, P99         time.Duration
	Restarts         int
	ExpiryEvents     int     // moments every access token expired at once
	Refreshes        int     // refresh grants Microsoft saw during the load
	RefreshesPerEach float64 // Refreshes / (ExpiryEvents × people): 1 is the target
	People           int
}

func (r *ReplicaReport) String() string {
	var kinds []string
	for k, n := range r.Failures {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(kinds)
	return fmt.Sprintf("%d tool calls, %d failed %v; p50 %s, p99 %s; %d replica restarts (SIGTERM, drain, start); "+
		"%d moments when all %d people's access tokens expired: %d refreshes, %.2f per expired token",
		r.Calls, r.Failed, kinds, r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond), r.Restarts,
		r.ExpiryEvents, r.People, r.Refreshes, r.RefreshesPerEach)
}

// FreshPostgresDB creates a database on the server base names and returns
// its URL and a function that drops it.
func FreshPostgresDB(base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "gg_run_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
		admin.Close()
	}, nil
}

const replicaKey = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="

// Run starts the sandbox, the replicas and the balancer, loads them for
// the duration while each replica in turn is stopped with SIGTERM and
// started again, makes every access token expire twice (once in the
// database, once at Microsoft, so Graph answers 401), and reports.
func (rr ReplicaRun) Run(ctx context.Context, bin, tmp string) (*ReplicaReport, error) {
	logf := func(format string, args ...any) {
		if rr.Log != nil {
			fmt.Fprintf(rr.Log, format+"\n", args...)
		}
	}
	dsn, drop, err := FreshPostgresDB(rr.Postgres)
	if err != nil {
		return nil, err
	}
	defer drop()
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		return nil, err
	}
	sbSrv := httptest.NewServer(sb)
	defer sbSrv.Close()

	lb := newBalancer()
	lbSrv := httptest.NewServer(lb)
	defer lbSrv.Close()
	env := map[string]string{"GRAPHGATE_DATABASE_URL": dsn, "GRAPHGATE_ENCRYPTION_KEY": replicaKey, "GRAPHGATE_DATA_DIR": tmp,
		"GRAPHGATE_BASE_URL": lbSrv.URL, "GRAPHGATE_M365_LOGIN_URL": sbSrv.URL, "GRAPHGATE_M365_GRAPH_URL": sbSrv.URL,
		"GRAPHGATE_LOG_LEVEL": "warn", "GRAPHGATE_DRAIN_DELAY": rr.Drain.String()}
	var upns []string
	for _, p := range sb.Directory.People() {
		upns = append(upns, p.UPN)
	}
	people, err := Seed(ctx, env, sb, sbSrv.URL, upns, rr.TokensEach)
	if err != nil {
		return nil, err
	}
	var tokens []string
	for _, p := range people {
		tokens = append(tokens, p.AgentTokens...)
	}

	procs := make([]*Proc, rr.Replicas)
	addrs := make([]string, rr.Replicas)
	for i := range procs {
		if addrs[i], err = FreeAddr(); err != nil {
			return nil, err
		}
		if procs[i], err = Start(bin, addrs[i], env); err != nil {
			return nil, err
		}
		lb.add(procs[i].URL)
	}
	defer func() {
		for _, p := range procs {
			if p != nil {
				_ = p.Kill()
			}
		}
	}()
	go lb.watch(ctx)
	logf("%d replicas on one PostgreSQL behind %s; %d people, %d agent tokens", rr.Replicas, lbSrv.URL, len(people), len(tokens))

	store, err := openStore(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	sb.ResetRequests()
	report := &ReplicaReport{Failures: map[string]int{}, People: len(people)}
	var mu sync.Mutex
	var lat []time.Duration
	fail := func(kind string) {
		mu.Lock()
		report.Failed++
		report.Failures[kind]++
		mu.Unlock()
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	// The load runs for rr.Duration, and on after the last event for a step
	// at least: every expiry is followed by calls, however long the
	// restarts took on a busy machine.
	loadStart := time.Now()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var calls sync.WaitGroup
	var n atomic.Int64
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		tick := time.NewTicker(time.Second / time.Duration(rr.Rate))
		defer tick.Stop()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
			}
			i := n.Add(1)
			token := tokens[int(i)%len(tokens)]
			tool := "list_messages"
			if i%2 == 0 {
				tool = "get_profile"
			}
			calls.Go(func() {
				start := time.Now()
				kind := callTool(client, lbSrv.URL, token, tool)
				d := time.Since(start)
				if kind != "" {
					fail(kind)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
	}()

	// The events, spread over the run: each replica stopped and started in
	// turn, and every access token expiring twice.
	step := rr.Duration / time.Duration(rr.Replicas+3)
	events := []func() error{}
	for i := range procs {
		events = append(events, func() error {
			logf("replica %d: SIGTERM", i+1)
			start := time.Now()
			if err := procs[i].Stop(); err != nil {
				return fmt.Errorf("replica %d did not stop cleanly: %w\n%s", i+1, err, procs[i].Output())
			}
			stopped := time.Since(start)
			p, err := Start(bin, addrs[i], env)
			if err != nil {
				return err
			}
			procs[i] = p
			report.Restarts++
			logf("replica %d: stopped after %s, started again", i+1, stopped.Round(time.Millisecond))
			return nil
		})
		if i == 0 {
			events = append(events, func() error {
				logf("every access token expires (in the database)")
				report.ExpiryEvents++
				for _, p := range people {
					if _, err := store.UpdateLink(ctx, p.UserID, func(l *graphgate.Link) (*graphgate.Link, error) {
						l.AccessExpiresAt = time.Now().Add(-time.Minute)
						return l, nil
					}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if i == 1 {
			events = append(events, func() error {
				logf("every access token expires (at Microsoft: Graph answers 401)")
				report.ExpiryEvents++
				for _, p := range sb.Directory.People() {
					sb.Identity.ExpireAccessTokens(p)
				}
				return nil
			})
		}
	}
	for _, ev := range events {
		time.Sleep(step)
		if err := ev(); err != nil {
			stopLoad()
			<-loadDone
			calls.Wait()
			return nil, err
		}
	}
	time.Sleep(max(rr.Duration-time.Since(loadStart), step))
	stopLoad()
	<-loadDone // no call starts after this
	calls.Wait()

	report.Calls = int(n.Load())
	report.Refreshes = sb.Requests()["grant_type=refresh_token"]
	if report.ExpiryEvents > 0 {
		report.RefreshesPerEach = float64(report.Refreshes) / float64(report.ExpiryEvents*len(people))
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		report.P50 = lat[len(lat)/2]
		report.P99 = lat[int(math.Ceil(float64(len(lat))*0.99))-1]
	}
	return report, nil
}

func openStore(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	keys, err := secretbox.ParseKeys(replicaKey)
	if err != nil {
		return nil, err
	}
	ring, err := secretbox.New(keys...)
	if err != nil {
		return nil, err
	}
	return sqlstore.Open(ctx, dsn, ring, sqlstore.Options{})
}

var callClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// CallTool makes one tools/call of tool (list_messages or get_profile) and
// returns an error unless it succeeded.
func CallTool(base, token, tool string) error {
	if kind := callTool(callClient, base, token, tool); kind != "" {
		return fmt.Errorf("%s: %s", tool, kind)
	}
	return nil
}

// callTool makes one tools/call and returns "" or the kind of failure.
func callTool(c *http.Client, base, token, tool string) string {
	args := ""
	if tool == "list_messages" {
		args = `{"page_size":5}`
	}
	status, body, err := apptest.ToolCall(c, base, token, tool, args)
	switch {
	case err != nil:
		return "transport"
	case status != http.StatusOK:
		return fmt.Sprintf("HTTP %d", status)
	case strings.Contains(body, `"isError":true`):
		return "tool error"
	case !strings.Contains(body, `"structuredContent"`):
		return "no result"
	}
	return ""
}

// balancer is a loopback load balancer as a real one behaves: round robin
// over the backends whose /readyz answers, and a request whose connection
// was refused is tried on the next backend (it never reached the first).
type balancer struct {
	mu       sync.Mutex
	backends []string
	up       map[string]bool
	next     int
	proxy    *httputil.ReverseProxy
}

// attempt is one try of a request on one backend.
type attempt struct {
	backend string
	refused bool // the connection was refused: the request never left
}

type attemptKey struct{}

func newBalancer() *balancer {
	b := &balancer{up: map[string]bool{}}
	transport := &http.Transport{MaxIdleConnsPerHost: 256, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target, _ := url.Parse(r.In.Context().Value(attemptKey{}).(*attempt).backend)
			r.SetURL(target)
			r.Out.Host = r.In.Host // forward the public Host, as proxies do
		},
		Transport: transport,
		ErrorLog:  slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				r.Context().Value(attemptKey{}).(*attempt).refused = true
				return
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	return b
}

func (b *balancer) add(backend string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, backend)
	b.up[backend] = true
}

func (b *balancer) setDown(backend string, up bool) {
	b.mu.Lock()
	b.up[backend] = up
	b.mu.Unlock()
}

// pick returns the next backend that is up, skipping tried ones.
func (b *balancer) pick(tried map[string]bool) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.backends {
		be := b.backends[b.next%len(b.backends)]
		b.next++
		if b.up[be] && !tried[be] {
			return be
		}
	}
	return ""
}

// watch checks every backend's /readyz ten times a second.
func (b *balancer) watch(ctx context.Context) {
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		b.mu.Lock()
		list := slices.Clone(b.backends)
		b.mu.Unlock()
		for _, be := range list {
			resp, err := c.Get(be + "/readyz")
			ok := err == nil && resp.StatusCode == http.StatusOK
			if resp != nil {
				resp.Body.Close()
			}
			b.setDown(be, ok)
		}
	}
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tried := map[string]bool{}
	for {
		be := b.pick(tried)
		if be == "" {
			http.Error(w, "no replica is up", http.StatusServiceUnavailable)
			return
		}
		tried[be] = true
		a := &attempt{backend: be}
		r2 := r.WithContext(context.WithValue(r.Context(), attemptKey{}, a))
		r2.Body = io.NopCloser(bytes.NewReader(body))
		b.proxy.ServeHTTP(w, r2)
		if !a.refused {
			return
		}
		b.setDown(be, false)
	}
}
