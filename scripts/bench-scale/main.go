// Command bench-scale measures graphgate with many linked accounts: for
// each database and account count it seeds the accounts, starts `graphgate
// serve` as its own process and reports the time until it answers /healthz,
// its resident memory once idle, and the latency of one person's tool calls
// (list_messages against a sandbox tenant in this process).
//
//	go run ./scripts/bench-scale [-accounts 100,100000] [-calls 2000] [-database-url postgres://...]
//
// SQLite is always measured; PostgreSQL when -database-url (or
// GRAPHGATE_TEST_POSTGRES_URL) names a server, on a fresh database.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/proctest"
	"graphgate/internal/sandbox"
	"graphgate/internal/secretbox"
	"graphgate/internal/sqlstore"
)

const key = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="

func main() {
	counts := flag.String("accounts", "100,100000", "comma-separated numbers of linked accounts")
	calls := flag.Int("calls", 2000, "tool calls measured at each size")
	pg := flag.String("database-url", os.Getenv("GRAPHGATE_TEST_POSTGRES_URL"), "a PostgreSQL server URL; empty: SQLite only")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "bench-scale-")
	check(err)
	defer os.RemoveAll(tmp)
	bin, err := proctest.Build(tmp)
	check(err)

	sb, err := sandbox.New(sandbox.Options{})
	check(err)
	sbSrv := httptest.NewServer(sb)
	defer sbSrv.Close()

	backends := []string{"sqlite"}
	if *pg != "" {
		backends = append(backends, "postgres")
	}
	fmt.Printf("%-9s %9s %10s %12s %9s %9s %10s\n", "database", "accounts", "seeded in", "startup", "idle RSS", "p50", "p99")
	for _, backend := range backends {
		for c := range strings.SplitSeq(*counts, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(c))
			check(err)
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", backend, n))
			check(os.MkdirAll(dir, 0o700))
			env := map[string]string{"GRAPHGATE_DATA_DIR": dir, "GRAPHGATE_ENCRYPTION_KEY": key, "GRAPHGATE_LOG_LEVEL": "warn",
				"GRAPHGATE_M365_LOGIN_URL": sbSrv.URL, "GRAPHGATE_M365_GRAPH_URL": sbSrv.URL}
			dsn := filepath.Join(dir, "graphgate.db")
			if backend == "postgres" {
				var drop func()
				dsn, drop, err = proctest.FreshPostgresDB(*pg)
				check(err)
				defer drop()
				env["GRAPHGATE_DATABASE_URL"] = dsn
			}
			addr, err := proctest.FreeAddr()
			check(err)
			env["GRAPHGATE_BASE_URL"] = "http://" + addr

			people, err := proctest.Seed(context.Background(), env, sb, sbSrv.URL, []string{"alex@contoso.test"}, 1)
			check(err)
			start := time.Now()
			check(seedMore(dsn, n-1))
			seeded := time.Since(start)

			start = time.Now()
			p, err := proctest.Start(bin, addr, env)
			check(err)
			startup := time.Since(start)
			lat := measure(p.URL, people[0].AgentTokens[0], *calls)
			time.Sleep(2 * time.Second) // idle
			rss, err := p.RSS()
			check(err)
			check(p.Stop())
			fmt.Printf("%-9s %9d %10s %12s %7.1f MiB %9s %10s\n", backend, n, seeded.Round(time.Second), startup.Round(time.Millisecond),
				float64(rss)/(1<<20), lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond))
		}
	}
}

// seedMore adds n users, each with a linked account (tokens Microsoft never
// issued: they are stored, not used) and an agent token, through the store.
func seedMore(dsn string, n int) error {
	keys, _ := secretbox.ParseKeys(key)
	ring, err := secretbox.New(keys...)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, ring, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	workers := 8
	if st.Dialect() == "sqlite" {
		workers = 1 // one writer at a time anyway
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				u := &graphgate.User{Email: fmt.Sprintf("person%06d@scale.test", i), Name: fmt.Sprintf("Person %d", i), Role: graphgate.RoleUser, PasswordHash: "-"}
				if err := st.CreateUser(ctx, u); err != nil {
					errs <- err
					return
				}
				if err := st.PutLink(ctx, &graphgate.Link{UserID: u.ID, TenantID: "2f6b3c1e-8a4d-4f0b-9c7e-5d1a2b3c4d5e",
					ObjectID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Username: u.Email, DisplayName: u.Name,
					RefreshToken: "M.C5-refresh-" + strconv.Itoa(i), AccessToken: "EwB-access-" + strconv.Itoa(i),
					AccessExpiresAt: time.Now().Add(time.Hour)}); err != nil {
					errs <- err
					return
				}
				_, display, hash := apitoken.New()
				if err := st.CreateAPIToken(ctx, &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: "agent", Prefix: display, Hash: hash}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// measure makes calls tool calls one after another and returns the sorted latencies.
func measure(base, token string, calls int) []time.Duration {
	for range 50 { // warm up
		check(proctest.CallTool(base, token, "list_messages"))
	}
	lat := make([]time.Duration, 0, calls)
	for range calls {
		start := time.Now()
		check(proctest.CallTool(base, token, "list_messages"))
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
