// Command bench-mcp measures, in one run, list_messages calls per second and
// latency three ways against one sandbox tenant running in its own process:
//
//   - direct: the Graph request list_messages makes, sent straight to the sandbox;
//   - graphgate: list_messages through graphgate's MCP server (auth, token
//     lookup, audit, Graph client), as plain JSON-RPC over HTTP;
//   - bare SDK: a minimal go-sdk stateless server whose one tool makes the same
//     Graph request, called the same way: the SDK's own cost.
//
// What graphgate adds on top of the SDK is the difference between the last
// two, which take turns for -rounds rounds; the median round is reported.
// graphgate is also measured with each Graph transport -graph-transport names:
// "tuned" (graphgate's own, many idle connections to the Graph host) and
// "default" (Go's default transport, two idle connections per host), with
// the connections each opened to Graph.
//
// With -traces, a second graphgate exporting every span to an OTLP
// collector (an in-process one that reads and drops them) takes turns with
// the first, which has tracing off: the cost of tracing.
//
//	go run ./scripts/bench-mcp [-duration 5s] [-rounds 3] [-workers 8] [-graph-transport tuned,default] [-database postgres://...] [-traces]
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apitoken"
	"graphgate/internal/app"
	"graphgate/internal/config"
	"graphgate/internal/graphapi"
	"graphgate/internal/microsoft365"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/sandboxtest"
)

var (
	duration = flag.Duration("duration", 5*time.Second, "how long each measurement runs")
	workers  = flag.Int("workers", 8, "concurrent callers")
	profile  = flag.String("cpuprofile", "", "write a CPU profile of the rounds to this file (graphgate's share is under graphgate/)")
	rounds   = flag.Int("rounds", 3, "turns the bare SDK server and graphgate each take, alternately")
	memprof  = flag.String("memprofile", "", "write an allocation profile, taken after the rounds, to this file")
	database = flag.String("database", "", "graphgate's database: a postgres:// URL (an empty database); default SQLite in a temporary folder")
	modes    = flag.String("graph-transport", "tuned", "comma-separated Graph transports to measure graphgate with: tuned, default")
	traces   = flag.Bool("traces", false, "also measure graphgate exporting traces (every span, to an in-process OTLP collector) against tracing off")
)

const graphPath = "/v1.0/me/mailFolders/inbox/messages?%24filter=receivedDateTime+ge+1900-01-01T00%3A00%3A00Z&%24orderby=receivedDateTime+desc&%24select=id%2Csubject%2Cfrom%2CtoRecipients%2CreceivedDateTime%2CisRead%2ChasAttachments%2Cimportance%2CbodyPreview%2CconversationId%2Cflag&%24top=10"

