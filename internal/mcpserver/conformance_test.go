package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// TestConformanceStateless runs the official MCP conformance suite's
// server-stateless scenario (2026-07-28: no session, server/discover,
// header checks, subscriptions/listen) against graphgate. The suite has no
// way to send a bearer token, so a loopback proxy adds an agent token.
func TestConformanceStateless(t *testing.T) {
	dir := apptest.ClientCheckDir(t, ".bin/node", "@modelcontextprotocol/conformance/dist/index.js")
	node := filepath.Join(dir, "node_modules", ".bin", "node")
	suite := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	token := agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), true)
	target, _ := url.Parse(l.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // pass SSE events on at once
	withToken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		r.Host = target.Host
		proxy.ServeHTTP(w, r)
	}))
	defer withToken.Close()

	out := t.TempDir()
	cmd := exec.Command(node, suite, "server", "--url", withToken.URL+"/mcp", "--scenario", "server-stateless", "--timeout", "60000", "-o", out)
	cmd.Dir = out
	log, runErr := cmd.CombinedOutput()
	files, _ := filepath.Glob(filepath.Join(out, "*", "checks.json"))
	if len(files) != 1 {
		t.Fatalf("conformance: no results (%v)\n%s", runErr, log)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var checks []struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Error   string `json:"errorMessage"`
		Details struct {
			Untestable bool `json:"untestable"`
		} `json:"details"`
	}
	if err := json.Unmarshal(b, &checks); err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, c := range checks {
		switch {
		case c.Status == "SUCCESS":
			passed++
		case c.Status == "FAILURE" && c.Details.Untestable:
			// Checks that need the suite's own diagnostic tools
			// (test_missing_capability, test_logging_tool, ...), which a
			// real server does not have.
			t.Logf("not testable here: %s", c.ID)
		case c.Status == "SKIPPED" || c.Status == "INFO":
		default:
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Error)
		}
	}
	if passed < 20 {
		t.Fatalf("only %d checks passed\n%s", passed, log)
	}
}

// TestSubscriptionsListen: on 2026-07-28 a subscriptions/listen stream
// starts with the acknowledgement. graphgate's lists never change while a
// client holds them, so it agrees to no notification and ends the stream
// with its result instead of holding it open.
func TestSubscriptionsListen(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	token := agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), true)
	body := `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
		`"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}},"notifications":{"toolsListChanged":true}}}`
	// The deadline only keeps a broken server from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.URL+"/mcp", strings.NewReader(body))
	for k, v := range map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json",
		"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("listen: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var messages []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var m map[string]any
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatal(err)
			}
			messages = append(messages, m)
		}
	}
	if len(messages) != 2 || messages[0]["method"] != "notifications/subscriptions/acknowledged" || messages[1]["result"] == nil {
		t.Fatalf("listen stream: %v", messages)
	}
	if acked := messages[0]["params"].(map[string]any)["notifications"].(map[string]any); len(acked) != 0 {
		t.Fatalf("agreed to notifications graphgate never sends: %v", acked)
	}
}
