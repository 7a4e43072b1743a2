package mcpserver

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/graphapi"
)

func messagePath(id string) (string, error) {
	seg, ok := idSegment(id)
	if !ok {
		return "", invalid("id must be a message id from list_messages or search_messages")
	}
	return "me/messages/" + seg, nil
}

type draftIn struct {
	inMailbox
	To       []string `json:"to,omitempty"`
	Cc       []string `json:"cc,omitempty"`
	Bcc      []string `json:"bcc,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	Body     string   `json:"body,omitempty"`
	BodyType string   `json:"body_type,omitempty" jsonschema:"text (default) or html"`
	// Large files are not sent inline: each gets a one-time upload link.
	LargeAttachments []largeAttachmentIn `json:"large_attachments,omitempty" jsonschema:"files of 3 MB to 150 MB, each to PUT to its own upload link"`
}

type largeAttachmentIn struct {
	Name        string `json:"name" jsonschema:"file name, such as report.pdf"`
	ContentType string `json:"content_type,omitempty" jsonschema:"MIME type; default application/octet-stream"`
}

// uploadSlot is where a large attachment's bytes go.
type uploadSlot struct {
	Name      string    `json:"name"`
	UploadURL string    `json:"upload_url" jsonschema:"PUT the bytes here once, within 30 minutes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// attachLarge makes an upload link per large attachment of the draft at p;
// with a sendID, the draft is sent when the last of them has arrived.
func (s *Server) attachLarge(ctx context.Context, p string, list []largeAttachmentIn, sendID string) ([]uploadSlot, error) {
	var out []uploadSlot
	for _, a := range list {
		slot := uploadSlot{Name: a.Name}
		var err error
		slot.UploadURL, slot.ExpiresAt, err = s.uploadLink(ctx, graphgate.Upload{Target: p, AttachmentName: a.Name, ContentType: a.ContentType, SendID: sendID})
		if err != nil {
			return nil, err
		}
		out = append(out, slot)
	}
	return out, nil
}

// sendAfterUploads saves msg as a draft and gives it an upload link per
// large attachment; the upload that brings the last file sends it (see
// finishSend). Until then the draft waits in Drafts, where the person can
// see it.
func (s *Server) sendAfterUploads(ctx context.Context, g *graphapi.Client, msg map[string]any, large []largeAttachmentIn) (sentOut, error) {
	var m gMessage
	if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "me/messages", Body: msg}, &m); err != nil {
		return sentOut{}, err
	}
	p, err := messagePath(m.ID)
	if err != nil {
		return sentOut{}, err
	}
	// The links and the send outlive the call: they keep the mailbox.
	p = g.Routed(p)
	c := callerFromContext(ctx)
	send := &graphgate.PendingSend{ID: randomToken(), UserID: c.user.ID, TokenID: c.access.TokenID(), GrantID: c.access.GrantID(),
		Label: c.access.Label(), Target: p, Remaining: len(large), ExpiresAt: s.d.Now().Add(pendingSendTTL).UTC()}
	if err := s.d.Store.CreatePendingSend(ctx, send); err != nil {
		return sentOut{}, err
	}
	uploads, err := s.attachLarge(ctx, p, large, send.ID)
	if err != nil {
		return sentOut{}, err
	}
	return sentOut{DraftID: m.ID, Uploads: uploads, Message: fmt.Sprintf("Not sent yet: it waits in Drafts for %d large attachment(s). "+
		"PUT each file to its upload_url; the message is sent when the last one has arrived. "+
		"If an upload fails, the draft stays: update_draft gives new links, send_draft sends it.", len(large))}, nil
}

