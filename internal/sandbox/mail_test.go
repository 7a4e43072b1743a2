package sandbox_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/seed"
)

type message struct {
	ID               string    `json:"id"`
	Subject          string    `json:"subject"`
	IsRead           bool      `json:"isRead"`
	IsDraft          bool      `json:"isDraft"`
	ParentFolderID   string    `json:"parentFolderId"`
	ConversationID   string    `json:"conversationId"`
	ReceivedDateTime time.Time `json:"receivedDateTime"`
	HasAttachments   bool      `json:"hasAttachments"`
	Categories       []string  `json:"categories"`
	Body             struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	From *struct {
		EmailAddress struct{ Name, Address string } `json:"emailAddress"`
	} `json:"from"`
	Flag struct {
		FlagStatus string `json:"flagStatus"`
	} `json:"flag"`
	ETag string `json:"@odata.etag"`
}

type messagePage struct {
	Value    []message `json:"value"`
	NextLink string    `json:"@odata.nextLink"`
	Context  string    `json:"@odata.context"`
}

func TestGraphAuth(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	// No token, a bad token, an expired token: 401 with WWW-Authenticate.
	for _, tok := range []string{"", "not-a-token"} {
		resp := tn.graph(tok, "GET", "/me/messages", nil, nil)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("token %q: %d %q", tok, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	tok := tn.link("alex@contoso.test")
	tn.control("POST", "/sandbox/people/alex@contoso.test/expire-access-tokens", nil)
	ge := tn.expectGraphError(tok.AccessToken, "GET", "/me/messages", nil, 401, "InvalidAuthenticationToken")
	if !strings.Contains(ge.Error.Message, "expired") {
		t.Errorf("message %q", ge.Error.Message)
	}
	// A token's scopes decide what it may call: 403 otherwise. (Sam
	// consents to these alone; a token carries all a person granted.)
	readOnly := tn.link("sam@fabrikam.test", "openid", "offline_access", "User.Read", "Mail.Read")
	tn.expectGraphError(readOnly.AccessToken, "POST", "/me/sendMail", map[string]any{}, 403, "ErrorAccessDenied")
	tn.expectGraphError(readOnly.AccessToken, "GET", "/me/drive/root/children", nil, 403, "accessDenied")
	tn.expectGraphError(readOnly.AccessToken, "GET", "/me/calendarView?startDateTime=2026-01-01&endDateTime=2026-02-01", nil, 403, "ErrorAccessDenied")
	tn.expectGraphError(readOnly.AccessToken, "GET", "/me/mailboxSettings", nil, 403, "ErrorAccessDenied")
	if resp := tn.graph(readOnly.AccessToken, "GET", "/me/messages", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("Mail.Read list: %d", resp.StatusCode)
	}
	// Access tokens expire by themselves too.
	short := startTenant(t, sandbox.Options{AccessTokenTTL: 2 * time.Minute})
	stok := short.link("jo@outlook.test")
	short.clock.Advance(3 * time.Minute)
	short.expectGraphError(stok.AccessToken, "GET", "/me", nil, 401, "InvalidAuthenticationToken")
}

func TestGraphHeadersAndErrorShape(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	resp := tn.graph(tok, "GET", "/me", nil, nil, "client-request-id", "11111111-2222-3333-4444-555555555555")
	if resp.Header.Get("request-id") == "" || resp.Header.Get("client-request-id") != "11111111-2222-3333-4444-555555555555" ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", resp.Header)
	}
	ge := tn.expectGraphError(tok, "GET", "/me/messages/AAMkADnotthere", nil, 404, "ErrorItemNotFound")
	if ge.Error.InnerError.RequestID == "" || strings.HasSuffix(ge.Error.InnerError.Date, "Z") || len(ge.Error.InnerError.Date) != 19 {
		t.Errorf("innerError = %+v", ge.Error.InnerError)
	}
	tn.expectGraphError(tok, "GET", "/me/messages/garbage", nil, 400, "ErrorInvalidIdMalformed")
	tn.expectGraphError(tok, "GET", "/me/nothing", nil, 400, "BadRequest")

	var me map[string]any
	tn.graph(tok, "GET", "/me", nil, &me)
	for _, f := range []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName"} {
		if _, ok := me[f]; !ok {
			t.Errorf("/me lacks %s", f)
		}
	}
	var settings map[string]any
	tok2 := tn.link("alex@contoso.test", "User.Read", "MailboxSettings.Read")
	tn.graph(tok2.AccessToken, "GET", "/me/mailboxSettings", nil, &settings)
	if settings["timeZone"] != "W. Europe Standard Time" {
		t.Errorf("mailboxSettings timeZone = %v", settings["timeZone"])
	}
}

