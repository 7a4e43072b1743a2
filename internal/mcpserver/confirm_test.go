package mcpserver_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// approvalPage finds the approval page's address in a tool error.
var approvalPage = regexp.MustCompile(`https?://[^ ]+/approve/[A-Za-z0-9_-]+`)

// askingToken is an agent token with "ask me before sending or deleting".
func askingToken(t *testing.T, l *apptest.Linked, userID int64) string {
	t.Helper()
	token, display, hash := apitoken.New()
	if err := l.App.Store.CreateAPIToken(context.Background(), &graphgate.APIToken{UserID: userID, Kind: graphgate.TokenAgent,
		Name: "careful agent", Prefix: display, Hash: hash, ConfirmWrites: true}); err != nil {
		t.Fatal(err)
	}
	return token
}

// person answers elicitations as the test says, and remembers what it saw.
type person struct {
	mu     sync.Mutex
	answer string // accept, decline or cancel
	seen   []string
}

func (p *person) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, req.Params.Message)
	return &mcp.ElicitResult{Action: p.answer}, nil
}

func connectAsking(t *testing.T, l *apptest.Linked, token, version string, p *person) *mcp.ClientSession {
	t.Helper()
	opts := &mcp.ClientOptions{}
	if p != nil {
		opts.ElicitationHandler = p.handle
	}
	return connectWith(t, l, token, version, opts)
}

func sentCount(t *testing.T, l *apptest.Linked, subject string) int {
	t.Helper()
	mb, _ := l.Sandbox.Graph.Store().MailboxByAddress("sam@fabrikam.test")
	n := 0
	for _, m := range mb.Messages() {
		if m.Subject == subject {
			n++
		}
	}
	return n
}

func TestConfirmedWrites(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	token := askingToken(t, l, uid)
	send := func(s *mcp.ClientSession, subject string) *mcp.CallToolResult {
		return call(t, s, "send_message", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": subject,
			"body": "First line\nSecond line", "attachments": []map[string]string{{"name": "plan.txt", "content_base64": "aGk="}}}, nil)
	}

	// Accept: the person sees recipients, subject, first lines and
	// attachment names; the message goes once.
	yes := &person{answer: "accept"}
	s := connectAsking(t, l, token, "2026-07-28", yes)
	if res := send(s, "Accepted send"); res.IsError {
		t.Fatalf("accepted send: %s", errorText(res))
	}
	if n := sentCount(t, l, "Accepted send"); n != 1 || len(yes.seen) != 1 {
		t.Fatalf("accepted: delivered %d times, asked %d times", n, len(yes.seen))
	}
	for _, want := range []string{"Send this email?", "To: sam@fabrikam.test", "Subject: Accepted send", "First line", "Attachments: plan.txt"} {
		if !strings.Contains(yes.seen[0], want) {
			t.Errorf("the person was not shown %q:\n%s", want, yes.seen[0])
		}
	}

	// Decline and cancel: nothing goes, and the agent is told.
	for _, answer := range []string{"decline", "cancel"} {
		no := &person{answer: answer}
		res := send(connectAsking(t, l, token, "2026-07-28", no), "Declined "+answer)
		if !res.IsError || !strings.Contains(errorText(res), "did not accept") || sentCount(t, l, "Declined "+answer) != 0 {
			t.Fatalf("%s: %s", answer, errorText(res))
		}
	}

	// A client that cannot ask (no elicitation capability, or an earlier
	// revision): the person approves on graphgate's page, and the retry
	// with the same arguments goes, once.
	alex := l.NewClient()
	alex.SignIn("alex@contoso.test", apptest.UserPassword)
	for _, c := range []struct {
		version string
		p       *person
	}{{"2026-07-28", nil}, {"2025-11-25", &person{answer: "accept"}}, {"2025-06-18", nil}} {
		s := connectAsking(t, l, token, c.version, c.p)
		subject := "Approved on the page " + c.version
		res := send(s, subject)
		page := approvalPage.FindString(errorText(res))
		if !res.IsError || page == "" || sentCount(t, l, subject) != 0 {
			t.Fatalf("%s: %s", c.version, errorText(res))
		}
		// Asking again before the person answers gives the same page.
		if again := approvalPage.FindString(errorText(send(s, subject))); again != page {
			t.Fatalf("%s: a second page %s for the same call", c.version, again)
		}
		path := strings.TrimPrefix(page, l.URL)
		shown := alex.Get(path)
		for _, want := range []string{"send_message", "To: sam@fabrikam.test", "Subject: " + subject, "First line", "Attachments: plan.txt", "careful agent (ggt_"} {
			if !strings.Contains(shown.Body, want) {
				t.Fatalf("%s: the page does not show %q:\n%s", c.version, want, shown.Body)
			}
		}
		if r := alex.Post(path, url.Values{"decision": {"approve"}}); r.Status != 200 || !strings.Contains(r.Body, `data-state="approved"`) {
			t.Fatalf("%s: approving: %d %s", c.version, r.Status, r.Body)
		}
		// Other arguments are not approved by it.
		if res := send(s, subject+" (changed)"); !res.IsError || sentCount(t, l, subject+" (changed)") != 0 {
			t.Fatalf("%s: changed arguments went through", c.version)
		}
		if res := send(s, subject); res.IsError || sentCount(t, l, subject) != 1 {
			t.Fatalf("%s: after approval: %s", c.version, errorText(res))
		}
		// Once: the same call again asks again.
		if res := send(s, subject); !res.IsError || approvalPage.FindString(errorText(res)) == page || sentCount(t, l, subject) != 1 {
			t.Fatalf("%s: an approval was used twice: %s", c.version, errorText(res))
		}
	}

	// Declined on the page: the agent is told; nothing goes. Another
	// person cannot see or answer the page, and an answer is given once.
	s20 := connectAsking(t, l, token, "2025-11-25", nil)
	page := strings.TrimPrefix(approvalPage.FindString(errorText(send(s20, "Declined on the page"))), l.URL)
	sam := l.NewClient()
	l.SignInAndLink(t, "sam@fabrikam.test")
	sam.SignIn("sam@fabrikam.test", apptest.UserPassword)
	if r := sam.Get(page); r.Status != 404 || strings.Contains(r.Body, "Declined on the page") {
		t.Fatalf("another person sees the page: %d", r.Status)
	}
	sam.Get("/integrations")
	if r := sam.Post(page, url.Values{"decision": {"approve"}}); r.Status != 404 {
		t.Fatalf("another person answered: %d", r.Status)
	}
	// A form that did not come from graphgate's page changes nothing.
	if r := alex.Post(page, url.Values{"decision": {"approve"}, "csrf": {"forged"}}); r.Status != 403 {
		t.Fatalf("a forged approval: %d", r.Status)
	}
	alex.Get(page)
	if r := alex.Post(page, url.Values{"decision": {"decline"}}); !strings.Contains(r.Body, `data-state="declined"`) {
		t.Fatalf("declining: %s", r.Body)
	}
	alex.Get("/integrations")
	if r := alex.Post(page, url.Values{"decision": {"approve"}}); r.Status != 404 {
		t.Fatalf("a second answer: %d", r.Status)
	}
	if res := send(s20, "Declined on the page"); !res.IsError || !strings.Contains(errorText(res), "declined") || sentCount(t, l, "Declined on the page") != 0 {
		t.Fatalf("declined: %s", errorText(res))
	}

	// Deleting a message shows which one.
	var inbox struct {
		Messages []struct{ ID, Subject string } `json:"messages"`
	}
	call(t, s, "list_messages", map[string]any{"page_size": 1}, &inbox)
	if res := call(t, s, "delete_message", map[string]any{"id": inbox.Messages[0].ID}, nil); res.IsError {
		t.Fatal(errorText(res))
	}
	if last := yes.seen[len(yes.seen)-1]; !strings.Contains(last, "Deleted Items") || !strings.Contains(last, inbox.Messages[0].Subject) {
		t.Fatalf("delete confirmation:\n%s", last)
	}
	// Reading needs no confirmation.
	asked := len(yes.seen)
	call(t, s, "list_messages", map[string]any{"page_size": 1}, nil)
	if len(yes.seen) != asked {
		t.Fatal("a read asked the person")
	}
}

