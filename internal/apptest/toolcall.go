package apptest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ToolCall posts one tools/call to graphgate's MCP endpoint at base as plain
// JSON-RPC over HTTP (the 2025-11-25 revision), as a load generator or a test
// that wants the raw answer does, and returns the status and body. args is
// the arguments object in JSON ("" for none).
func ToolCall(client *http.Client, base, token, tool, args string) (int, string, error) {
	if args == "" {
		args = "{}"
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// ClientCheckDir is scripts/mcp-client-check, where ./scripts/test installs
// the MCP clients and suites written in TypeScript. It skips the test with
// GRAPHGATE_SKIP_NODE=1 and fails it when a package named is missing.
func ClientCheckDir(t testing.TB, packages ...string) string {
	t.Helper()
	if os.Getenv("GRAPHGATE_SKIP_NODE") == "1" {
		t.Skip("GRAPHGATE_SKIP_NODE=1")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "mcp-client-check")
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p)); err != nil {
			t.Fatalf("%s is not installed: run npm ci in %s (./scripts/test does)", p, dir)
		}
	}
	return dir
}