func TestMailFolders(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var folders struct {
		Value []struct {
			ID, DisplayName                                   string
			TotalItemCount, UnreadItemCount, ChildFolderCount int
		}
		NextLink string `json:"@odata.nextLink"`
	}
	tn.graph(tok, "GET", "/me/mailFolders?$top=50", nil, &folders)
	byName := map[string]int{}
	for _, f := range folders.Value {
		byName[f.DisplayName] = f.TotalItemCount
	}
	if byName["Inbox"] < seed.InboxMessages-20 || byName["Sent Items"] != seed.SentMessages || byName["Drafts"] != 2 {
		t.Errorf("folder counts: %v", byName)
	}
	var inbox struct {
		ID               string
		ChildFolderCount int
	}
	tn.graph(tok, "GET", "/me/mailFolders/inbox", nil, &inbox)
	if inbox.ChildFolderCount != 2 {
		t.Errorf("inbox child folders = %d", inbox.ChildFolderCount)
	}
	tn.graph(tok, "GET", "/me/mailFolders/inbox/childFolders", nil, &folders)
	if len(folders.Value) != 2 {
		t.Errorf("childFolders: %+v", folders.Value)
	}
	// Default page size is 10 for folders too.
	tn.graph(tok, "GET", "/me/mailFolders?$top=3", nil, &folders)
	if len(folders.Value) != 3 || folders.NextLink == "" {
		t.Errorf("paged folders: %d next=%q", len(folders.Value), folders.NextLink)
	}
	// Creating a folder twice conflicts.
	if resp := tn.graph(tok, "POST", "/me/mailFolders", map[string]any{"displayName": "Receipts"}, nil); resp.StatusCode != 201 {
		t.Fatalf("create folder: %d", resp.StatusCode)
	}
	tn.expectGraphError(tok, "POST", "/me/mailFolders", map[string]any{"displayName": "receipts"}, 409, "ErrorFolderExists")
}

func TestPagingToTheEndOfTheInbox(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var first messagePage
	tn.graph(tok, "GET", "/me/mailFolders/inbox/messages?$select=subject,receivedDateTime", nil, &first)
	if len(first.Value) != 10 {
		t.Fatalf("default page = %d messages, want 10", len(first.Value))
	}
	seen := map[string]bool{}
	var prev time.Time
	next := tn.URL + "/v1.0/me/mailFolders/inbox/messages?$top=37"
	pages := 0
	for next != "" {
		var p messagePage
		tn.graph(tok, "GET", next, nil, &p)
		pages++
		for _, m := range p.Value {
			if seen[m.ID] {
				t.Fatalf("message %s on two pages", m.ID)
			}
			seen[m.ID] = true
			if !prev.IsZero() && m.ReceivedDateTime.After(prev) {
				t.Fatalf("not newest first: %v after %v", m.ReceivedDateTime, prev)
			}
			prev = m.ReceivedDateTime
		}
		next = p.NextLink
		if pages > 50 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) < 200 {
		t.Fatalf("paged through %d messages, want at least 200", len(seen))
	}
	var count struct{ TotalItemCount int }
	tn.graph(tok, "GET", "/me/mailFolders/inbox", nil, &count)
	if len(seen) != count.TotalItemCount {
		t.Fatalf("paged %d, folder says %d", len(seen), count.TotalItemCount)
	}
	tn.expectGraphError(tok, "GET", "/me/messages?$top=1001", nil, 400, "ErrorInvalidParameter")
}

