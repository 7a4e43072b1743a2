package mcpserver_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// TestTypeScriptClient has the official TypeScript MCP client (a client we
// did not write) list the tools and call a read and a write tool over
// 2026-07-28. ./scripts/test installs its npm packages.
func TestTypeScriptClient(t *testing.T) {
	if os.Getenv("GRAPHGATE_SKIP_NODE") == "1" {
		t.Skip("GRAPHGATE_SKIP_NODE=1")
	}
	dir, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "mcp-client-check"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "client")); err != nil {
		t.Fatalf("the TypeScript client is not installed: run npm ci in %s (./scripts/test does)", dir)
	}
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	token := agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false)
	cmd := exec.Command("node", "check.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GRAPHGATE_MCP_URL="+l.URL+"/mcp", "GRAPHGATE_MCP_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node check.mjs: %v\n%s", err, out)
	}
	var got struct {
		Tools      []string `json:"tools"`
		ReadError  bool     `json:"readError"`
		Messages   int      `json:"messages"`
		WriteError bool     `json:"writeError"`
		Folder     string   `json:"folder"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if !slices.Contains(got.Tools, "list_messages") || got.ReadError || got.Messages != 3 || got.WriteError || got.Folder != "/From TypeScript" {
		t.Fatalf("TypeScript client saw %+v", got)
	}
}
