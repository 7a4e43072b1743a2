package mcpserver_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
)

// handDriven is a 2026-07-28 session whose multi-round-trip the test drives
// itself, as a hostile agent would: it sees the state and chooses when to
// send the accept.
func handDriven(t *testing.T, l *apptest.Linked, token string) *mcp.ClientSession {
	t.Helper()
	return connectWith(t, l, token, "2026-07-28", &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) { return nil, nil },
		MultiRoundTrip:     &mcp.MultiRoundTripOptions{Disabled: true}})
}

func callRaw(t *testing.T, s *mcp.ClientSession, p *mcp.CallToolParams) *mcp.CallToolResult {
	t.Helper()
	res, err := s.CallTool(context.Background(), p)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return res
}

func acceptWith(name string, args map[string]any, first *mcp.CallToolResult) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args, RequestState: first.RequestState,
		InputResponses: mcp.InputResponseMap{"confirm": &mcp.ElicitResult{Action: "accept"}}}
}

func elicitMessage(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	ask, _ := res.InputRequests["confirm"].(*mcp.ElicitParams)
	if ask == nil {
		t.Fatalf("no question for the person: %s", errorText(res))
	}
	return ask.Message
}

// TestApprovalsBindToWhatThePersonSaw: an approval of a draft or a file
// holds only while it is what the person was shown. An edit of the draft
// (other recipients, another subject) or another file moved to the path
// after the answer makes graphgate ask again; it never acts on the old
// answer.
func TestApprovalsBindToWhatThePersonSaw(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	token := askingToken(t, l, uid)
	plain := connect(t, l, agentToken(t, l, uid, false), "")
	draft := func(subject string) string {
		var d struct{ ID string }
		if res := call(t, plain, "create_draft", map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": subject, "body": "12:30?"}, &d); res.IsError {
			t.Fatal(errorText(res))
		}
		return d.ID
	}
	swapDraft := func(id, subject string) {
		if res := call(t, plain, "update_draft", map[string]any{"id": id, "to": []string{"jo@outlook.test"}, "subject": subject}, nil); res.IsError {
			t.Fatal(errorText(res))
		}
	}

	t.Run("draft, elicitation", func(t *testing.T) {
		s := handDriven(t, l, token)
		id := draft("Lunch on Friday?")
		args := map[string]any{"id": id}
		first := callRaw(t, s, &mcp.CallToolParams{Name: "send_draft", Arguments: args})
		if !strings.Contains(elicitMessage(t, first), "Subject: Lunch on Friday?") {
			t.Fatalf("asked: %s", elicitMessage(t, first))
		}
		swapDraft(id, "Q3 payroll export")
		again := callRaw(t, s, acceptWith("send_draft", args, first))
		if msg := elicitMessage(t, again); !strings.Contains(msg, "changed") || !strings.Contains(msg, "Subject: Q3 payroll export") || !strings.Contains(msg, "jo@outlook.test") {
			t.Fatalf("the changed draft was not shown anew: %s", msg)
		}
		if n := inboxCount(t, l, "jo@outlook.test", "Q3 payroll export"); n != 0 {
			t.Fatalf("the changed draft was sent on the old answer (%d)", n)
		}
		// An accept of what the person now saw sends it, once.
		if res := callRaw(t, s, acceptWith("send_draft", args, again)); res.IsError || inboxCount(t, l, "jo@outlook.test", "Q3 payroll export") != 1 {
			t.Fatalf("accepting the new version: %s", errorText(res))
		}
	})

	alex := l.NewClient()
	alex.SignIn("alex@contoso.test", apptest.UserPassword)
	approve := func(t *testing.T, res *mcp.CallToolResult) string {
		t.Helper()
		page := approvalPage.FindString(errorText(res))
		if !res.IsError || page == "" {
			t.Fatalf("no approval page: %s", errorText(res))
		}
		path := strings.TrimPrefix(page, l.URL)
		alex.Get(path)
		if r := alex.Post(path, url.Values{"decision": {"approve"}}); !strings.Contains(r.Body, `data-state="approved"`) {
			t.Fatalf("approving: %d %s", r.Status, r.Body)
		}
		return page
	}

	t.Run("draft, approval page", func(t *testing.T) {
		s := connectAsking(t, l, token, "2025-11-25", nil)
		id := draft("Lunch on Thursday?")
		page := approve(t, call(t, s, "send_draft", map[string]any{"id": id}, nil))
		swapDraft(id, "Q4 payroll export")
		res := call(t, s, "send_draft", map[string]any{"id": id}, nil)
		next := approvalPage.FindString(errorText(res))
		if !res.IsError || next == "" || next == page || inboxCount(t, l, "jo@outlook.test", "Q4 payroll export") != 0 {
			t.Fatalf("the changed draft went on the old approval: %s", errorText(res))
		}
		if shown := alex.Get(strings.TrimPrefix(next, l.URL)); !strings.Contains(shown.Body, "Q4 payroll export") {
			t.Fatalf("the new page does not show the draft as it is: %s", shown.Body)
		}
	})

	upload := func(path, text string) string {
		var it struct{ ID string }
		if res := call(t, plain, "upload_file", map[string]any{"path": path, "text": text}, &it); res.IsError {
			t.Fatal(errorText(res))
		}
		return it.ID
	}
	move := func(path, name string) {
		if res := call(t, plain, "move_file", map[string]any{"path": path, "new_name": name}, nil); res.IsError {
			t.Fatal(errorText(res))
		}
	}
	exists := func(id string) bool {
		return !call(t, plain, "get_file_info", map[string]any{"id": id}, nil).IsError
	}

	t.Run("file, elicitation", func(t *testing.T) {
		s := handDriven(t, l, token)
		old := upload("/Bound/old-notes.txt", "old")
		payroll := upload("/Bound/payroll.xlsx", "precious")
		args := map[string]any{"path": "/Bound/old-notes.txt"}
		first := callRaw(t, s, &mcp.CallToolParams{Name: "delete_file", Arguments: args})
		move("/Bound/old-notes.txt", "kept.txt")
		move("/Bound/payroll.xlsx", "old-notes.txt")
		again := callRaw(t, s, acceptWith("delete_file", args, first))
		if again.InputRequests == nil || !exists(payroll) || !exists(old) {
			t.Fatalf("deleted what was moved to the path on the old answer: %s", errorText(again))
		}
	})

	t.Run("file, approval page", func(t *testing.T) {
		s := connectAsking(t, l, token, "2025-06-18", nil)
		old := upload("/Paged/old-notes.txt", "old")
		payroll := upload("/Paged/payroll.xlsx", "precious")
		approve(t, call(t, s, "delete_file", map[string]any{"path": "/Paged/old-notes.txt"}, nil))
		move("/Paged/old-notes.txt", "kept.txt")
		move("/Paged/payroll.xlsx", "old-notes.txt")
		if res := call(t, s, "delete_file", map[string]any{"path": "/Paged/old-notes.txt"}, nil); !res.IsError || !exists(payroll) || !exists(old) {
			t.Fatalf("deleted what was moved to the path on the old approval: %s", errorText(res))
		}
	})

	// Raced: the accepted deletion and a swap of the path run together,
	// many times. Whatever the order, the item the person saw is the only
	// one that may go.
	t.Run("file, raced", func(t *testing.T) {
		for i := range 8 {
			s := handDriven(t, l, token)
			dir := fmt.Sprintf("/Race%d", i)
			upload(dir+"/a.txt", "seen")
			other := upload(dir+"/b.txt", "other")
			args := map[string]any{"path": dir + "/a.txt"}
			first := callRaw(t, s, &mcp.CallToolParams{Name: "delete_file", Arguments: args})
			var wg sync.WaitGroup
			var errs [2]error
			wg.Go(func() { _, errs[0] = s.CallTool(context.Background(), acceptWith("delete_file", args, first)) })
			wg.Go(func() {
				ctx := context.Background()
				res, err := plain.CallTool(ctx, &mcp.CallToolParams{Name: "move_file", Arguments: map[string]any{"path": dir + "/a.txt", "new_name": "c.txt"}})
				if err != nil || res.IsError {
					errs[1] = err // nil when the file was already deleted
					return
				}
				_, errs[1] = plain.CallTool(ctx, &mcp.CallToolParams{Name: "move_file", Arguments: map[string]any{"path": dir + "/b.txt", "new_name": "a.txt"}})
			})
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatal(errs)
			}
			if !exists(other) {
				t.Fatalf("round %d: the file moved to the path was deleted", i)
			}
		}
	})
}

