package mcpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/yuin/goldmark"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// Teams chats and channels (the teams.chats and teams.channels
// capabilities). Messages reach agents as compact text, one line each
// (who, when, what), inside an untrusted block: everyone in the chat wrote
// them.

// Graph's shapes, as far as graphgate reads them.
type (
	gIdentity struct {
		User *struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
	}
	gChatMessage struct {
		ID          string     `json:"id"`
		ReplyToID   string     `json:"replyToId"`
		MessageType string     `json:"messageType"`
		Created     string     `json:"createdDateTime"`
		Deleted     *string    `json:"deletedDateTime"`
		Subject     string     `json:"subject"`
		From        *gIdentity `json:"from"`
		Body        struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
		Mentions []struct {
			MentionText string `json:"mentionText"`
		} `json:"mentions"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Name        string `json:"name"`
			ContentURL  string `json:"contentUrl"`
		} `json:"attachments"`
		EventDetail map[string]any `json:"eventDetail"`
		Replies     []gChatMessage `json:"replies"`
	}
	gChat struct {
		ID       string `json:"id"`
		Topic    string `json:"topic"`
		ChatType string `json:"chatType"`
		Members  []struct {
			DisplayName string `json:"displayName"`
			Email       string `json:"email"`
		} `json:"members"`
		LastMessagePreview *gChatMessage `json:"lastMessagePreview"`
	}
)

// MessageOut is a chat or channel message.
type MessageOut struct {
	ID   string `json:"id"`
	From string `json:"from,omitempty"`
	At   string `json:"at" jsonschema:"local time in the person's zone"`
	// Text is the body as Markdown; empty for a system or deleted message.
	Text        string   `json:"text,omitempty"`
	Kind        string   `json:"kind,omitempty" jsonschema:"system or deleted; empty for a message"`
	Mentions    []string `json:"mentions,omitempty"`
	Attachments []string `json:"attachments,omitempty" jsonschema:"file names and links"`
	ReplyTo     string   `json:"reply_to,omitempty"`
	Replies     *int     `json:"replies,omitempty" jsonschema:"a channel thread's reply count"`
}

// line is a message in one line for a listing: the text is cut to its
// first lines, Markdown's line breaks kept as " / ".
func (m MessageOut) line() string {
	var b strings.Builder
	b.WriteString("[" + m.ID + "] " + m.At + " ")
	switch m.Kind {
	case "system":
		b.WriteString("(system) " + m.Text)
		return b.String()
	case "deleted":
		b.WriteString(m.From + ": (deleted)")
		return b.String()
	}
	b.WriteString(m.From + ": " + strings.Join(strings.Fields(strings.ReplaceAll(m.Text, "\n", " / ")), " "))
	if m.Replies != nil {
		fmt.Fprintf(&b, " (%d replies)", *m.Replies)
	}
	if len(m.Attachments) > 0 {
		b.WriteString(" [files: " + strings.Join(m.Attachments, "; ") + "]")
	}
	return b.String()
}

var (
	mentionTag    = regexp.MustCompile(`(?is)<at\b[^>]*>(.*?)</at>`)
	attachmentTag = regexp.MustCompile(`(?is)<attachment\b[^>]*>\s*</attachment>`)
)

// messageText is a message's body as Markdown: mentions as @Name, the
// markers of attachments (named apart) left out.
func messageText(contentType, content string) string {
	if !strings.EqualFold(contentType, "html") {
		return strings.TrimSpace(content)
	}
	content = mentionTag.ReplaceAllString(content, "@$1")
	content = attachmentTag.ReplaceAllString(content, "")
	return noteText("html", content)
}

// toMessage reads a Graph chatMessage for the person's zone; text is cut
// to max runes (0: whole).
func toMessage(m gChatMessage, loc *time.Location, max int) MessageOut {
	out := MessageOut{ID: m.ID, ReplyTo: m.ReplyToID}
	if at, err := time.Parse(time.RFC3339Nano, m.Created); err == nil {
		out.At = at.In(loc).Format("2006-01-02 15:04")
	}
	if m.From != nil && m.From.User != nil {
		out.From = oneline.Clean(m.From.User.DisplayName)
	}
	switch {
	case m.Deleted != nil && *m.Deleted != "":
		out.Kind = "deleted"
		return out
	case m.MessageType != "message" && m.MessageType != "":
		out.Kind = "system"
		event, _ := m.EventDetail["@odata.type"].(string)
		event = strings.TrimSuffix(strings.TrimPrefix(event, "#microsoft.graph."), "EventMessageDetail")
		out.Text = oneline.Clean(spaceWords(event))
		return out
	}
	text := messageText(m.Body.ContentType, m.Body.Content)
	if m.Subject != "" {
		text = "**" + m.Subject + "** " + text
	}
	if max > 0 {
		text = trimRunes(text, max)
	}
	out.Text = text
	for _, mention := range m.Mentions {
		out.Mentions = append(out.Mentions, oneline.Clean(mention.MentionText))
	}
	for _, a := range m.Attachments {
		switch {
		case a.ContentType == "reference" && a.Name != "":
			out.Attachments = append(out.Attachments, oneline.Clean(a.Name)+" <"+oneline.Clean(a.ContentURL)+">")
		case a.ContentType == "messageReference":
			out.Text = "(replying to an earlier message) " + out.Text
		case a.Name != "":
			out.Attachments = append(out.Attachments, oneline.Clean(a.Name))
		default:
			out.Attachments = append(out.Attachments, "a card ("+oneline.Clean(a.ContentType)+")")
		}
	}
	if m.Replies != nil {
		n := len(m.Replies)
		out.Replies = &n
	}
	return out
}

// spaceWords turns chatRenamed into "chat renamed".
func spaceWords(camel string) string {
	var b strings.Builder
	for i, r := range camel {
		if r >= 'A' && r <= 'Z' && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

// messagesOut is a page of a chat's messages or a channel's threads.
type messagesOut struct {
	Where      string       `json:"where" jsonschema:"the chat, channel or thread listed"`
	Messages   []MessageOut `json:"messages"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// Text is where, then one line per message inside one untrusted block.
func (o messagesOut) Text() string {
	var lines []string
	for _, m := range o.Messages {
		lines = append(lines, m.line())
	}
	text := fmt.Sprintf("%d messages in %s, newest first", len(o.Messages), o.Where)
	if len(lines) > 0 {
		text += "\n" + untrusted("Teams messages", strings.Join(lines, "\n"))
	}
	if o.NextCursor != "" {
		text += fmt.Sprintf("\nmore: pass cursor=%q", o.NextCursor)
	}
	return text
}

// messageRunes is how much of a message a listing shows.
const messageRunes = 600

var (
	teamsThreadID = regexp.MustCompile(`^19:[A-Za-z0-9_.\-]{1,200}@[A-Za-z0-9_.\-]{1,60}$`)
	guidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	messageID     = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// teamsPath checks the ids of a Teams address, each against its form, so
// that nothing in them reaches another path.
func teamsPath(format string, ids ...[2]string) (string, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		kind, v := id[0], id[1]
		ok := false
		switch kind {
		case "chat_id", "channel_id":
			ok = teamsThreadID.MatchString(v)
		case "team_id":
			ok = guidPattern.MatchString(v)
		case "thread_id", "reply_to":
			ok = messageID.MatchString(v)
		}
		if !ok {
			return "", invalid(fmt.Sprintf("%s %q is not a Teams id: take it from %s", kind, v, map[string]string{
				"chat_id": "list_chats", "channel_id": "list_channels", "team_id": "list_teams", "thread_id": "read_channel", "reply_to": "read_channel"}[kind]))
		}
		args[i] = url.PathEscape(v)
	}
	return fmt.Sprintf(format, args...), nil
}

// notInIt says in words what Teams answers with 403 or 404 for a chat or
// team: the person is not in it (or it does not exist).
func notInIt(err error, what string) error {
	var ge *graphapi.Error
	if errors.As(err, &ge) && (ge.Status == http.StatusForbidden || ge.Status == http.StatusNotFound) {
		return tell("This person is not a member of that %s, or it does not exist (Microsoft Teams: %s).", what, ge.Code)
	}
	return err
}

// markdownHTML turns the agent's text or simple Markdown into the HTML
// Teams shows; raw HTML in it is escaped, not passed on.
func markdownHTML(text string) (string, error) {
	var b bytes.Buffer
	if err := goldmark.Convert([]byte(text), &b); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// ChatOut is a chat in a listing.
type ChatOut struct {
	ID      string   `json:"id"`
	Type    string   `json:"type" jsonschema:"oneOnOne, group or meeting"`
	Topic   string   `json:"topic,omitempty"`
	Members []string `json:"members"`
	Last    string   `json:"last,omitempty" jsonschema:"the last message: when, who, its first line"`
}

type chatsOut struct {
	Chats      []ChatOut `json:"chats"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

func (o chatsOut) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d chats, latest activity first\n", len(o.Chats))
	for _, c := range o.Chats {
		members := c.Members
		if len(members) > 6 {
			members = append(members[:6:6], fmt.Sprintf("%d more", len(c.Members)-6))
		}
		fmt.Fprintf(&b, "- %s | %s", c.ID, c.Type)
		if c.Topic != "" {
			b.WriteString(" | " + c.Topic)
		}
		b.WriteString(" | " + strings.Join(members, ", "))
		if c.Last != "" {
			b.WriteString(" | last: " + c.Last)
		}
		b.WriteByte('\n')
	}
	if o.NextCursor != "" {
		fmt.Fprintf(&b, "more: pass cursor=%q", o.NextCursor)
	}
	return strings.TrimRight(b.String(), "\n")
}

type listChatsIn struct {
	PageSize int    `json:"page_size,omitempty" jsonschema:"chats per page, 1 to 50; default 20" bounds:"1,50"`
	Cursor   string `json:"cursor,omitempty"`
}

func listChatsTool() toolDef {
	return define("teams", &mcp.Tool{
		Name:        "list_chats",
		Title:       "List Teams chats",
		Description: "Lists the person's Teams chats, latest activity first: members, topic, the last message's first line. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listChatsIn) (chatsOut, error) {
		size, err := pageSize(in.PageSize, 20, 50)
		if err != nil {
			return chatsOut{}, err
		}
		loc, _, err := s.zoneOf(ctx, g, "")
		if err != nil {
			return chatsOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true, Path: "me/chats", Query: url.Values{
			"$expand": {"members,lastMessagePreview"}, "$orderby": {"lastMessagePreview/createdDateTime desc"}, "$top": {fmt.Sprint(size)}}}
		if in.Cursor != "" {
			if req.Path, err = s.pathOfCursor(ctx, in.Cursor); err != nil {
				return chatsOut{}, err
			}
			req.Query = nil
		}
		var res struct {
			Value []gChat `json:"value"`
			Next  string  `json:"@odata.nextLink"`
		}
		if _, err := g.Do(ctx, req, &res); err != nil {
			return chatsOut{}, err
		}
		out := chatsOut{Chats: []ChatOut{}}
		if out.NextCursor, err = s.cursorOf(ctx, res.Next, pageCursorTTL); err != nil {
			return chatsOut{}, err
		}
		for _, c := range res.Value {
			co := ChatOut{ID: c.ID, Type: c.ChatType, Topic: oneline.Clean(c.Topic), Members: []string{}}
			for _, m := range c.Members {
				co.Members = append(co.Members, oneline.Clean(m.DisplayName))
			}
			if p := c.LastMessagePreview; p != nil {
				m := toMessage(*p, loc, 0)
				first, _, _ := strings.Cut(m.Text, "\n")
				if m.Kind != "" {
					first = "(" + m.Kind + ")"
				}
				co.Last = strings.TrimSpace(m.At + " " + m.From + ": " + trimRunes(oneline.Clean(first), 120))
			}
			out.Chats = append(out.Chats, co)
		}
		return out, nil
	})
}

type readChatIn struct {
	ChatID   string `json:"chat_id" jsonschema:"from list_chats"`
	PageSize int    `json:"page_size,omitempty" jsonschema:"messages per page, 1 to 50; default 25" bounds:"1,50"`
	Cursor   string `json:"cursor,omitempty"`
}

func readChatTool() toolDef {
	return define("teams", &mcp.Tool{
		Name:  "read_chat",
		Title: "Read a Teams chat",
		Description: "Reads a chat's messages, newest first, one line each (who, when, what; mentions as @Name, files named, " +
			"system and deleted messages said so). " + untrustedToolNote,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in readChatIn) (messagesOut, error) {
		p, err := teamsPath("chats/%s/messages", [2]string{"chat_id", in.ChatID})
		if err != nil {
			return messagesOut{}, err
		}
		size, err := pageSize(in.PageSize, 25, 50)
		if err != nil {
			return messagesOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true, Path: p, Query: url.Values{"$top": {fmt.Sprint(size)}, "$orderby": {"createdDateTime desc"}}}
		return s.readMessages(ctx, g, req, in.Cursor, "chat "+in.ChatID, "chat")
	})
}

// readMessages reads a page of messages (first, or the one a cursor of
// the same listing names).
func (s *Server) readMessages(ctx context.Context, g *graphapi.Client, req graphapi.Request, cursor, where, what string) (messagesOut, error) {
	loc, _, err := s.zoneOf(ctx, g, "")
	if err != nil {
		return messagesOut{}, err
	}
	if cursor != "" {
		p, err := s.pathOfCursor(ctx, cursor)
		if err != nil {
			return messagesOut{}, err
		}
		if !under(p, req.Path+"?") {
			return messagesOut{}, errBadCursor
		}
		req.Path, req.Query = p, nil
	}
	var res struct {
		Value []gChatMessage `json:"value"`
		Next  string         `json:"@odata.nextLink"`
	}
	if _, err := g.Do(ctx, req, &res); err != nil {
		return messagesOut{}, notInIt(err, what)
	}
	out := messagesOut{Where: where, Messages: []MessageOut{}}
	if out.NextCursor, err = s.cursorOf(ctx, res.Next, pageCursorTTL); err != nil {
		return messagesOut{}, err
	}
	for _, m := range res.Value {
		out.Messages = append(out.Messages, toMessage(m, loc, messageRunes))
	}
	return out, nil
}

type sendChatIn struct {
	ChatID string `json:"chat_id" jsonschema:"from list_chats"`
	Text   string `json:"text" jsonschema:"the message: text or simple Markdown"`
}

// postedOut is a message sent.
type postedOut struct {
	ID string `json:"id"`
	At string `json:"at"`
}

func sendChatMessageTool() toolDef {
	return defineAsking("teams", &mcp.Tool{
		Name:        "send_chat_message",
		Title:       "Send a Teams chat message",
		Description: "Sends a message in a Teams chat as the person. Cannot be undone.",
		Annotations: annotations(false, false, false),
	}, func(ctx context.Context, g *graphapi.Client, in sendChatIn) (preview, error) {
		p, err := teamsPath("chats/%s", [2]string{"chat_id", in.ChatID})
		if err != nil {
			return preview{}, err
		}
		var c gChat
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Safe: true, Path: p, Query: url.Values{"$expand": {"members"}}}, &c); err != nil {
			return preview{}, notInIt(err, "chat")
		}
		var names []string
		for _, m := range c.Members {
			names = append(names, m.DisplayName)
		}
		return preview{text: brief("Send this Teams message?", [][2]string{{"Chat", c.Topic}, {"Members", strings.Join(names, ", ")}}, in.Text)}, nil
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in sendChatIn) (postedOut, error) {
		p, err := teamsPath("chats/%s/messages", [2]string{"chat_id", in.ChatID})
		if err != nil {
			return postedOut{}, err
		}
		return s.postMessage(ctx, g, p, in.Text, "chat")
	})
}

// postMessage posts text (Markdown) as an HTML message.
func (s *Server) postMessage(ctx context.Context, g *graphapi.Client, p, text, what string) (postedOut, error) {
	if strings.TrimSpace(text) == "" {
		return postedOut{}, invalid("give the message's text")
	}
	if len(text) > 20000 {
		return postedOut{}, invalid("the text is too long for a Teams message (at most 20,000 bytes)")
	}
	body, err := markdownHTML(text)
	if err != nil {
		return postedOut{}, invalid("the text could not be read as Markdown")
	}
	var m gChatMessage
	if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p, Body: map[string]any{
		"body": map[string]string{"contentType": "html", "content": body}}}, &m); err != nil {
		return postedOut{}, notInIt(err, what)
	}
	loc, _, err := s.zoneOf(ctx, g, "")
	if err != nil {
		return postedOut{}, err
	}
	return postedOut{ID: m.ID, At: toMessage(m, loc, 0).At}, nil
}

// TeamOut is a team or a channel.
type TeamOut struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Private     bool   `json:"private,omitempty"`
}

type teamsOut struct {
	Teams []TeamOut `json:"teams"`
}

type channelsOut struct {
	Channels []TeamOut `json:"channels"`
}

func listTeamsTool() toolDef {
	return define("teams", &mcp.Tool{
		Name:        "list_teams",
		Title:       "List teams",
		Description: "Lists the teams the person is a member of. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, _ struct{}) (teamsOut, error) {
		var res struct {
			Value []struct{ ID, DisplayName, Description string } `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Safe: true, Path: "me/joinedTeams"}, &res); err != nil {
			return teamsOut{}, err
		}
		out := teamsOut{Teams: []TeamOut{}}
		for _, t := range res.Value {
			out.Teams = append(out.Teams, TeamOut{ID: t.ID, Name: oneline.Clean(t.DisplayName), Description: trimRunes(oneline.Clean(t.Description), 200)})
		}
		return out, nil
	})
}

