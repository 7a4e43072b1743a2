package mcpserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	htmltomarkdown "github.com/JohannesKaufmann/html-to-markdown/v2"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// graph shapes, only the fields graphgate reads.
type gAddress struct {
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

type gMessage struct {
	ID               string     `json:"id"`
	Subject          string     `json:"subject"`
	From             *gAddress  `json:"from"`
	ToRecipients     []gAddress `json:"toRecipients"`
	CcRecipients     []gAddress `json:"ccRecipients"`
	BccRecipients    []gAddress `json:"bccRecipients"`
	ReceivedDateTime time.Time  `json:"receivedDateTime"`
	IsRead           bool       `json:"isRead"`
	IsDraft          bool       `json:"isDraft"`
	HasAttachments   bool       `json:"hasAttachments"`
	Importance       string     `json:"importance"`
	BodyPreview      string     `json:"bodyPreview"`
	ConversationID   string     `json:"conversationId"`
	ParentFolderID   string     `json:"parentFolderId"`
	ChangeKey        string     `json:"changeKey"`
	WebLink          string     `json:"webLink"`
	Flag             struct {
		FlagStatus string `json:"flagStatus"`
	} `json:"flag"`
	Categories []string `json:"categories"`
	Body       struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
}

// MessageSummary is a message in a list: what an agent needs to choose
// one; get_message has the rest (recipients, conversation, body). Fields
// that are false or empty are left out.
type MessageSummary struct {
	ID             string    `json:"id"`
	Subject        string    `json:"subject,omitempty"`
	From           string    `json:"from,omitempty"`
	FromName       string    `json:"from_name,omitempty"`
	Received       time.Time `json:"received"`
	IsRead         bool      `json:"is_read,omitempty"`
	HasAttachments bool      `json:"has_attachments,omitempty"`
	Importance     string    `json:"importance,omitempty" jsonschema:"high or low; absent when normal"`
	Flagged        bool      `json:"flagged,omitempty"`
	Preview        string    `json:"preview,omitempty" jsonschema:"the start of the body"`
}

// previewRunes is how much of a body a list shows.
const previewRunes = 60

const summaryFields = "id,subject,from,toRecipients,receivedDateTime,isRead,hasAttachments,importance,bodyPreview,conversationId,flag"

func addresses(list []gAddress) []string {
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.EmailAddress.Address)
	}
	return out
}

func summarize(m gMessage) MessageSummary {
	s := MessageSummary{ID: m.ID, Subject: oneline.Clean(m.Subject), Received: m.ReceivedDateTime,
		IsRead: m.IsRead, HasAttachments: m.HasAttachments, Flagged: m.Flag.FlagStatus == "flagged",
		Preview: trimRunes(oneline.Clean(m.BodyPreview), previewRunes)}
	if m.Importance != "normal" {
		s.Importance = m.Importance
	}
	if m.From != nil {
		s.From, s.FromName = oneline.Clean(m.From.EmailAddress.Address), oneline.Clean(m.From.EmailAddress.Name)
	}
	return s
}

type messageList struct {
	Value []gMessage `json:"value"`
	Next  string     `json:"@odata.nextLink"`
}

// MessagesOut is a page of messages.
type MessagesOut struct {
	Messages   []MessageSummary `json:"messages"`
	NextCursor string           `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last"`
}

type foldersIn struct{ inMailbox }

type folderOut struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Total  int    `json:"total"`
	Unread int    `json:"unread"`
}

type foldersOut struct {
	Folders []folderOut `json:"folders"`
}

func listMailFoldersTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:        "list_mail_folders",
		Title:       "List mail folders",
		Description: "Lists the mailbox's top-level folders with message and unread counts. list_messages takes a folder's id or a well-known name: inbox, sentitems, drafts, archive, deleteditems, junkemail.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, _ foldersIn) (foldersOut, error) {
		var res struct {
			Value []struct {
				ID, DisplayName                 string
				TotalItemCount, UnreadItemCount int
			} `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me/mailFolders", Query: url.Values{"$top": {"100"}}, Safe: true}, &res); err != nil {
			return foldersOut{}, err
		}
		out := foldersOut{Folders: []folderOut{}}
		for _, f := range res.Value {
			out.Folders = append(out.Folders, folderOut{ID: f.ID, Name: f.DisplayName, Total: f.TotalItemCount, Unread: f.UnreadItemCount})
		}
		return out, nil
	})
}

type listMessagesIn struct {
	inMailbox
	Folder     string `json:"folder,omitempty" jsonschema:"folder id or well-known name (see list_mail_folders); default inbox"`
	UnreadOnly bool   `json:"unread_only,omitempty" jsonschema:"only unread messages"`
	From       string `json:"from,omitempty" jsonschema:"only messages from this email address"`
	After      string `json:"after,omitempty" jsonschema:"only messages received at or after this time (RFC 3339 or YYYY-MM-DD)"`
	Before     string `json:"before,omitempty" jsonschema:"only messages received before this time (RFC 3339 or YYYY-MM-DD)"`
	PageSize   int    `json:"page_size,omitempty" jsonschema:"messages per page, 1 to 50; default 10" bounds:"1,50"`
	Cursor     string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

func parseWhen(name, v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalid(fmt.Sprintf("%s must be a time such as 2026-11-25 or 2026-11-25T09:00:00Z, not %q", name, v))
}

func pageSize(n, def, maxN int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 1 || n > maxN:
		return 0, invalid(fmt.Sprintf("page_size must be between 1 and %d", maxN))
	}
	return n, nil
}

func quoteOData(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func listMessagesTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:  "list_messages",
		Title: "List messages",
		Description: "Lists a mail folder's messages, newest first (default the inbox), optionally only unread, " +
			"from one sender or in a date range: a summary each, and next_cursor. get_message gives a full body. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listMessagesIn) (MessagesOut, error) {
		size, err := pageSize(in.PageSize, 10, 50)
		if err != nil {
			return MessagesOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true}
		if in.Cursor != "" {
			if req.Path, err = s.pathOfCursor(ctx, in.Cursor); err != nil {
				return MessagesOut{}, err
			}
		} else {
			folder := in.Folder
			if folder == "" {
				folder = "inbox"
			}
			folderSeg, ok := idSegment(folder)
			if !ok {
				return MessagesOut{}, invalid("folder must be a folder id or a well-known name")
			}
			// Outlook wants the ordered property first in the filter.
			filters := []string{}
			after := "1900-01-01T00:00:00Z"
			if in.After != "" {
				t, err := parseWhen("after", in.After)
				if err != nil {
					return MessagesOut{}, err
				}
				after = t.UTC().Format(time.RFC3339)
			}
			filters = append(filters, "receivedDateTime ge "+after)
			if in.Before != "" {
				t, err := parseWhen("before", in.Before)
				if err != nil {
					return MessagesOut{}, err
				}
				filters = append(filters, "receivedDateTime lt "+t.UTC().Format(time.RFC3339))
			}
			if in.UnreadOnly {
				filters = append(filters, "isRead eq false")
			}
			if in.From != "" {
				filters = append(filters, "from/emailAddress/address eq "+quoteOData(in.From))
			}
			req.Path = "me/mailFolders/" + folderSeg + "/messages"
			req.Query = url.Values{"$top": {fmt.Sprint(size)}, "$select": {summaryFields},
				"$orderby": {"receivedDateTime desc"}, "$filter": {strings.Join(filters, " and ")}}
		}
		var res messageList
		if _, err := g.Do(ctx, req, &res); err != nil {
			return MessagesOut{}, err
		}
		return s.messagesOut(ctx, res)
	})
}

func (s *Server) messagesOut(ctx context.Context, res messageList) (MessagesOut, error) {
	next, err := s.cursorOf(ctx, res.Next, pageCursorTTL)
	if err != nil {
		return MessagesOut{}, err
	}
	out := MessagesOut{Messages: make([]MessageSummary, 0, len(res.Value)), NextCursor: next}
	for _, m := range res.Value {
		out.Messages = append(out.Messages, summarize(m))
	}
	return out, nil
}

type searchIn struct {
	inMailbox
	Query    string `json:"query" jsonschema:"KQL search, e.g. 'budget', 'from:alex subject:report', 'hasattachment:true', 'received>=2026-11-01'"`
	PageSize int    `json:"page_size,omitempty" jsonschema:"messages per page, 1 to 50; default 10" bounds:"1,50"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

func searchMessagesTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:  "search_messages",
		Title: "Search mail",
		Description: "Searches the whole mailbox with a KQL query (free text, from:, to:, subject:, body:, attachment:, " +
			"hasattachment:true, received>=YYYY-MM-DD): summaries, newest first, at most 1,000 in all, and next_cursor. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in searchIn) (MessagesOut, error) {
		size, err := pageSize(in.PageSize, 10, 50)
		if err != nil {
			return MessagesOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true}
		switch {
		case in.Cursor != "":
			if req.Path, err = s.pathOfCursor(ctx, in.Cursor); err != nil {
				return MessagesOut{}, err
			}
		case strings.TrimSpace(in.Query) == "" || len(in.Query) > 500:
			return MessagesOut{}, invalid("query must be a KQL search of 1 to 500 characters")
		default:
			req.Path = "me/messages"
			req.Query = url.Values{"$search": {`"` + strings.ReplaceAll(in.Query, `"`, `\"`) + `"`},
				"$top": {fmt.Sprint(size)}, "$select": {summaryFields}}
		}
		var res messageList
		if _, err := g.Do(ctx, req, &res); err != nil {
			return MessagesOut{}, err
		}
		return s.messagesOut(ctx, res)
	})
}