func TestSelectFilterOrderBySearch(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken

	var raw struct{ Value []map[string]any }
	tn.graph(tok, "GET", "/me/messages?$select=subject,from&$top=5", nil, &raw)
	for _, m := range raw.Value {
		for k := range m {
			if k != "id" && k != "@odata.etag" && k != "subject" && k != "from" {
				t.Fatalf("$select leaked %s", k)
			}
		}
	}

	var p messagePage
	tn.graph(tok, "GET", "/me/mailFolders/inbox/messages?$filter=isRead%20eq%20false&$top=100", nil, &p)
	if len(p.Value) == 0 {
		t.Fatal("no unread messages seeded")
	}
	for _, m := range p.Value {
		if m.IsRead {
			t.Fatal("$filter isRead eq false returned a read message")
		}
	}
	since := time.Now().Add(-7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	tn.graph(tok, "GET", "/me/messages?$filter="+url.QueryEscape("receivedDateTime ge "+since+" and isRead eq false")+"&$orderby=receivedDateTime%20desc&$top=100", nil, &p)
	for _, m := range p.Value {
		if m.ReceivedDateTime.Before(time.Now().Add(-7*24*time.Hour)) || m.IsRead {
			t.Fatalf("filter broken: %+v", m)
		}
	}
	tn.graph(tok, "GET", "/me/messages?$filter="+url.QueryEscape("from/emailAddress/address eq 'admin@contoso.test'")+"&$top=100", nil, &p)
	if len(p.Value) == 0 {
		t.Fatal("no mail from admin")
	}
	for _, m := range p.Value {
		if m.From.EmailAddress.Address != "admin@contoso.test" {
			t.Fatalf("from filter: %s", m.From.EmailAddress.Address)
		}
	}
	tn.graph(tok, "GET", "/me/messages?$filter="+url.QueryEscape("hasAttachments eq true and categories/any(c:c eq 'Blue category') or importance eq 'high'")+"&$top=100", nil, &p)
	if len(p.Value) == 0 {
		t.Error("compound filter found nothing")
	}
	// Outlook's rules: ordered properties first in the filter, no $orderby with $search.
	tn.expectGraphError(tok, "GET", "/me/messages?$filter=isRead%20eq%20false&$orderby=receivedDateTime%20desc", nil, 400, "InefficientFilter")
	tn.expectGraphError(tok, "GET", `/me/messages?$search=%22budget%22&$orderby=receivedDateTime%20desc`, nil, 400, "SearchWithOrderBy")
	tn.expectGraphError(tok, "GET", "/me/messages?$filter=nosuchprop%20eq%201", nil, 400, "RequestBroker--ParseUri")
	tn.expectGraphError(tok, "GET", "/me/messages?$filter=isRead%20eq", nil, 400, "BadRequest")

	tn.graph(tok, "GET", "/me/messages?$search="+url.QueryEscape(`"subject:budget"`)+"&$top=100", nil, &p)
	if len(p.Value) == 0 {
		t.Fatal("search subject:budget found nothing")
	}
	for _, m := range p.Value {
		if !strings.Contains(strings.ToLower(m.Subject), "budget") {
			t.Fatalf("search hit without budget: %q", m.Subject)
		}
	}
	tn.graph(tok, "GET", "/me/messages?$search="+url.QueryEscape(`"from:megan"`)+"&$top=100", nil, &p)
	for _, m := range p.Value {
		if !strings.Contains(m.From.EmailAddress.Address, "megan") {
			t.Fatalf("from:megan hit %s", m.From.EmailAddress.Address)
		}
	}
	var free messagePage
	tn.graph(tok, "GET", "/me/messages?$search="+url.QueryEscape(`"attached"`)+"&$top=5", nil, &free)
	if len(free.Value) != 5 || free.NextLink == "" || !strings.Contains(free.NextLink, "skiptoken") {
		t.Fatalf("free-text search paging: %d %q", len(free.Value), free.NextLink)
	}
}

func TestBodyContentTypePreference(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var p messagePage
	tn.graph(tok, "GET", "/me/mailFolders/Newsletters/messages?$top=1", nil, &p)
	var folders struct {
		Value []struct{ ID, DisplayName string }
	}
	tn.graph(tok, "GET", "/me/mailFolders/inbox/childFolders", nil, &folders)
	var newsID string
	for _, f := range folders.Value {
		if f.DisplayName == "Newsletters" {
			newsID = f.ID
		}
	}
	tn.graph(tok, "GET", "/me/mailFolders/"+newsID+"/messages?$top=1", nil, &p)
	html := p.Value[0]
	if html.Body.ContentType != "html" || !strings.Contains(html.Body.Content, "<table") {
		t.Fatalf("newsletter body: %s", html.Body.ContentType)
	}
	var m message
	resp := tn.graph(tok, "GET", "/me/messages/"+html.ID, nil, &m, "Prefer", `outlook.body-content-type="text"`)
	if m.Body.ContentType != "text" || strings.Contains(m.Body.Content, "<table") || strings.Contains(m.Body.Content, "<style") ||
		!strings.Contains(m.Body.Content, "Five habits") && !strings.Contains(m.Body.Content, "\n") || resp.Header.Get("Preference-Applied") == "" {
		t.Fatalf("text body: %s %q", m.Body.ContentType, m.Body.Content[:min(200, len(m.Body.Content))])
	}
}

func TestSendReplyForwardMoveUpdateDelete(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	alex := tn.link("alex@contoso.test").AccessToken
	sam := tn.link("sam@fabrikam.test").AccessToken

	// Send: 202, a copy in Sent Items, delivered to a sandbox recipient.
	subject := "Lunch on Friday " + time.Now().Format("150405.000")
	resp := tn.graph(alex, "POST", "/me/sendMail", map[string]any{"message": map[string]any{
		"subject": subject, "body": map[string]string{"contentType": "text", "content": "Shall we?"},
		"toRecipients": []any{map[string]any{"emailAddress": map[string]string{"address": "sam@fabrikam.test"}}},
		"attachments": []any{map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "menu.txt",
			"contentType": "text/plain", "contentBytes": base64.StdEncoding.EncodeToString([]byte("soup"))}},
	}}, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("sendMail: %d", resp.StatusCode)
	}
	find := func(tok, folder string) message {
		t.Helper()
		var p messagePage
		tn.graph(tok, "GET", "/me/mailFolders/"+folder+"/messages?$filter="+url.QueryEscape("subject eq '"+subject+"'"), nil, &p)
		if len(p.Value) != 1 {
			t.Fatalf("%d copies of %q in %s", len(p.Value), subject, folder)
		}
		return p.Value[0]
	}
	sent := find(alex, "sentitems")
	got := find(sam, "inbox")
	if got.IsRead || !got.HasAttachments || got.From.EmailAddress.Address != "alex@contoso.test" || got.ConversationID != sent.ConversationID {
		t.Fatalf("delivered copy: %+v", got)
	}

	// Reply from sam lands in alex's inbox, in the same conversation.
	if resp := tn.graph(sam, "POST", "/me/messages/"+got.ID+"/reply", map[string]any{"comment": "Yes!"}, nil); resp.StatusCode != 202 {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	subject = "RE: " + subject
	reply := find(alex, "inbox")
	if reply.ConversationID != sent.ConversationID || !strings.Contains(reply.Body.Content, "Yes!") {
		t.Fatalf("reply: %+v", reply)
	}
	// comment and message.body together are refused.
	tn.expectGraphError(sam, "POST", "/me/messages/"+got.ID+"/reply", map[string]any{"comment": "a",
		"message": map[string]any{"body": map[string]string{"contentType": "text", "content": "b"}}}, 400, "ErrorInvalidRequest")
	// Forward needs recipients.
	tn.expectGraphError(alex, "POST", "/me/messages/"+reply.ID+"/forward", map[string]any{"comment": "fyi"}, 400, "ErrorInvalidRecipients")
	if resp := tn.graph(alex, "POST", "/me/messages/"+reply.ID+"/forward", map[string]any{"comment": "fyi",
		"toRecipients": []any{map[string]any{"emailAddress": map[string]string{"address": "admin@contoso.test"}}}}, nil); resp.StatusCode != 202 {
		t.Fatalf("forward: %d", resp.StatusCode)
	}
	admin := tn.link("admin@contoso.test").AccessToken
	subject = "FW: " + strings.TrimPrefix(subject, "RE: ")
	find(admin, "inbox")

	// Update read state, flag and categories.
	var upd message
	tn.graph(alex, "PATCH", "/me/messages/"+reply.ID, map[string]any{"isRead": true, "flag": map[string]string{"flagStatus": "flagged"},
		"categories": []string{"Red category"}}, &upd)
	if !upd.IsRead || upd.Flag.FlagStatus != "flagged" || len(upd.Categories) != 1 || upd.ETag == reply.ETag {
		t.Fatalf("patch: %+v", upd)
	}
	tn.expectGraphError(alex, "PATCH", "/me/messages/"+reply.ID, map[string]any{"subject": "edited"}, 400, "ErrorInvalidPropertyUpdateSentMessage")
	tn.expectGraphError(alex, "PATCH", "/me/messages/"+reply.ID, map[string]any{"flag": map[string]string{"flagStatus": "maybe"}}, 400, "ErrorInvalidArgument")
	tn.expectGraphError(alex, "PATCH", "/me/messages/"+reply.ID, map[string]any{"colour": "red"}, 400, "RequestBroker--ParseUri")

	// Move gives a new id; the old one is gone.
	var moved message
	if resp := tn.graph(alex, "POST", "/me/messages/"+reply.ID+"/move", map[string]string{"destinationId": "archive"}, &moved); resp.StatusCode != 201 {
		t.Fatalf("move: %d", resp.StatusCode)
	}
	if moved.ID == reply.ID || moved.Subject != reply.Subject {
		t.Fatalf("moved: %+v", moved)
	}
	tn.expectGraphError(alex, "GET", "/me/messages/"+reply.ID, nil, 404, "ErrorItemNotFound")
	tn.expectGraphError(alex, "POST", "/me/messages/"+moved.ID+"/move", map[string]string{"destinationId": "AAMkADnope"}, 404, "ErrorItemNotFound")

	// Delete.
	if resp := tn.graph(alex, "DELETE", "/me/messages/"+moved.ID, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	tn.expectGraphError(alex, "GET", "/me/messages/"+moved.ID, nil, 404, "ErrorItemNotFound")

	// Bad sends change nothing.
	tn.expectGraphError(alex, "POST", "/me/sendMail", map[string]any{"message": map[string]any{"subject": "x"}}, 400, "ErrorInvalidRecipients")
	tn.expectGraphError(alex, "POST", "/me/sendMail", map[string]any{"message": map[string]any{"subject": "x",
		"toRecipients": []any{map[string]any{"emailAddress": map[string]string{"address": "not-an-address"}}}}}, 400, "ErrorInvalidRecipients")
}

func TestDraftsAndAttachments(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	alex := tn.link("alex@contoso.test").AccessToken
	var d message
	if resp := tn.graph(alex, "POST", "/me/messages", map[string]any{"subject": "Plan", "body": map[string]string{"contentType": "html", "content": "<p>draft</p>"}}, &d); resp.StatusCode != 201 || !d.IsDraft {
		t.Fatalf("create draft: %d %+v", resp.StatusCode, d)
	}
	tn.expectGraphError(alex, "POST", "/me/messages/"+d.ID+"/send", nil, 400, "ErrorInvalidRecipients")
	tn.graph(alex, "PATCH", "/me/messages/"+d.ID, map[string]any{"subject": "Plan v2",
		"toRecipients": []any{map[string]any{"emailAddress": map[string]string{"address": "jo@outlook.test"}}}}, &d)
	var att struct{ ID, Name string }
	if resp := tn.graph(alex, "POST", "/me/messages/"+d.ID+"/attachments", map[string]any{"@odata.type": "#microsoft.graph.fileAttachment",
		"name": "plan.txt", "contentBytes": base64.StdEncoding.EncodeToString([]byte("step 1"))}, &att); resp.StatusCode != 201 {
		t.Fatalf("add attachment: %d", resp.StatusCode)
	}
	// One request carries attachments under 3 MB; larger ones need an upload session.
	big := make([]byte, 3<<20)
	tn.expectGraphError(alex, "POST", "/me/messages/"+d.ID+"/attachments", map[string]any{"@odata.type": "#microsoft.graph.fileAttachment",
		"name": "big.bin", "contentBytes": base64.StdEncoding.EncodeToString(big)}, 413, "RequestEntityTooLarge")
	if resp := tn.graph(alex, "POST", "/me/messages/"+d.ID+"/send", nil, nil); resp.StatusCode != 202 {
		t.Fatalf("send draft: %d", resp.StatusCode)
	}
	jo := tn.link("jo@outlook.test").AccessToken
	var p messagePage
	tn.graph(jo, "GET", "/me/mailFolders/inbox/messages?$filter="+url.QueryEscape("subject eq 'Plan v2'"), nil, &p)
	if len(p.Value) != 1 || !p.Value[0].HasAttachments {
		t.Fatalf("jo's copy: %+v", p.Value)
	}
	var atts struct {
		Value []struct {
			ID, Name, ContentType, ContentBytes string
			Size                                int
		}
	}
	tn.graph(jo, "GET", "/me/messages/"+p.Value[0].ID+"/attachments", nil, &atts)
	if len(atts.Value) != 1 {
		t.Fatalf("attachments: %+v", len(atts.Value))
	}
	var plan []byte
	for _, a := range atts.Value {
		if a.Name == "plan.txt" {
			plan, _ = base64.StdEncoding.DecodeString(a.ContentBytes)
			resp := tn.graph(jo, "GET", "/me/messages/"+p.Value[0].ID+"/attachments/"+a.ID+"/$value", nil, nil)
			if body := readBody(t, resp); body != "step 1" {
				t.Errorf("$value = %q", body)
			}
		}
	}
	if string(plan) != "step 1" {
		t.Errorf("attachment bytes %q", plan)
	}

	// Seeded mail has PDF, text and image attachments.
	kinds := map[string]bool{}
	tn.graph(alex, "GET", "/me/messages?$filter=hasAttachments%20eq%20true&$top=50", nil, &p)
	for _, m := range p.Value {
		tn.graph(alex, "GET", "/me/messages/"+m.ID+"/attachments", nil, &atts)
		for _, a := range atts.Value {
			kinds[a.ContentType] = true
			if a.ContentType == "application/pdf" {
				b, _ := base64.StdEncoding.DecodeString(a.ContentBytes)
				if !strings.HasPrefix(string(b), "%PDF-1.4") || !strings.Contains(string(b), "%%EOF") {
					t.Errorf("seeded PDF is not a PDF")
				}
			}
		}
	}
	for _, k := range []string{"application/pdf", "text/plain", "image/png"} {
		if !kinds[k] {
			t.Errorf("no seeded %s attachment (have %v)", k, kinds)
		}
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	anchor := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	list := func(seedValue uint64) []message {
		tn := startTenant(t, sandbox.Options{Seed: seedValue, Now: func() time.Time { return anchor }})
		tok := tn.link("alex@contoso.test").AccessToken
		var p messagePage
		tn.graph(tok, "GET", "/me/messages?$top=1000&$select=subject,receivedDateTime", nil, &p)
		return p.Value
	}
	a, b, c := list(7), list(7), list(8)
	if len(a) < 200 || len(a) != len(b) {
		t.Fatalf("%d vs %d messages", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Subject != b[i].Subject || !a[i].ReceivedDateTime.Equal(b[i].ReceivedDateTime) {
			t.Fatalf("same seed, different message %d: %+v vs %+v", i, a[i], b[i])
		}
	}
	if a[0].ID == c[0].ID {
		t.Error("another seed gave the same data")
	}
	// Dated around the anchor: the newest message is from the last hour.
	if age := anchor.Sub(a[0].ReceivedDateTime); age < 0 || age > time.Hour {
		t.Errorf("newest message is %v old", age)
	}
}
