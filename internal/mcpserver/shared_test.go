package mcpserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

func hasParam(t *testing.T, l *apptest.Linked, token, tool, param string) bool {
	t.Helper()
	res, err := connect(t, l, token, "").ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range res.Tools {
		if tl.Name == tool {
			b, _ := tl.InputSchema.(map[string]any)
			props, _ := b["properties"].(map[string]any)
			_, ok := props[param]
			return ok
		}
	}
	t.Fatalf("no tool %s", tool)
	return false
}

// The shared_mailboxes capability: the mail reading tools and send_message
// take a mailbox, list_events and get_event an owner, once granted; Exchange
// decides who may open what; cursors are bound to the mailbox.
func TestSharedMailboxes(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, false)
	support := map[string]any{"mailbox": "support@contoso.test", "page_size": 3}

	if hasParam(t, l, token, "list_messages", "mailbox") {
		t.Fatal("mailbox offered while the capability is off")
	}
	s := connect(t, l, token, "")
	if res := call(t, s, "list_messages", support, nil); !res.IsError || !strings.Contains(errorText(res), "shared_mailboxes") {
		t.Fatalf("a shared mailbox while off: %s", errorText(res))
	}
	setCapabilities(t, l, "shared_mailboxes")
	if res := call(t, connect(t, l, token, ""), "list_messages", support, nil); !res.IsError || !strings.Contains(errorText(res), "Mail.Read.Shared") {
		t.Fatalf("a shared mailbox before allowing it: %s", errorText(res))
	}
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
	if !hasParam(t, l, token, "list_messages", "mailbox") || !hasParam(t, l, token, "list_events", "owner") || hasParam(t, l, token, "list_files", "mailbox") {
		t.Fatal("the arguments are not offered once granted")
	}

	s = connect(t, l, token, "")
	var page struct {
		Messages []struct {
			ID, Subject string
		}
		NextCursor string `json:"next_cursor"`
	}
	mustCall(t, s, "list_messages", support, &page)
	shared := sandboxMailbox(t, l, "support@contoso.test")
	if len(page.Messages) != 3 || !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool { return m.ID == page.Messages[0].ID }) {
		t.Fatalf("support's messages: %+v", page)
	}
	var msg struct{ ID, Subject string }
	mustCall(t, s, "get_message", map[string]any{"mailbox": "support@contoso.test", "id": page.Messages[0].ID}, &msg)
	if msg.Subject != page.Messages[0].Subject {
		t.Fatalf("get_message in support: %+v", msg)
	}
	// Without the mailbox, the id is looked for in alex's own: not there.
	if res := call(t, s, "get_message", map[string]any{"id": page.Messages[0].ID}, nil); !res.IsError {
		t.Error("support's message found in alex's own mailbox")
	}
	var more struct{ Messages []struct{ ID string } }
	mustCall(t, s, "list_messages", map[string]any{"cursor": page.NextCursor}, &more)
	if len(more.Messages) == 0 || !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool { return m.ID == more.Messages[0].ID }) {
		t.Fatalf("the cursor did not continue support's listing: %+v", more)
	}
	var events struct{ Events []struct{ ID string } }
	mustCall(t, s, "list_events", map[string]any{"owner": "support@contoso.test"}, &events)
	mustCall(t, s, "search_messages", map[string]any{"mailbox": "support@contoso.test", "query": "budget"}, nil)

	// The audit log says which mailbox a call opened.
	audit, _, _ := l.App.Store.ListAudit(t.Context(), graphgate.AuditFilter{Action: graphgate.ActionToolCall})
	if !slices.ContainsFunc(audit, func(e *graphgate.AuditEvent) bool { return e.Details["mailbox"] == "support@contoso.test" }) {
		t.Error("no audit event names the shared mailbox")
	}

	// Send As the shared mailbox.
	mustCall(t, s, "send_message", map[string]any{"mailbox": "support@contoso.test", "to": []string{"megan@contoso.test"},
		"subject": "From support", "body": "Hello"}, nil)
	got := slices.IndexFunc(sandboxMailbox(t, l, "megan@contoso.test").Messages(), func(m *graph.Message) bool {
		return m.Subject == "From support" && m.From != nil && m.From.EmailAddress.Address == "support@contoso.test"
	})
	if got < 0 {
		t.Fatal("megan got nothing from support")
	}

	// An attachment of support's, through a one-time link that works only
	// while the capability does.
	var withFile *graph.Message
	var file *graph.Attachment
	for _, m := range shared.Messages() {
		for _, a := range m.Attachments {
			if !strings.HasPrefix(a.ContentType, "text/") && withFile == nil {
				withFile, file = m, a
			}
		}
	}
	if withFile == nil {
		t.Fatal("support has no message with a file attached")
	}
	var att struct {
		DownloadURL string `json:"download_url"`
	}
	link := func() string {
		mustCall(t, connect(t, l, token, ""), "get_attachment", map[string]any{"mailbox": "support@contoso.test", "message_id": withFile.ID,
			"attachment_id": file.ID}, &att)
		return att.DownloadURL
	}
	if resp, err := http.Get(link()); err != nil || resp.StatusCode != 200 {
		t.Fatalf("support's attachment: %v %v", err, resp)
	}
	stale := link()

	// Filing and answering in support: each acts there, not in alex's own.
	target := page.Messages[1].ID
	mustCall(t, s, "update_message", map[string]any{"mailbox": "support@contoso.test", "id": target, "is_read": true, "flag": "flagged"}, nil)
	var moved struct{ ID string }
	mustCall(t, s, "move_message", map[string]any{"mailbox": "support@contoso.test", "id": target, "folder": "archive"}, &moved)
	if !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool {
		return m.ID == moved.ID && m.ParentFolderID == shared.Folder("archive").ID
	}) {
		t.Fatalf("the message did not move within support: %+v", moved)
	}
	mustCall(t, s, "reply_to_message", map[string]any{"mailbox": "support@contoso.test", "id": page.Messages[2].ID, "comment": "On it"}, nil)
	if !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool {
		return strings.HasPrefix(m.Subject, "RE: ") && m.From != nil && m.From.EmailAddress.Address == "support@contoso.test"
	}) {
		t.Error("the reply did not go from support")
	}
	mustCall(t, s, "delete_message", map[string]any{"mailbox": "support@contoso.test", "id": moved.ID}, nil)
	if !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool {
		return m.ID != moved.ID && m.ParentFolderID == shared.Folder("deleteditems").ID
	}) {
		t.Error("nothing reached support's Deleted Items")
	}

	// A draft in support, edited and sent from it.
	var draft struct{ ID string }
	mustCall(t, s, "create_draft", map[string]any{"mailbox": "support@contoso.test", "to": []string{"megan@contoso.test"}, "subject": "Support draft"}, &draft)
	mustCall(t, s, "update_draft", map[string]any{"mailbox": "support@contoso.test", "id": draft.ID, "body": "Checked."}, nil)
	mustCall(t, s, "send_draft", map[string]any{"mailbox": "support@contoso.test", "id": draft.ID}, nil)
	if !slices.ContainsFunc(sandboxMailbox(t, l, "megan@contoso.test").Messages(), func(m *graph.Message) bool {
		return m.Subject == "Support draft" && m.From != nil && m.From.EmailAddress.Address == "support@contoso.test"
	}) {
		t.Error("the draft did not go from support")
	}

	// A large file sent from support: the draft waits in support's Drafts,
	// the upload attaches there and the last one sends it from support.
	var big struct {
		DraftID string `json:"draft_id"`
		Uploads []struct {
			UploadURL string `json:"upload_url"`
		} `json:"uploads"`
	}
	mustCall(t, s, "send_message", map[string]any{"mailbox": "support@contoso.test", "to": []string{"megan@contoso.test"}, "subject": "Big from support",
		"body": "The scan.", "large_attachments": []map[string]string{{"name": "scan.pdf", "content_type": "application/pdf"}}}, &big)
	if len(big.Uploads) != 1 || !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool { return m.ID == big.DraftID && m.IsDraft }) {
		t.Fatalf("the draft is not in support's Drafts: %+v", big)
	}
	if status, body := putUpload(t, big.Uploads[0].UploadURL, 3<<20+7); status != http.StatusCreated || !strings.Contains(body, `"sent":true`) {
		t.Fatalf("upload to support's draft: %d %s", status, body)
	}
	if !slices.ContainsFunc(sandboxMailbox(t, l, "megan@contoso.test").Messages(), func(m *graph.Message) bool {
		return m.Subject == "Big from support" && m.From.EmailAddress.Address == "support@contoso.test" &&
			len(m.Attachments) == 1 && len(m.Attachments[0].ContentBytes) == 3<<20+7
	}) {
		t.Error("the large attachment did not go from support")
	}
	var waiting struct {
		ID      string
		Uploads []struct {
			UploadURL string `json:"upload_url"`
		} `json:"uploads"`
	}
	mustCall(t, s, "create_draft", map[string]any{"mailbox": "support@contoso.test", "subject": "Later",
		"large_attachments": []map[string]string{{"name": "later.bin"}}}, &waiting)

	// What changed in support: its own round, its own cursor.
	var changes struct {
		Changes       []struct{ ID string }
		NextCursor    string `json:"next_cursor"`
		ChangesCursor string `json:"changes_cursor"`
	}
	inbox := map[string]any{"source": "mail", "mailbox": "support@contoso.test", "page_size": 200}
	mustCall(t, s, "list_changes", inbox, &changes)
	if len(changes.Changes) == 0 || !slices.ContainsFunc(shared.Messages(), func(m *graph.Message) bool { return m.ID == changes.Changes[0].ID }) {
		t.Fatalf("support's inbox changes: %d, first %+v", len(changes.Changes), changes.Changes[:min(1, len(changes.Changes))])
	}
	for rounds := 0; changes.NextCursor != ""; rounds++ {
		if rounds == 20 {
			t.Fatal("the round never ends")
		}
		next := changes.NextCursor
		changes.NextCursor = ""
		mustCall(t, s, "list_changes", map[string]any{"source": "mail", "mailbox": "support@contoso.test", "cursor": next}, &changes)
	}
	if res := call(t, s, "list_changes", map[string]any{"source": "mail", "cursor": changes.ChangesCursor}, nil); !res.IsError {
		t.Error("support's changes cursor continued in alex's own mailbox")
	}
	if res := call(t, s, "list_changes", map[string]any{"source": "files", "mailbox": "support@contoso.test"}, nil); !res.IsError {
		t.Error("a mailbox with OneDrive's changes")
	}
	shared.AddMessage(&graph.Message{Subject: "New for support", ParentFolderID: shared.Folder("inbox").ID, ReceivedDateTime: time.Now(),
		From: &graph.Recipient{EmailAddress: graph.EmailAddress{Address: "megan@contoso.test"}}})
	var since struct {
		Changes []struct {
			Message *struct{ Subject string }
		}
	}
	mustCall(t, s, "list_changes", map[string]any{"source": "mail", "mailbox": "support@contoso.test", "cursor": changes.ChangesCursor}, &since)
	if len(since.Changes) != 1 || since.Changes[0].Message == nil || since.Changes[0].Message.Subject != "New for support" {
		t.Fatalf("what changed in support since: %+v", since)
	}

	// What Exchange refuses, in Microsoft's words.
	for _, tc := range []struct {
		tool string
		args map[string]any
		says string
	}{
		{"list_messages", map[string]any{"mailbox": "megan@contoso.test"}, "ErrorAccessDenied"},
		{"list_messages", map[string]any{"mailbox": "nobody@contoso.test"}, "ErrorInvalidUser"},
		{"list_messages", map[string]any{"mailbox": "support@contoso.test/../me"}, "email address"},
		{"send_message", map[string]any{"mailbox": "megan@contoso.test", "to": []string{"sam@fabrikam.test"}, "subject": "x", "body": "x"}, "ErrorSendAsDenied"},
	} {
		if res := call(t, s, tc.tool, tc.args, nil); !res.IsError || !strings.Contains(errorText(res), tc.says) {
			t.Errorf("%s %v: %s", tc.tool, tc.args, errorText(res))
		}
	}
	// Sam has the permissions but no right in Exchange.
	sam := l.SignInAndLink(t, "sam@fabrikam.test")
	l.AllowMore(t, signedIn(t, l, "sam@fabrikam.test"), "sam@fabrikam.test", "accept")
	if res := call(t, connect(t, l, agentToken(t, l, sam, false), ""), "list_messages", support, nil); !res.IsError ||
		!strings.Contains(errorText(res), "Access is denied") {
		t.Fatalf("sam opened support: %s", errorText(res))
	}
	// Someone else's cursor is refused; turned off, support's cursors stop.
	if res := call(t, connect(t, l, agentToken(t, l, sam, false), ""), "list_messages", map[string]any{"cursor": page.NextCursor}, nil); !res.IsError {
		t.Error("sam continued alex's listing of support")
	}
	setCapabilities(t, l)
	if resp, err := http.Get(stale); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a shared mailbox's download link after turning the capability off: %v %v", err, resp)
	}
	if status, body := putUpload(t, waiting.Uploads[0].UploadURL, 3<<20); status != http.StatusForbidden {
		t.Errorf("a shared mailbox's upload link after turning the capability off: %d %s", status, body)
	}
	if res := call(t, connect(t, l, token, ""), "list_messages", map[string]any{"cursor": page.NextCursor}, nil); !res.IsError ||
		!strings.Contains(errorText(res), "may no longer open") {
		t.Fatalf("a shared mailbox's cursor after turning the capability off: %s", errorText(res))
	}
}