type listChannelsIn struct {
	TeamID string `json:"team_id" jsonschema:"from list_teams"`
}

func listChannelsTool() toolDef {
	return define("teams", &mcp.Tool{
		Name:        "list_channels",
		Title:       "List channels",
		Description: "Lists a team's channels the person can see. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listChannelsIn) (channelsOut, error) {
		p, err := teamsPath("teams/%s/channels", [2]string{"team_id", in.TeamID})
		if err != nil {
			return channelsOut{}, err
		}
		var res struct {
			Value []struct{ ID, DisplayName, Description, MembershipType string } `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Safe: true, Path: p}, &res); err != nil {
			return channelsOut{}, notInIt(err, "team")
		}
		out := channelsOut{Channels: []TeamOut{}}
		for _, c := range res.Value {
			out.Channels = append(out.Channels, TeamOut{ID: c.ID, Name: oneline.Clean(c.DisplayName),
				Description: trimRunes(oneline.Clean(c.Description), 200), Private: c.MembershipType == "private"})
		}
		return out, nil
	})
}

type readChannelIn struct {
	TeamID    string `json:"team_id" jsonschema:"from list_teams"`
	ChannelID string `json:"channel_id" jsonschema:"from list_channels"`
	ThreadID  string `json:"thread_id,omitempty" jsonschema:"a thread's id: its replies instead of the threads"`
	PageSize  int    `json:"page_size,omitempty" jsonschema:"1 to 50; default 20" bounds:"1,50"`
	Cursor    string `json:"cursor,omitempty"`
}

func readChannelTool() toolDef {
	return define("teams", &mcp.Tool{
		Name:  "read_channel",
		Title: "Read a channel",
		Description: "Reads a channel's threads, newest first, with reply counts; with thread_id, that thread's replies. " +
			"One line per message. " + untrustedToolNote,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in readChannelIn) (messagesOut, error) {
		ids := [][2]string{{"team_id", in.TeamID}, {"channel_id", in.ChannelID}}
		format, where := "teams/%s/channels/%s/messages", "channel "+in.ChannelID
		query := url.Values{"$expand": {"replies"}}
		if in.ThreadID != "" {
			ids = append(ids, [2]string{"thread_id", in.ThreadID})
			format, where, query = format+"/%s/replies", "thread "+in.ThreadID, url.Values{}
		}
		p, err := teamsPath(format, ids...)
		if err != nil {
			return messagesOut{}, err
		}
		size, err := pageSize(in.PageSize, 20, 50)
		if err != nil {
			return messagesOut{}, err
		}
		query.Set("$top", fmt.Sprint(size))
		return s.readMessages(ctx, g, graphapi.Request{Method: "GET", Safe: true, Path: p, Query: query}, in.Cursor, where, "team or channel")
	})
}

type postChannelIn struct {
	TeamID    string `json:"team_id" jsonschema:"from list_teams"`
	ChannelID string `json:"channel_id" jsonschema:"from list_channels"`
	ReplyTo   string `json:"reply_to,omitempty" jsonschema:"a thread's id to answer; default a new thread"`
	Text      string `json:"text" jsonschema:"the message: text or simple Markdown"`
}

func postChannelMessageTool() toolDef {
	return defineAsking("teams", &mcp.Tool{
		Name:        "post_channel_message",
		Title:       "Post in a channel",
		Description: "Starts a thread in a Teams channel, or answers one (reply_to), as the person. Cannot be undone.",
		Annotations: annotations(false, false, false),
	}, func(ctx context.Context, g *graphapi.Client, in postChannelIn) (preview, error) {
		p, err := teamsPath("teams/%s/channels/%s", [2]string{"team_id", in.TeamID}, [2]string{"channel_id", in.ChannelID})
		if err != nil {
			return preview{}, err
		}
		var ch struct{ DisplayName string }
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Safe: true, Path: p, Query: url.Values{"$select": {"displayName"}}}, &ch); err != nil {
			return preview{}, notInIt(err, "team or channel")
		}
		question, thread := "Post this in the channel?", ""
		if in.ReplyTo != "" {
			question, thread = "Post this reply in the channel?", "reply to thread "+in.ReplyTo
		}
		return preview{text: brief(question, [][2]string{{"Channel", ch.DisplayName}, {"Thread", thread}}, in.Text)}, nil
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in postChannelIn) (postedOut, error) {
		ids := [][2]string{{"team_id", in.TeamID}, {"channel_id", in.ChannelID}}
		format := "teams/%s/channels/%s/messages"
		if in.ReplyTo != "" {
			ids = append(ids, [2]string{"reply_to", in.ReplyTo})
			format += "/%s/replies"
		}
		p, err := teamsPath(format, ids...)
		if err != nil {
			return postedOut{}, err
		}
		return s.postMessage(ctx, g, p, in.Text, "team or channel")
	})
}