// TestConfirmationReplay drives the multi-round-trip by hand, as a hostile
// client would: an accept is spent once, and binds to the arguments.
func TestConfirmationReplay(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	s := connectWith(t, l, askingToken(t, l, uid), "2026-07-28", &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) { return nil, nil },
		MultiRoundTrip:     &mcp.MultiRoundTripOptions{Disabled: true}})
	args := map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Replayed", "body": "once"}
	first, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "send_message", Arguments: args})
	if err != nil || first.InputRequests == nil || first.RequestState == "" {
		t.Fatalf("first call: %+v %v", first, err)
	}
	accept := mcp.InputResponseMap{"confirm": &mcp.ElicitResult{Action: "accept"}}
	retry := func(args map[string]any, state string) *mcp.CallToolResult {
		res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "send_message", Arguments: args,
			InputResponses: accept, RequestState: state})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The accept for "Replayed" does not send another message.
	other := map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": "Smuggled", "body": "twice"}
	if res := retry(other, first.RequestState); !res.IsError || sentCount(t, l, "Smuggled") != 0 {
		t.Fatalf("an accept sent other arguments: %s", errorText(res))
	}
	// A state of the caller's own making is refused.
	if res := retry(args, "eyJuIjoieCIsImUiOjk5OTk5OTk5OTl9.AAAAAAAAAAAAAAAAAAAAAA"); !res.IsError {
		t.Fatal("a forged state was accepted")
	}
	if res := retry(args, first.RequestState); res.IsError || sentCount(t, l, "Replayed") != 1 {
		t.Fatalf("the accepted call: %s", errorText(res))
	}
	// The same accept again: nothing sent a second time.
	if res := retry(args, first.RequestState); !res.IsError || !strings.Contains(errorText(res), "already used") || sentCount(t, l, "Replayed") != 1 {
		t.Fatalf("replay: %s, delivered %d", errorText(res), sentCount(t, l, "Replayed"))
	}
}