type getMessageIn struct {
	inMailbox
	ID       string `json:"id" jsonschema:"the message id, from list_messages or search_messages"`
	Offset   int    `json:"offset,omitempty" jsonschema:"character offset into the body, to read past a truncated one" bounds:"0,100000000"`
	MaxChars int    `json:"max_chars,omitempty" jsonschema:"body characters to return, 500 to 50000; default 20000" bounds:"500,50000"`
}

type attachmentOut struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

type getMessageOut struct {
	MessageSummary
	To             []string        `json:"to"`
	Cc             []string        `json:"cc"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Body           string          `json:"body" jsonschema:"the body as compact Markdown"`
	Truncated      bool            `json:"truncated"`
	NextOffset     int             `json:"next_offset,omitempty" jsonschema:"pass as offset to read on when truncated"`
	Attachments    []attachmentOut `json:"attachments"`
}

func getMessageTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:  "get_message",
		Title: "Read a message",
		Description: "Returns one message, its body as compact Markdown capped at max_chars (truncated and next_offset read further), " +
			"and its attachments (id, name, type, size). " +
			untrustedToolNote,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in getMessageIn) (getMessageOut, error) {
		p, err := messagePath(in.ID)
		if err != nil {
			return getMessageOut{}, err
		}
		limit := in.MaxChars
		switch {
		case limit == 0:
			limit = 20000
		case limit < 500 || limit > 50000:
			return getMessageOut{}, invalid("max_chars must be between 500 and 50000")
		}
		if in.Offset < 0 {
			return getMessageOut{}, invalid("offset must not be negative")
		}
		var m gMessage
		fields := summaryFields + ",ccRecipients,body"
		call := callFromContext(ctx)
		if call.apps {
			fields += ",webLink"
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p,
			Query: url.Values{"$select": {fields}}, Safe: true}, &m); err != nil {
			return getMessageOut{}, err
		}
		if call.apps {
			call.view = viewOfMessage(m.Body.ContentType, m.Body.Content, m.WebLink)
		}
		body := m.Body.Content
		if m.Body.ContentType == "html" {
			if md, err := htmltomarkdown.ConvertString(body); err == nil {
				body = md
			}
		}
		runes := []rune(strings.TrimSpace(body))
		start := min(in.Offset, len(runes))
		end := min(start+limit, len(runes))
		sum := summarize(m)
		out := getMessageOut{MessageSummary: sum, To: addresses(m.ToRecipients), Cc: addresses(m.CcRecipients), ConversationID: m.ConversationID,
			Body: untrusted("mail from "+sum.From, string(runes[start:end])), Truncated: end < len(runes), Attachments: []attachmentOut{}}
		if out.Truncated {
			out.NextOffset = end
		}
		if m.HasAttachments {
			var atts struct {
				Value []struct {
					ID, Name, ContentType string
					Size                  int
				} `json:"value"`
			}
			if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p + "/attachments",
				Query: url.Values{"$select": {"id,name,contentType,size"}}, Safe: true}, &atts); err != nil {
				return getMessageOut{}, err
			}
			for _, a := range atts.Value {
				out.Attachments = append(out.Attachments, attachmentOut{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size})
			}
		}
		return out, nil
	})
}

type fileIn struct {
	Name          string `json:"name" jsonschema:"file name, such as report.pdf"`
	ContentBase64 string `json:"content_base64" jsonschema:"the file's bytes, base64"`
	ContentType   string `json:"content_type,omitempty" jsonschema:"MIME type; default application/octet-stream"`
}

type sendIn struct {
	inMailbox
	To          []string `json:"to" jsonschema:"recipient email addresses"`
	Cc          []string `json:"cc,omitempty"`
	Bcc         []string `json:"bcc,omitempty"`
	Subject     string   `json:"subject"`
	Body        string   `json:"body"`
	BodyType    string   `json:"body_type,omitempty" jsonschema:"text (default) or html"`
	Attachments []fileIn `json:"attachments,omitempty" jsonschema:"small files, under 3 MB in all"`
	// Large files are not sent inline: each gets a one-time upload link,
	// and the message leaves when the last of them has arrived.
	LargeAttachments []largeAttachmentIn `json:"large_attachments,omitempty" jsonschema:"files of 3 MB to 150 MB, each to PUT to its own upload link"`
}

type sentOut struct {
	Sent    bool   `json:"sent"`
	Message string `json:"message"`
	// With large attachments: the draft that waits for them, and where
	// each goes.
	DraftID string       `json:"draft_id,omitempty" jsonschema:"the draft waiting for the uploads"`
	Uploads []uploadSlot `json:"uploads,omitempty" jsonschema:"PUT each file to its upload_url"`
}

func recipients(field string, list []string) ([]map[string]any, error) {
	out := []map[string]any{}
	for _, a := range list {
		a = strings.TrimSpace(a)
		if at := strings.Index(a, "@"); at < 1 || at == len(a)-1 || strings.ContainsAny(a, " <>,;") {
			return nil, invalid(fmt.Sprintf("%s: %q is not an email address", field, a))
		}
		out = append(out, map[string]any{"emailAddress": map[string]string{"address": a}})
	}
	return out, nil
}

func sendMessageTool() toolDef {
	return defineAsking("mail", &mcp.Tool{
		Name:  "send_message",
		Title: "Send an email",
		Description: "Sends a new email (a copy goes to Sent Items), attachments under 3 MB in all inline; " +
			"files of 3 MB to 150 MB go in large_attachments, and it leaves when the last has arrived through its upload link. " +
			"Cannot be undone; never repeated after an unclear failure.",
		Annotations: annotations(false, false, false),
	}, sendSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in sendIn) (sentOut, error) {
		if len(in.To)+len(in.Cc)+len(in.Bcc) == 0 {
			return sentOut{}, invalid("give at least one recipient in to, cc or bcc")
		}
		if len(in.To)+len(in.Cc)+len(in.Bcc) > 100 {
			return sentOut{}, invalid("at most 100 recipients")
		}
		bodyType := strings.ToLower(in.BodyType)
		if bodyType == "" {
			bodyType = "text"
		}
		if bodyType != "text" && bodyType != "html" {
			return sentOut{}, invalid("body_type must be text or html")
		}
		msg := map[string]any{"subject": in.Subject, "body": map[string]string{"contentType": bodyType, "content": in.Body}}
		for field, list := range map[string][]string{"toRecipients": in.To, "ccRecipients": in.Cc, "bccRecipients": in.Bcc} {
			r, err := recipients(field, list)
			if err != nil {
				return sentOut{}, err
			}
			msg[field] = r
		}
		total := 0
		var atts []map[string]any
		for _, a := range in.Attachments {
			b, err := base64.StdEncoding.DecodeString(a.ContentBase64)
			if err != nil || a.Name == "" {
				return sentOut{}, invalid("each attachment needs a name and base64 content_base64")
			}
			total += len(b)
			ct := a.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			atts = append(atts, map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": a.Name, "contentType": ct, "contentBytes": a.ContentBase64})
		}
		if total >= 3<<20 {
			return sentOut{}, invalid("attachments must be under 3 MB in all; put files of 3 MB to 150 MB in large_attachments")
		}
		if err := checkLargeIn(in.LargeAttachments); err != nil {
			return sentOut{}, err
		}
		if atts != nil {
			msg["attachments"] = atts
		}
		if in.Mailbox != "" {
			// Send As the shared mailbox: from, never sender (Exchange sets it).
			msg["from"] = map[string]any{"emailAddress": map[string]string{"address": in.Mailbox}}
		}
		if len(in.LargeAttachments) > 0 {
			return s.sendAfterUploads(ctx, g, msg, in.LargeAttachments)
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "me/sendMail", Body: map[string]any{"message": msg, "saveToSentItems": true}}, nil); err != nil {
			return sentOut{}, err
		}
		return sentOut{Sent: true, Message: "Sent. A copy is in Sent Items."}, nil
	})
}

type getAttachmentIn struct {
	inMailbox
	MessageID    string `json:"message_id" jsonschema:"the message's id"`
	AttachmentID string `json:"attachment_id" jsonschema:"an attachment id from get_message"`
	MaxChars     int    `json:"max_chars,omitempty" jsonschema:"text characters to return, 500 to 100000; default 20000" bounds:"500,100000"`
}

type getAttachmentOut struct {
	attachmentOut
	Text        string    `json:"text,omitempty" jsonschema:"the content, for text-like attachments"`
	Truncated   bool      `json:"truncated"`
	DownloadURL string    `json:"download_url,omitempty" jsonschema:"for other attachments: a one-time link to the bytes, no token needed"`
	ExpiresAt   time.Time `json:"download_expires_at,omitzero"`
}

func getAttachmentTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:  "get_attachment",
		Title: "Open an attachment",
		Description: "Returns an email attachment: the text of text-like files (txt, csv, md, json, ...; capped at max_chars), " +
			"otherwise its name, type and size and a one-time download link (valid 15 minutes). " + untrustedToolNote,
		Annotations: annotations(true, false, false),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in getAttachmentIn) (getAttachmentOut, error) {
		p, err := messagePath(in.MessageID)
		if err != nil {
			return getAttachmentOut{}, err
		}
		attSeg, ok := idSegment(in.AttachmentID)
		if !ok {
			return getAttachmentOut{}, invalid("attachment_id must be an id from get_message")
		}
		limit := in.MaxChars
		if limit == 0 {
			limit = 20000
		}
		ap := p + "/attachments/" + attSeg
		var a struct {
			ID, Name, ContentType string
			Size                  int
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: ap, Query: url.Values{"$select": {"id,name,contentType,size"}}, Safe: true}, &a); err != nil {
			return getAttachmentOut{}, err
		}
		out := getAttachmentOut{attachmentOut: attachmentOut{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size}}
		if textLike(strings.ToLower(a.ContentType)) {
			var buf strings.Builder
			lw := &limitedWriter{w: &buf, n: int64(limit)*4 + 4}
			if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: ap + "/$value", Safe: true}, lw); err != nil && err != errLimit {
				return getAttachmentOut{}, err
			}
			runes := []rune(buf.String())
			out.Text, out.Truncated = untrusted("attachment "+a.Name, string(runes[:min(limit, len(runes))])), len(runes) > limit || lw.n <= 0
			return out, nil
		}
		out.DownloadURL, out.ExpiresAt, err = s.downloadLink(ctx, g.Routed(ap+"/$value"), a.Name, a.ContentType)
		return out, err
	})
}

// trimRunes cuts s to n characters, marking the cut.
func trimRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s // most are: no copy
	}
	end := 0
	for range n - 1 {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	return strings.TrimSpace(s[:end]) + "…"
}

// messageLine is a message in one line: id | received | from | subject |
// flags | preview.
func messageLine(m MessageSummary) string {
	var flags []string
	if !m.IsRead {
		flags = append(flags, "unread")
	}
	if m.HasAttachments {
		flags = append(flags, "attachments")
	}
	if m.Flagged {
		flags = append(flags, "flagged")
	}
	if m.Importance != "" {
		flags = append(flags, m.Importance)
	}
	return fmt.Sprintf("%s | %s | %s | %s | %s | %s", m.ID, m.Received.UTC().Format("2006-01-02 15:04"), m.From,
		trimRunes(m.Subject, 60), strings.Join(flags, ","), trimRunes(m.Preview, 30))
}

// Text renders a page of messages for the model: one line each.
func (o MessagesOut) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages, newest first", len(o.Messages))
	if o.NextCursor != "" {
		fmt.Fprintf(&b, "; more with cursor=%q", o.NextCursor)
	}
	b.WriteString("\nid | received | from | subject | flags | preview\n")
	for _, m := range o.Messages {
		b.WriteString(messageLine(m) + "\n")
	}
	return b.String()
}
