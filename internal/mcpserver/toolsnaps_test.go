package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// TestToolSnapshots compares every tool's definition (name, title,
// description, annotations, input and output schema) with its golden file in
// __toolsnaps__. A changed schema is a reviewed diff, never an accident:
// rewrite the files only with UPDATE_TOOLSNAPS=true.
func TestToolSnapshots(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, false)
	list := func() *mcp.ListToolsResult {
		res, err := connect(t, l, token, "").ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The base contract's list, then with every capability granted.
	raw, _ := json.Marshal(list())
	t.Logf("tools/list, base: %d bytes", len(raw))
	if len(raw) > 41<<10 {
		t.Errorf("the base tools/list is %d bytes, over the 41 KB budget", len(raw))
	}
	// A client that shows MCP Apps also gets the views: each tool's _meta,
	// the resources, and with a token that asks first the approval card and
	// decide_approval. They count against the same budget.
	apps := connectApps(t, l, askingToken(t, l, alex), "2026-07-28", nil)
	appsSize := func() int {
		tools, err := apps.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resources, err := apps.ListResources(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(tools)
		b, _ := json.Marshal(resources)
		return len(a) + len(b)
	}
	size := appsSize()
	t.Logf("tools/list and resources/list for a client with MCP Apps, base: %d bytes", size)
	if size > 41<<10 {
		t.Errorf("the base tools/list and resources/list for a client with MCP Apps are %d bytes, over the 41 KB budget", size)
	}
	var all []string
	for _, c := range graphgate.Capabilities {
		all = append(all, c.Name)
	}
	if _, err := l.App.Web.Admin().SetCapabilities(context.Background(), nil, all); err != nil {
		t.Fatal(err)
	}
	l.GrantForOrganisation(t) // channel messages need an admin
	c := l.NewClient()
	c.SignIn("alex@contoso.test", apptest.UserPassword)
	l.AllowMore(t, c, "alex@contoso.test", "accept")
	res := list()
	raw, _ = json.Marshal(res)
	t.Logf("tools/list, every capability: %d bytes, %d tools", len(raw), len(res.Tools))
	if len(raw) > 75<<10 {
		t.Errorf("tools/list with every capability is %d bytes, over the 75 KB budget", len(raw))
	}
	size = appsSize()
	t.Logf("tools/list and resources/list for a client with MCP Apps, every capability: %d bytes", size)
	if size > 75<<10 {
		t.Errorf("tools/list and resources/list for a client with MCP Apps and every capability are %d bytes, over the 75 KB budget", size)
	}
	// Each capability's own tools stay small: turning one on must not
	// crowd an agent's context.
	for _, c := range graphgate.Capabilities {
		size := 0
		for _, tool := range res.Tools {
			if owner, _ := graphgate.CapabilityOfTool(tool.Name); owner != nil && owner.Name == c.Name {
				b, _ := json.Marshal(tool)
				size += len(b)
			}
		}
		t.Logf("capability %s: its tools take %d bytes", c.Name, size)
		if size > 9<<10 {
			t.Errorf("capability %s's tools take %d bytes, over the 9 KB budget", c.Name, size)
		}
	}
	// An argument of another mailbox or a library is declared by a
	// capability, or it would be offered to everyone and ignored.
	for _, tool := range res.Tools {
		if owner, _ := graphgate.CapabilityOfTool(tool.Name); owner != nil {
			continue // a capability's own tool: all of it is gated
		}
		props, _ := tool.InputSchema.(map[string]any)["properties"].(map[string]any)
		for _, p := range []string{"mailbox", "owner", "site", "drive"} {
			if _, ok := props[p]; ok {
				if _, declared := graphgate.CapabilityOfParam(tool.Name, p); declared == nil {
					t.Errorf("%s takes %s, which no capability declares", tool.Name, p)
				}
			}
		}
	}
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	seen := map[string]bool{}
	for _, tool := range res.Tools {
		seen[tool.Name+".snap"] = true
		got, err := json.MarshalIndent(tool, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		// Icons are on graphgate's own URL, which differs from run to run.
		got = append(bytes.ReplaceAll(got, []byte(l.URL), []byte("https://graphgate.example")), '\n')
		path := filepath.Join("__toolsnaps__", tool.Name+".snap")
		if update {
			if err := os.MkdirAll("__toolsnaps__", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("no snapshot for %s: run with UPDATE_TOOLSNAPS=true and review the new file", tool.Name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("tool %s changed from its snapshot %s:\n%s\nrun with UPDATE_TOOLSNAPS=true if the change is intended", tool.Name, path, got)
		}
	}
	files, _ := filepath.Glob(filepath.Join("__toolsnaps__", "*.snap"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no tool any more: delete it", f)
		}
	}
}
