package mcpserver_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// The fault matrix of docs/reliability.md: each row's trouble is made
// through the sandbox's control API over HTTP, as an operator would.

// trouble posts to the sandbox's control API.
func trouble(t *testing.T, l *apptest.Linked, path, body string) {
	t.Helper()
	resp, err := http.Post(l.SandboxURL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, b)
	}
}

func clearTrouble(t *testing.T, l *apptest.Linked) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, l.SandboxURL+"/sandbox/faults", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	l.Sandbox.ResetRequests()
}

// expireAccess makes the person's stored access token due for a refresh.
func expireAccess(t *testing.T, l *apptest.Linked, userID int64) {
	t.Helper()
	if _, err := l.App.Store.UpdateLink(context.Background(), userID, func(x *graphgate.Link) (*graphgate.Link, error) {
		x.AccessExpiresAt = time.Now().Add(-time.Minute)
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// hits counts the requests the sandbox saw on routes starting with prefix,
// those a fault answered included.
func hits(l *apptest.Linked, prefix string) int {
	n := 0
	for route, c := range l.Sandbox.Requests() {
		if strings.HasPrefix(route, prefix) {
			n += c
		}
	}
	return n
}

const inboxPath = `^/v1.0/me/mailFolders/inbox/messages$`

func TestFaultMatrixGraph(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, alex, false), "")
	list := func() *mcp.CallToolResult { return call(t, s, "list_messages", map[string]any{"page_size": 3}, nil) }
	inboxCalls := func() int { return hits(l, "GET /v1.0/me/mailFolders/") }
	sends := func() int { return hits(l, "POST /v1.0/me/sendMail") }

	for _, tc := range []struct {
		name, fault string
		wantErr     string // "" when the call must succeed
		wantCalls   int    // Graph requests the call made, 0 to skip the check
	}{
		{"429 with an integer Retry-After, within the budget", `{"method":"GET","path":"` + inboxPath + `","status":429,"retryAfter":"1","times":1}`, "", 2},
		{"429 with a fractional Retry-After", `{"method":"GET","path":"` + inboxPath + `","status":429,"retryAfter":"0.25","times":2}`, "", 3},
		{"429 beyond the wait budget", `{"method":"GET","path":"` + inboxPath + `","status":429,"retryAfter":"120"}`, "throttling this mailbox; try again in 2m0s", 1},
		{"500 on a read", `{"method":"GET","path":"` + inboxPath + `","status":500,"times":1}`, "InternalServerError", 1},
		{"502 on a read, retried", `{"method":"GET","path":"` + inboxPath + `","status":502,"times":1}`, "", 2},
		{"503 on a read, retried", `{"method":"GET","path":"` + inboxPath + `","status":503,"times":2}`, "", 3},
		{"504 on a read, retried", `{"method":"GET","path":"` + inboxPath + `","status":504,"times":1}`, "", 2},
		{"503 on every try of a read", `{"method":"GET","path":"` + inboxPath + `","status":503}`, "ServiceUnavailable", 4},
		{"connection dropped before a read was handled, retried", `{"method":"GET","path":"` + inboxPath + `","drop":"before","times":1}`, "", 0},
		{"connection dropped after a read was handled, retried", `{"method":"GET","path":"` + inboxPath + `","drop":"after","times":1}`, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearTrouble(t, l)
			trouble(t, l, "/sandbox/faults", tc.fault)
			res := list()
			switch {
			case tc.wantErr == "" && res.IsError:
				t.Fatalf("failed: %s", errorText(res))
			case tc.wantErr != "" && (!res.IsError || !strings.Contains(errorText(res), tc.wantErr)):
				t.Fatalf("want an error with %q, got %v %s", tc.wantErr, res.IsError, errorText(res))
			}
			if tc.wantCalls > 0 && inboxCalls() != tc.wantCalls {
				t.Fatalf("%d Graph requests, want %d", inboxCalls(), tc.wantCalls)
			}
		})
	}

	// Sends are never repeated after a 5xx or a lost connection: whatever
	// happened, Graph saw one request, and the tool says what to check.
	send := map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Fault matrix", "body": "Hello"}
	for _, tc := range []struct {
		name, fault, wantErr string
	}{
		{"500 on a send", `{"method":"POST","path":"^/v1.0/me/sendMail$","status":500,"times":1}`, "InternalServerError"},
		{"502 on a send", `{"method":"POST","path":"^/v1.0/me/sendMail$","status":502,"times":1}`, "BadGateway"},
		{"503 on a send", `{"method":"POST","path":"^/v1.0/me/sendMail$","status":503,"times":1}`, "ServiceUnavailable"},
		{"504 on a send", `{"method":"POST","path":"^/v1.0/me/sendMail$","status":504,"times":1}`, "GatewayTimeout"},
		{"connection dropped before the send was handled", `{"method":"POST","path":"^/v1.0/me/sendMail$","drop":"before","times":1}`, "Sent Items"},
		{"connection dropped after the send was handled", `{"method":"POST","path":"^/v1.0/me/sendMail$","drop":"after","times":1}`, "Sent Items"},
		{"429 on a send is repeated: nothing was sent", `{"method":"POST","path":"^/v1.0/me/sendMail$","status":429,"retryAfter":"0.1","times":1}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearTrouble(t, l)
			trouble(t, l, "/sandbox/faults", tc.fault)
			res := call(t, s, "send_message", send, nil)
			if tc.wantErr == "" {
				if res.IsError || sends() != 2 {
					t.Fatalf("throttled send: %v %s, %d requests", res.IsError, errorText(res), sends())
				}
				return
			}
			if !res.IsError || !strings.Contains(errorText(res), tc.wantErr) {
				t.Fatalf("want an error with %q, got %v %s", tc.wantErr, res.IsError, errorText(res))
			}
			if sends() != 1 {
				t.Fatalf("the send reached Graph %d times", sends())
			}
		})
	}

	t.Run("Graph slower than the deadline", func(t *testing.T) {
		clearTrouble(t, l)
		old := l.App.GraphHTTP.Timeout
		l.App.GraphHTTP.Timeout = 300 * time.Millisecond
		defer func() { l.App.GraphHTTP.Timeout = old }()
		trouble(t, l, "/sandbox/faults", `{"method":"GET","path":"`+inboxPath+`","delay":"3s"}`)
		if res := list(); !res.IsError || !strings.Contains(errorText(res), "did not answer in time") {
			t.Fatalf("slow Graph: %v %s", res.IsError, errorText(res))
		}
		clearTrouble(t, l)
		if res := list(); res.IsError {
			t.Fatalf("after Graph recovered: %s", errorText(res))
		}
	})
}

func TestFaultMatrixTokenEndpoint(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	for _, tc := range []struct {
		person, action, words string
	}{
		{"alex@contoso.test", "revoke", "password was changed or reset"},
		{"sam@fabrikam.test", "expire-grants", "90 days without use"},
		{"jo@outlook.test", "withdraw-consent", "Consent for graphgate was withdrawn"},
		{"alex@contoso.test", "require-mfa", "requires multi-factor authentication: sign in again"},
		{"alex@contoso.test", "require-mfa-enrollment", "set it up for your account"},
		{"alex@contoso.test", "block-conditional-access", "Conditional Access policy"},
	} {
		t.Run("invalid_grant: "+tc.action, func(t *testing.T) {
			clearTrouble(t, l)
			id := l.SignInAndLink(t, tc.person)
			s := connect(t, l, agentToken(t, l, id, true), "")
			trouble(t, l, "/sandbox/people/"+tc.person+"/"+tc.action, "")
			expireAccess(t, l, id)
			res := call(t, s, "get_profile", nil, nil)
			if !res.IsError || !strings.Contains(errorText(res), tc.words) || !strings.Contains(errorText(res), "Reconnect") {
				t.Fatalf("tool error: %s", errorText(res))
			}
			c := l.NewClient()
			c.SignIn(tc.person, apptest.UserPassword)
			if page := c.Get("/integrations").Body; !strings.Contains(page, `data-state="reconnect"`) || !strings.Contains(page, tc.words) {
				t.Fatalf("tile does not say %q", tc.words)
			}
			// Only one refresh was spent; the next call does not try again.
			call(t, s, "get_profile", nil, nil)
			if n := l.Sandbox.Requests()["grant_type=refresh_token"]; n != 1 {
				t.Fatalf("%d refreshes", n)
			}
		})
	}

	alex := l.SignInAndLink(t, "alex@contoso.test")
	s := connect(t, l, agentToken(t, l, alex, true), "")
	for _, tc := range []struct {
		name, fault string
	}{
		{"token endpoint 503", `{"path":"/oauth2/v2.0/token$","status":503,"times":1}`},
		{"token endpoint 500", `{"path":"/oauth2/v2.0/token$","status":500,"times":1}`},
		{"token endpoint unreachable", `{"path":"/oauth2/v2.0/token$","drop":"before","times":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearTrouble(t, l)
			trouble(t, l, "/sandbox/faults", tc.fault)
			expireAccess(t, l, alex)
			res := call(t, s, "get_profile", nil, nil)
			if !res.IsError || !strings.Contains(errorText(res), "did not answer") || !strings.Contains(errorText(res), "Try again") {
				t.Fatalf("tool error: %s", errorText(res))
			}
			if link, _ := l.App.Store.Link(context.Background(), alex); link.NeedsAttention() {
				t.Fatalf("a passing failure marked the link: %s", link.Reason)
			}
			if res := call(t, s, "get_profile", nil, nil); res.IsError {
				t.Fatalf("the next call, with the endpoint back: %s", errorText(res))
			}
		})
	}
	t.Run("token endpoint slower than the deadline", func(t *testing.T) {
		clearTrouble(t, l)
		old := l.App.LoginHTTP.Timeout
		l.App.LoginHTTP.Timeout = 300 * time.Millisecond
		defer func() { l.App.LoginHTTP.Timeout = old }()
		trouble(t, l, "/sandbox/faults", `{"path":"/oauth2/v2.0/token$","delay":"3s","times":1}`)
		expireAccess(t, l, alex)
		res := call(t, s, "get_profile", nil, nil)
		if !res.IsError || !strings.Contains(errorText(res), "did not answer") {
			t.Fatalf("tool error: %s", errorText(res))
		}
		if link, _ := l.App.Store.Link(context.Background(), alex); link.NeedsAttention() {
			t.Fatalf("a timeout marked the link: %s", link.Reason)
		}
	})

	for _, tc := range []struct {
		name, action, words string
	}{
		{"invalid_client: the secret expired (AADSTS7000222)", `{"action":"expire"}`, "AADSTS7000222"},
		{"invalid_client: the secret was replaced (AADSTS7000215)", `{"action":"replace","value":"new8Q~someOtherSecretValue000000000000001"}`, "AADSTS7000215"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearTrouble(t, l)
			trouble(t, l, "/sandbox/app/secrets", tc.action)
			expireAccess(t, l, alex)
			res := call(t, s, "get_profile", nil, nil)
			if !res.IsError || !strings.Contains(errorText(res), tc.words) || !strings.Contains(errorText(res), "admin must fix") {
				t.Fatalf("tool error: %s", errorText(res))
			}
			if link, _ := l.App.Store.Link(context.Background(), alex); link.NeedsAttention() {
				t.Fatal("the app's problem marked the person's link")
			}
			cfg, _ := l.App.Store.M365Config(context.Background())
			if cfg.Status() != graphgate.StatusNeedsAttention || !strings.Contains(cfg.Attention, tc.words) {
				t.Fatalf("integration: %s %q", cfg.Status(), cfg.Attention)
			}
		})
	}
}
