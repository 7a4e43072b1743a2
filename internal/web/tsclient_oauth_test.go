package web_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"graphgate/internal/apptest"
	"graphgate/internal/browsertest"
	"graphgate/internal/sandbox"
)

// TestTypeScriptClientOAuth: the official TypeScript MCP client connects with
// graphgate's URL alone, using its own OAuth support (discovery, Dynamic
// Client Registration, PKCE, loopback redirect); Chromium signs in and
// clicks Allow; the client then lists the tools and calls one. A client we
// did not write checks the authorization server.
func TestTypeScriptClientOAuth(t *testing.T) {
	dir := apptest.ClientCheckDir(t, "@modelcontextprotocol/client")
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	l.SignInAndLink(t, "alex@contoso.test")
	ctx := browsertest.New(t)

	cmd := exec.Command("node", "oauth.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GRAPHGATE_MCP_URL="+l.URL+"/mcp")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	next := func() string {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("node ended early: %s", stderr.String())
			}
			return line
		case <-time.After(60 * time.Second):
			t.Fatalf("node said nothing: %s", stderr.String())
		}
		return ""
	}
	var step struct {
		Authorize string `json:"authorize"`
	}
	if err := json.Unmarshal([]byte(next()), &step); err != nil || !strings.HasPrefix(step.Authorize, l.URL+"/oauth/authorize?") {
		t.Fatalf("first line: %v %+v", err, step)
	}
	do(t, ctx,
		chromedp.Navigate(step.Authorize),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "alex@contoso.test"),
		chromedp.SendKeys(`#password`, apptest.UserPassword),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#allow`),
	)
	if got := text(t, ctx); !strings.Contains(got, "TypeScript MCP client") {
		t.Fatalf("consent page:\n%s", got)
	}
	// Allow reading only.
	do(t, ctx, chromedp.Click(`#consent-readonly`), chromedp.Click(`#allow`))
	var got struct {
		Tools        []string `json:"tools"`
		ProfileError bool     `json:"profileError"`
		Email        string   `json:"email"`
		Scope        string   `json:"scope"`
	}
	if err := json.Unmarshal([]byte(next()), &got); err != nil {
		t.Fatalf("result: %v\n%s", err, stderr.String())
	}
	if got.ProfileError || !slices.Contains(got.Tools, "get_profile") || slices.Contains(got.Tools, "send_message") || got.Scope != "mail.read calendar.read files.read profile people.read tasks.read teams.read" {
		t.Fatalf("the TypeScript client saw %+v", got)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
}
