package mcpserver_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// TestTypeScriptClient has the official TypeScript MCP client (a client we
// did not write) list the tools and call a read and a write tool, and
// tools of capabilities, over 2026-07-28; and, declaring MCP Apps, sees
// the views. ./scripts/test installs its npm packages.
func TestTypeScriptClient(t *testing.T) {
	dir := apptest.ClientCheckDir(t, "@modelcontextprotocol/client")
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	token := agentToken(t, l, l.SignInAndLink(t, "alex@contoso.test"), false)
	setCapabilities(t, l, "calendar.write", "people", "teams.chats", "sharepoint", "tasks")
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
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
		People     []string `json:"people"`
		EventStart string   `json:"eventStart"`
		Chats      int      `json:"chats"`
		Site       string   `json:"site"`
		Library    []string `json:"library"`
		Tasks      int      `json:"tasks"`
		PlainView  string   `json:"plainView"`
		AppsView   string   `json:"appsView"`
		Resources  []string `json:"resources"`
		ViewMime   string   `json:"viewMime"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if !slices.Contains(got.Tools, "list_messages") || got.ReadError || got.Messages != 3 || got.WriteError || got.Folder != "/From TypeScript" {
		t.Fatalf("TypeScript client saw %+v", got)
	}
	if !slices.Contains(got.People, "megan@contoso.test") || got.EventStart != "2026-12-21T09:00:00+01:00" {
		t.Fatalf("TypeScript client's capability tools: %+v", got)
	}
	if got.Chats != 3 || got.Site != "Contoso Marketing" || !slices.Contains(got.Library, "Press release.docx") || got.Tasks == 0 {
		t.Fatalf("TypeScript client's Teams, SharePoint and To Do tools: %+v", got)
	}
	// MCP Apps: only the client that declares them sees the views.
	if got.PlainView != "" || got.AppsView != "ui://graphgate/message" || !slices.Contains(got.Resources, "ui://graphgate/calendar") ||
		got.ViewMime != "text/html;profile=mcp-app" {
		t.Fatalf("TypeScript clients and MCP Apps: %+v", got)
	}
}