// checkLargeIn checks the large attachments' names and types before
// anything is created.
func checkLargeIn(list []largeAttachmentIn) error {
	if len(list) > 10 {
		return invalid("give at most 10 large attachments")
	}
	for i, a := range list {
		if a.Name == "" || utf8.RuneCountInString(a.Name) > 255 || strings.IndexFunc(a.Name, unicode.IsControl) >= 0 || strings.ContainsAny(a.Name, `/\`) {
			return invalid(fmt.Sprintf("large_attachments: %q is not a usable file name", a.Name))
		}
		if a.ContentType == "" {
			list[i].ContentType = "application/octet-stream"
		} else if t, sub, ok := strings.Cut(a.ContentType, "/"); !ok || t == "" || sub == "" || len(a.ContentType) > 127 ||
			strings.IndexFunc(a.ContentType, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			return invalid(fmt.Sprintf("large_attachments: %q is not a MIME type", a.ContentType))
		}
	}
	return nil
}

// fields turns the given parts of a draft into Graph's message properties.
func (in draftIn) fields(all bool) (map[string]any, error) {
	m := map[string]any{}
	for field, list := range map[string][]string{"toRecipients": in.To, "ccRecipients": in.Cc, "bccRecipients": in.Bcc} {
		if list == nil && !all {
			continue
		}
		r, err := recipients(field, list)
		if err != nil {
			return nil, err
		}
		m[field] = r
	}
	if in.Subject != "" || all {
		m["subject"] = in.Subject
	}
	if in.Body != "" || all {
		bt := strings.ToLower(in.BodyType)
		if bt == "" {
			bt = "text"
		}
		if bt != "text" && bt != "html" {
			return nil, invalid("body_type must be text or html")
		}
		m["body"] = map[string]string{"contentType": bt, "content": in.Body}
	}
	return m, nil
}

type draftOut struct {
	ID      string       `json:"id"`
	Subject string       `json:"subject"`
	Uploads []uploadSlot `json:"uploads,omitempty" jsonschema:"PUT each file to its upload_url, then send_draft"`
}

func createDraftTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:  "create_draft",
		Title: "Create a draft",
		Description: "Saves a new email in Drafts without sending it. Returns its id for update_draft and send_draft. " +
			"Files of 3 MB to 150 MB go in large_attachments: each gets a one-time upload link to PUT the bytes to before send_draft.",
		Annotations: annotations(false, false, false),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in draftIn) (draftOut, error) {
		body, err := in.fields(true)
		if err != nil {
			return draftOut{}, err
		}
		if err := checkLargeIn(in.LargeAttachments); err != nil {
			return draftOut{}, err
		}
		var m gMessage
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "me/messages", Body: body}, &m); err != nil {
			return draftOut{}, err
		}
		p, err := messagePath(m.ID)
		if err != nil {
			return draftOut{}, err
		}
		uploads, err := s.attachLarge(ctx, g.Routed(p), in.LargeAttachments, "")
		return draftOut{ID: m.ID, Subject: m.Subject, Uploads: uploads}, err
	})
}

type updateDraftIn struct {
	ID string `json:"id" jsonschema:"the draft's id"`
	draftIn
}

func updateDraftTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:  "update_draft",
		Title: "Edit a draft",
		Description: "Changes a draft's recipients, subject or body, or adds large attachments (each gets a one-time upload link); " +
			"only the fields given change. Sent messages cannot be edited.",
		Annotations: annotations(false, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in updateDraftIn) (draftOut, error) {
		p, err := messagePath(in.ID)
		if err != nil {
			return draftOut{}, err
		}
		body, err := in.draftIn.fields(false)
		if err != nil {
			return draftOut{}, err
		}
		if err := checkLargeIn(in.LargeAttachments); err != nil {
			return draftOut{}, err
		}
		if len(body) == 0 && len(in.LargeAttachments) == 0 {
			return draftOut{}, invalid("give at least one of to, cc, bcc, subject, body or large_attachments")
		}
		var m gMessage
		if len(body) > 0 {
			if _, err := g.Do(ctx, graphapi.Request{Method: "PATCH", Path: p, Body: body, Safe: true}, &m); err != nil {
				return draftOut{}, err
			}
		} else if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Query: url.Values{"$select": {"id,subject,isDraft"}}, Safe: true}, &m); err != nil {
			return draftOut{}, err
		}
		if !m.IsDraft && len(in.LargeAttachments) > 0 {
			return draftOut{}, invalid("only drafts take attachments: this message was sent")
		}
		uploads, err := s.attachLarge(ctx, g.Routed(p), in.LargeAttachments, "")
		return draftOut{ID: m.ID, Subject: m.Subject, Uploads: uploads}, err
	})
}

// deleteIn is delete_message's and send_draft's input: a message, in a
// shared mailbox too.
type deleteIn struct {
	inMailbox
	idIn
}

type idIn struct {
	ID string `json:"id" jsonschema:"the message id"`
}

type doneOut struct {
	Done    bool   `json:"done"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty" jsonschema:"its new id"`
}

func sendDraftTool() toolDef {
	return defineAsking("mail", &mcp.Tool{
		Name:        "send_draft",
		Title:       "Send a draft",
		Description: "Sends a draft created with create_draft. It cannot be undone, and is never repeated automatically after an unclear failure.",
		Annotations: annotations(false, false, false),
	}, sendDraftSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in deleteIn) (doneOut, error) {
		p, err := messagePath(in.ID)
		if err != nil {
			return doneOut{}, err
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + "/send"}, nil); err != nil {
			return doneOut{}, err
		}
		return doneOut{Done: true, Message: "Sent. A copy is in Sent Items."}, nil
	})
}

type replyIn struct {
	inMailbox
	ID       string `json:"id" jsonschema:"the message to reply to"`
	Comment  string `json:"comment" jsonschema:"the reply text, put above the quoted message"`
	ReplyAll bool   `json:"reply_all,omitempty" jsonschema:"reply to the sender and every recipient"`
}