func main() {
	flag.Parse()
	log.SetFlags(0)
	tmp, err := os.MkdirTemp("", "bench-mcp-")
	check(err)
	defer os.RemoveAll(tmp)

	sbURL, stop := startSandbox(tmp)
	defer stop()
	ctx := context.Background()
	tok := sandboxToken(ctx, sbURL)

	mcpURL, agent, server := startGraphgate(ctx, tmp, sbURL, tok, nil)
	bareURL := startBare(sbURL, tok.AccessToken)

	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	direct := measure("direct Graph request", func() func() error {
		return func() error {
			req, _ := http.NewRequest("GET", sbURL+graphPath, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := httpc.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
	})
	if *profile != "" {
		f, err := os.Create(*profile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	// The bare SDK server and graphgate take turns, so that whatever else
	// the machine does falls on both alike; the median round is reported.
	type round struct{ bare, gg result }
	var rs []round
	for r := range *rounds {
		fmt.Printf("round %d\n", r+1)
		b := measure("bare go-sdk server, same Graph request", rawCaller(bareURL, ""))
		dials := useTransport(server, "tuned")
		g := measure("graphgate list_messages", rawCaller(mcpURL, agent))
		fmt.Printf("%-42s %8d connections opened to Graph\n", "", dials.Load())
		rs = append(rs, round{b, g})
	}
	var each []string
	for _, r := range rs {
		each = append(each, fmt.Sprintf("%.0f%%", 100*r.gg.rate/r.bare.rate))
	}
	slices.SortFunc(rs, func(a, b round) int { return cmp.Compare(a.gg.rate/a.bare.rate, b.gg.rate/b.bare.rate) })
	bare, gg := rs[len(rs)/2].bare, rs[len(rs)/2].gg
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	if *memprof != "" {
		f, err := os.Create(*memprof)
		check(err)
		check(pprof.Lookup("allocs").WriteTo(f, 0))
		f.Close()
	}
	if *modes != "tuned" { // the rounds measured tuned
		for mode := range strings.SplitSeq(*modes, ",") {
			dials := useTransport(server, mode)
			measure("graphgate list_messages ("+mode+" transport)", rawCaller(mcpURL, agent))
			fmt.Printf("%-42s %8d connections opened to Graph\n", "", dials.Load())
		}
	}

	fmt.Println()
	fmt.Printf("graphgate throughput: %.0f%% of direct Graph; of the bare SDK server, by round: %s; median %.0f%%\n",
		100*gg.rate/direct.rate, strings.Join(each, ", "), 100*gg.rate/bare.rate)
	fmt.Printf("added latency at the median (median round): %.2f ms over direct, %.2f ms over the bare SDK server\n",
		ms(gg.p50-direct.p50), ms(gg.p50-bare.p50))
	if *traces {
		measureTraces(ctx, sbURL, tok, mcpURL, agent)
	}
}

// measureTraces has graphgate with tracing off (the one measured above)
// and a second one exporting every span take turns; the median round says
// what tracing costs.
func measureTraces(ctx context.Context, sbURL string, tok *oauth2.Token, offURL, offAgent string) {
	if *database != "" {
		log.Fatal("-traces runs its second graphgate on SQLite: leave out -database to compare like with like")
	}
	var spans, bytesIn atomic.Int64
	collector := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		bytesIn.Add(n)
		spans.Add(1) // one export request
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() { _ = collector.Serve(ln) }()
	defer collector.Close()
	tmp, err := os.MkdirTemp("", "bench-mcp-traced-")
	check(err)
	defer os.RemoveAll(tmp)
	onURL, onAgent, on := startGraphgate(ctx, tmp, sbURL, tok, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String()})
	useTransport(on, "tuned")
	type round struct{ off, on result }
	var rs []round
	for r := range *rounds {
		fmt.Printf("tracing round %d\n", r+1)
		off := measure("graphgate list_messages, tracing off", rawCaller(offURL, offAgent))
		traced := measure("graphgate list_messages, tracing on", rawCaller(onURL, onAgent))
		rs = append(rs, round{off, traced})
	}
	slices.SortFunc(rs, func(a, b round) int { return cmp.Compare(a.on.rate/a.off.rate, b.on.rate/b.off.rate) })
	m := rs[len(rs)/2]
	check(on.Tracing.Flush(ctx))
	fmt.Printf("tracing on: %.0f%% of the throughput with it off; %.2f ms added at the median; %d exports, %.1f MB sent to the collector\n",
		100*m.on.rate/m.off.rate, ms(m.on.p50-m.off.p50), spans.Load(), float64(bytesIn.Load())/(1<<20))
}

// useTransport gives graphgate's Graph client a fresh transport of the kind
// named, counting the connections it opens.
func useTransport(a *app.App, mode string) *atomic.Int64 {
	var t *http.Transport
	switch mode {
	case "tuned":
		t = graphapi.NewTransport()
	case "default":
		t = http.DefaultTransport.(*http.Transport).Clone()
	default:
		log.Fatalf("-graph-transport: unknown %q (tuned or default)", mode)
	}
	dials := new(atomic.Int64)
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	if old, ok := a.GraphHTTP.Transport.(*http.Transport); ok {
		old.CloseIdleConnections()
	}
	a.GraphHTTP.Transport = t
	return dials
}

type result struct {
	rate     float64
	p50, p90 time.Duration
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measure runs call from every worker for the duration after a warm-up.
func measure(name string, newCall func() func() error) result {
	run := func(d time.Duration) ([]time.Duration, int) {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		deadline := time.Now().Add(d)
		for range *workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				call := newCall()
				var mine []time.Duration
				for time.Now().Before(deadline) {
					start := time.Now()
					if err := call(); err != nil {
						log.Fatalf("%s: %v", name, err)
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return lat, len(lat)
	}
	run(time.Second) // warm caches and connections
	lat, n := run(*duration)
	slices.Sort(lat)
	r := result{rate: float64(n) / duration.Seconds(), p50: lat[len(lat)/2], p90: lat[len(lat)*9/10]}
	fmt.Printf("%-42s %8.0f calls/s   median %6.2f ms   p90 %6.2f ms\n", name, r.rate, ms(r.p50), ms(r.p90))
	return r
}

// rawCaller posts tools/call as plain JSON-RPC over HTTP, as a load
// generator should: the client's own cost stays out of the measurement, as it
// does for the direct Graph requests. The servers are the SDK's, untouched.
func rawCaller(endpoint, token string) func() func() error {
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_messages","arguments":{}}}`)
	return func() func() error {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		return func() error {
			req, _ := http.NewRequest("POST", endpoint, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || bytes.Contains(b, []byte(`"isError":true`)) || bytes.Contains(b, []byte(`"error":`)) {
				return fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
			}
			return nil
		}
	}
}

// startSandbox builds graphgate and runs its sandbox in a process of its own.
func startSandbox(tmp string) (string, func()) {
	bin := filepath.Join(tmp, "graphgate")
	out, err := exec.Command("go", "build", "-o", bin, "graphgate/cmd/graphgate").CombinedOutput()
	if err != nil {
		log.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "sandbox", "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	check(cmd.Start())
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`sandbox tenant at (http://\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return m[1], func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
		}
	}
	log.Fatal("the sandbox did not start")
	return "", nil
}

// sandboxToken signs alex in at the sandbox through the code flow.
func sandboxToken(ctx context.Context, sbURL string) *oauth2.Token {
	cfg := &oauth2.Config{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RedirectURL: sandbox.DefaultRedirectURI,
		Scopes: microsoft365.Scopes, Endpoint: oauth2.Endpoint{AuthURL: sbURL + "/common/oauth2/v2.0/authorize",
			TokenURL: sbURL + "/common/oauth2/v2.0/token", AuthStyle: oauth2.AuthStyleInParams}}
	code, err := sandboxtest.Code(cfg.AuthCodeURL("s"), "alex@contoso.test")
	check(err)
	tok, err := cfg.Exchange(ctx, code)
	check(err)
	return tok
}

// startGraphgate runs graphgate in this process with alex linked and
// returns its MCP URL and an agent token.
func startGraphgate(ctx context.Context, tmp, sbURL string, tok *oauth2.Token, more map[string]string) (string, string, *app.App) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	base := "http://" + ln.Addr().String()
	env := map[string]string{"GRAPHGATE_DATA_DIR": tmp, "GRAPHGATE_BASE_URL": base, "GRAPHGATE_M365_LOGIN_URL": sbURL,
		"GRAPHGATE_M365_GRAPH_URL": sbURL, "GRAPHGATE_LOG_LEVEL": "error", "GRAPHGATE_DATABASE_URL": *database}
	maps.Copy(env, more)
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	check(err)
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	check(err)
	_, err = a.Web.Admin().ConfigureM365(ctx, nil, microsoft365.Setup{ClientID: sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret, RedirectURI: sandbox.DefaultRedirectURI})
	check(err)
	u, err := a.Web.Admin().CreateUser(ctx, nil, admin.NewUser{Email: "alex@contoso.test", Password: "bench-password", Role: graphgate.RoleUser})
	check(err)
	check(a.Store.PutLink(ctx, &graphgate.Link{UserID: u.ID, TenantID: "t", ObjectID: "o", Username: "alex@contoso.test",
		DisplayName: "Alex", RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, AccessExpiresAt: tok.Expiry}))
	token, display, hash := apitoken.New()
	check(a.Store.CreateAPIToken(ctx, &graphgate.APIToken{UserID: u.ID, Kind: graphgate.TokenAgent, Name: "bench", Prefix: display, Hash: hash}))
	go func() { _ = a.Serve(ctx, ln) }()
	return base + "/mcp", token, a
}

// startBare runs a minimal go-sdk stateless server whose list_messages makes
// the same Graph request with a fixed token and returns the raw page.
func startBare(sbURL, accessToken string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	cache := mcp.NewSchemaCache()
	type in struct{}
	type out struct {
		Messages []map[string]any `json:"messages"`
	}
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server {
		s := mcp.NewServer(&mcp.Implementation{Name: "bare", Version: "1"}, &mcp.ServerOptions{SchemaCache: cache})
		mcp.AddTool(s, &mcp.Tool{Name: "list_messages"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ in) (*mcp.CallToolResult, out, error) {
			req, _ := http.NewRequestWithContext(ctx, "GET", sbURL+graphPath, nil)
			req.Header.Set("Authorization", "Bearer "+accessToken)
			resp, err := httpc.Do(req)
			if err != nil {
				return nil, out{}, err
			}
			defer resp.Body.Close()
			var page struct {
				Value []map[string]any `json:"value"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			return nil, out{Messages: page.Value}, err
		})
		return s
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	go func() { _ = http.Serve(ln, handler) }()
	return "http://" + ln.Addr().String()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