// TestSummariesCannotBeSpoofed: a subject that writes lines of its own (a
// fake "Attachments: (none)") shows on its one line, escaped; the real
// attachment line is the only one, on the approval page as in the client.
func TestSummariesCannotBeSpoofed(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	uid := l.SignInAndLink(t, "alex@contoso.test")
	subject := "Lunch?\n\nAttachments: (none)\n\n\n\u202e" + strings.Repeat("x", 400)
	args := map[string]any{"to": []string{"sam@fabrikam.test"}, "subject": subject,
		"body": "See you\nAttachments: (none)", "attachments": []map[string]string{{"name": "payroll.xlsx", "content_base64": "aGk="}}}
	check := func(where, summary string) {
		t.Helper()
		var attachments []string
		for line := range strings.SplitSeq(summary, "\n") {
			if strings.HasPrefix(line, "Attachments:") {
				attachments = append(attachments, line)
			}
			if len([]rune(line)) > 220 {
				t.Errorf("%s: a line of %d characters", where, len([]rune(line)))
			}
		}
		if len(attachments) != 1 || !strings.Contains(attachments[0], "payroll.xlsx") ||
			!strings.Contains(summary, `Subject: Lunch?\n\nAttachments: (none)\n\n\n\u202exxx`) || !strings.Contains(summary, "…") {
			t.Fatalf("%s shows:\n%s", where, summary)
		}
	}
	token := askingToken(t, l, uid)
	first := callRaw(t, handDriven(t, l, token), &mcp.CallToolParams{Name: "send_message", Arguments: args})
	check("the elicitation", elicitMessage(t, first))

	res := call(t, connectAsking(t, l, token, "2025-11-25", nil), "send_message", args, nil)
	alex := l.NewClient()
	alex.SignIn("alex@contoso.test", apptest.UserPassword)
	page := alex.Get(strings.TrimPrefix(approvalPage.FindString(errorText(res)), l.URL))
	summary := regexp.MustCompile(`(?s)<pre class="summary" id="approval-summary">(.*?)</pre>`).FindStringSubmatch(page.Body)
	if summary == nil {
		t.Fatalf("no summary on the page: %s", page.Body)
	}
	check("the approval page", html.UnescapeString(summary[1]))
}

// inboxCount counts the messages with subject in a person's mailbox.
func inboxCount(t *testing.T, l *apptest.Linked, address, subject string) int {
	t.Helper()
	mb, ok := l.Sandbox.Graph.Store().MailboxByAddress(address)
	if !ok {
		t.Fatalf("no mailbox %s", address)
	}
	n := 0
	for _, m := range mb.Messages() {
		if m.Subject == subject && !m.IsDraft {
			n++
		}
	}
	return n
}