func replyTool() toolDef {
	return defineAsking("mail", &mcp.Tool{
		Name:        "reply_to_message",
		Title:       "Reply",
		Description: "Replies to a message (to its sender, or with reply_all to everyone on it), quoting it. Sends at once; never repeated after an unclear failure.",
		Annotations: annotations(false, false, false),
	}, replySummary, func(ctx context.Context, g *graphapi.Client, s *Server, in replyIn) (doneOut, error) {
		p, err := messagePath(in.ID)
		if err != nil {
			return doneOut{}, err
		}
		action := "/reply"
		if in.ReplyAll {
			action = "/replyAll"
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + action, Body: map[string]string{"comment": in.Comment}}, nil); err != nil {
			return doneOut{}, err
		}
		return doneOut{Done: true, Message: "Reply sent."}, nil
	})
}

type forwardIn struct {
	inMailbox
	ID      string   `json:"id" jsonschema:"the message to forward"`
	To      []string `json:"to" jsonschema:"who to forward it to"`
	Comment string   `json:"comment,omitempty"`
}

func forwardTool() toolDef {
	return defineAsking("mail", &mcp.Tool{
		Name:        "forward_message",
		Title:       "Forward",
		Description: "Forwards a message, attachments included, with an optional comment. Sends at once; never repeated after an unclear failure.",
		Annotations: annotations(false, false, false),
	}, forwardSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in forwardIn) (doneOut, error) {
		p, err := messagePath(in.ID)
		if err != nil {
			return doneOut{}, err
		}
		if len(in.To) == 0 {
			return doneOut{}, invalid("give at least one recipient in to")
		}
		to, err := recipients("to", in.To)
		if err != nil {
			return doneOut{}, err
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + "/forward", Body: map[string]any{"comment": in.Comment, "toRecipients": to}}, nil); err != nil {
			return doneOut{}, err
		}
		return doneOut{Done: true, Message: "Forwarded."}, nil
	})
}

type moveIn struct {
	inMailbox
	ID     string `json:"id"`
	Folder string `json:"folder" jsonschema:"destination folder id or well-known name (archive, inbox, junkemail, ...)"`
}

func moveMessageTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:        "move_message",
		Title:       "Move a message",
		Description: "Moves a message to another folder. The moved message gets a new id, which is returned; the old id stops working.",
		Annotations: annotations(false, false, false),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in moveIn) (doneOut, error) {
		return move(ctx, g, in.ID, in.Folder)
	})
}

func move(ctx context.Context, g *graphapi.Client, id, folder string) (doneOut, error) {
	p, err := messagePath(id)
	if err != nil {
		return doneOut{}, err
	}
	if _, ok := idSegment(folder); !ok {
		return doneOut{}, invalid("folder must be a folder id or a well-known name")
	}
	var m gMessage
	if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + "/move", Body: map[string]string{"destinationId": folder}}, &m); err != nil {
		return doneOut{}, err
	}
	return doneOut{Done: true, Message: "Moved.", ID: m.ID}, nil
}

func deleteMessageTool() toolDef {
	return defineAsking("mail", &mcp.Tool{
		Name:        "delete_message",
		Title:       "Delete a message",
		Description: "Moves a message to Deleted Items, from where the user can still restore it. Returns its new id there.",
		Annotations: annotations(false, true, false),
	}, deleteMessageSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in deleteIn) (doneOut, error) {
		out, err := move(ctx, g, in.ID, "deleteditems")
		out.Message = "Moved to Deleted Items."
		return out, err
	})
}

type updateMessageIn struct {
	inMailbox
	ID         string    `json:"id"`
	IsRead     *bool     `json:"is_read,omitempty" jsonschema:"mark read (true) or unread (false)"`
	Flag       string    `json:"flag,omitempty" jsonschema:"flagged, complete or notFlagged"`
	Categories *[]string `json:"categories,omitempty" jsonschema:"replace the categories, such as [\"Red category\"]"`
}

func updateMessageTool() toolDef {
	return define("mail", &mcp.Tool{
		Name:        "update_message",
		Title:       "Mark, flag or categorize",
		Description: "Marks a message read or unread, flags it (flagged, complete, notFlagged) or sets its categories.",
		Annotations: annotations(false, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in updateMessageIn) (doneOut, error) {
		p, err := messagePath(in.ID)
		if err != nil {
			return doneOut{}, err
		}
		body := map[string]any{}
		if in.IsRead != nil {
			body["isRead"] = *in.IsRead
		}
		switch in.Flag {
		case "":
		case "flagged", "complete", "notFlagged":
			body["flag"] = map[string]string{"flagStatus": in.Flag}
		default:
			return doneOut{}, invalid("flag must be flagged, complete or notFlagged")
		}
		if in.Categories != nil {
			body["categories"] = *in.Categories
		}
		if len(body) == 0 {
			return doneOut{}, invalid("give is_read, flag or categories")
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "PATCH", Path: p, Body: body, Safe: true}, nil); err != nil {
			return doneOut{}, err
		}
		return doneOut{Done: true, Message: "Updated.", ID: in.ID}, nil
	})
}
