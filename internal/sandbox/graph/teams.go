package graph

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"graphgate/internal/sandbox/directory"
)

// Microsoft Teams: chats (/me/chats, /chats/{id}/messages), joined teams,
// channels and their threads. Work and school accounts only: personal
// accounts cannot be granted these scopes at all. Non-members are refused
// with 403, as Teams does for a chat or team the caller is not in.

var (
	scopesChatRead     = []string{"Chat.ReadBasic", "Chat.Read", "Chat.ReadWrite"}
	scopesChatMessages = []string{"Chat.Read", "Chat.ReadWrite"}
	scopesChatSend     = []string{"ChatMessage.Send", "Chat.ReadWrite"}
	scopesTeams        = []string{"Team.ReadBasic.All"}
	scopesChannels     = []string{"Channel.ReadBasic.All"}
	scopesChannelRead  = []string{"ChannelMessage.Read.All"}
	scopesChannelSend  = []string{"ChannelMessage.Send"}
)

// Teamwork holds the tenant's chats and teams. Its lock guards all of them.
type Teamwork struct {
	mu     sync.RWMutex
	chats  []*Chat
	teams  []*Team
	lastID int64 // message ids are creation times in ms, kept unique
}

// Chat is a one-on-one, group or meeting chat.
type Chat struct {
	ID       string
	Type     string // oneOnOne, group, meeting
	Topic    string // empty for oneOnOne
	Members  []*directory.Person
	Created  time.Time
	messages []*ChatMessage // oldest first
}

// Team is a team and its channels.
type Team struct {
	ID, Name, Description string
	Members               []*directory.Person
	Channels              []*Channel
}

// Channel is a team's channel: root messages (threads) and their replies.
type Channel struct {
	ID, Name, Description string
	MembershipType        string              // standard or private
	Members               []*directory.Person // a private channel's; nil: the team's
	threads               []*ChatMessage      // oldest first
}

// ChatMessage is a message in a chat or channel.
type ChatMessage struct {
	ID         string
	ReplyToID  string
	From       *directory.Person // nil: a system event
	Created    time.Time
	Modified   time.Time
	Deleted    time.Time
	BodyType   string // text or html
	Body       string
	Importance string
	Mentions   []*directory.Person // <at id="i"> in Body names Mentions[i]
	// Attachments are files shared in the message (reference attachments).
	Attachments []MessageAttachment
	// Event, for a system message, is its eventDetail's @odata.type.
	Event   string
	replies []*ChatMessage
}

// MessageAttachment is a file linked from a message.
type MessageAttachment struct {
	Name, URL string
}

// Teams returns the store's chats and teams.
func (st *Store) Teams() *Teamwork { return st.teamwork }

func isMember(members []*directory.Person, p *directory.Person) bool {
	return slices.Contains(members, p)
}

// AddChat adds a chat; its id is derived from its members and topic.
func (tw *Teamwork) AddChat(c *Chat) *Chat {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	switch c.Type {
	case "oneOnOne":
		c.ID = "19:" + c.Members[0].ObjectID + "_" + c.Members[1].ObjectID + "@unq.gbl.spaces"
	case "meeting":
		c.ID = "19:meeting_" + StableID("", c.Topic)[:40] + "@thread.v2"
	default:
		c.ID = "19:" + hexID(c.Topic) + "@thread.v2"
	}
	tw.chats = append(tw.chats, c)
	return c
}

// AddTeam adds a team with its channels.
func (tw *Teamwork) AddTeam(t *Team) *Team {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	t.ID = guidOf("team", t.Name)
	for _, ch := range t.Channels {
		ch.ID = "19:" + hexID(t.Name+"/"+ch.Name) + "@thread.tacv2"
		if ch.MembershipType == "" {
			ch.MembershipType = "standard"
		}
	}
	tw.teams = append(tw.teams, t)
	return t
}

// Post adds a message to a chat (to a channel: AddThread, AddReply),
// filling its id and times.
func (tw *Teamwork) Post(c *Chat, m *ChatMessage) *ChatMessage { return tw.add(&c.messages, m) }

// AddThread starts a thread in a channel.
func (tw *Teamwork) AddThread(ch *Channel, m *ChatMessage) *ChatMessage {
	return tw.add(&ch.threads, m)
}

// add stamps m and appends it to list.
func (tw *Teamwork) add(list *[]*ChatMessage, m *ChatMessage) *ChatMessage {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.stamp(m)
	*list = append(*list, m)
	return m
}

// AddReply answers a thread.
func (tw *Teamwork) AddReply(root, m *ChatMessage) *ChatMessage {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.replyLocked(root, m)
	return m
}

func (tw *Teamwork) replyLocked(root, m *ChatMessage) {
	tw.stamp(m)
	m.ReplyToID = root.ID
	root.replies = append(root.replies, m)
}

// stamp gives a message Teams' id: its creation time in milliseconds.
func (tw *Teamwork) stamp(m *ChatMessage) {
	id := m.Created.UnixMilli()
	if id <= tw.lastID {
		id = tw.lastID + 1
	}
	tw.lastID = id
	m.ID = strconv.FormatInt(id, 10)
	if m.Modified.IsZero() {
		m.Modified = m.Created
	}
	if m.BodyType == "" {
		m.BodyType = "text"
	}
	if m.Importance == "" {
		m.Importance = "normal"
	}
}

func hexID(seed string) string {
	const hex = "0123456789abcdef"
	sum := []byte(StableID("", seed))
	b := make([]byte, 32)
	for i := range b {
		b[i] = hex[sum[i]%16]
	}
	return string(b)
}

// guidOf derives a stable GUID.
func guidOf(parts ...string) string {
	h := hexID(strings.Join(parts, "|"))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func userIdentity(p *directory.Person) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": p.ObjectID, "displayName": p.DisplayName, "userIdentityType": "aadUser"}
}

func memberJSON(p *directory.Person, container string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember",
		"id":    base64.StdEncoding.EncodeToString([]byte("1#" + container + "#" + p.ObjectID)),
		"roles": []string{"owner"}, "displayName": p.DisplayName, "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
		"userId": p.ObjectID, "email": p.UPN, "tenantId": p.Tenant.ID}
}

// view renders a message as Graph does; chatID or the channel's identity
// says where it is.
func (m *ChatMessage) view(chatID string, team *Team, ch *Channel) map[string]any {
	ms := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	v := map[string]any{"@odata.type": "#microsoft.graph.chatMessage", "id": m.ID, "replyToId": nil, "etag": m.ID,
		"messageType": "message", "createdDateTime": ms(m.Created), "lastModifiedDateTime": ms(m.Modified),
		"lastEditedDateTime": nil, "deletedDateTime": nil, "subject": nil, "summary": nil, "chatId": nil,
		"importance": m.Importance, "locale": "en-us", "webUrl": nil, "policyViolation": nil, "eventDetail": nil,
		"from": nil, "channelIdentity": nil, "attachments": []any{}, "mentions": []any{}, "reactions": []any{},
		"body": map[string]string{"contentType": m.BodyType, "content": m.Body}}
	if m.ReplyToID != "" {
		v["replyToId"] = m.ReplyToID
	}
	if m.From != nil {
		v["from"] = map[string]any{"application": nil, "device": nil, "user": userIdentity(m.From)}
	}
	if chatID != "" {
		v["chatId"] = chatID
		v["messageHistory"] = []any{}
	} else {
		v["channelIdentity"] = map[string]string{"teamId": team.ID, "channelId": ch.ID}
		v["webUrl"] = "https://teams.microsoft.com/l/message/" + ch.ID + "/" + m.ID
	}
	if m.Event != "" {
		// Without Prefer: include-unknown-enum-members, as graphgate asks.
		v["messageType"] = "unknownFutureValue"
		v["body"] = map[string]string{"contentType": "html", "content": "<systemEventMessage/>"}
		v["eventDetail"] = map[string]any{"@odata.type": m.Event}
	}
	if !m.Deleted.IsZero() {
		v["deletedDateTime"] = ms(m.Deleted)
		v["body"] = map[string]string{"contentType": "text", "content": ""}
	}
	var mentions []any
	for i, p := range m.Mentions {
		mentions = append(mentions, map[string]any{"id": i, "mentionText": p.DisplayName,
			"mentioned": map[string]any{"application": nil, "device": nil, "conversation": nil, "user": userIdentity(p)}})
	}
	if mentions != nil {
		v["mentions"] = mentions
	}
	var atts []any
	for _, a := range m.Attachments {
		id := guidOf("attachment", m.ID, a.Name)
		atts = append(atts, map[string]any{"id": id, "contentType": "reference", "contentUrl": a.URL, "content": nil,
			"name": a.Name, "thumbnailUrl": nil, "teamsAppId": nil})
	}
	if atts != nil {
		v["attachments"] = atts
	}
	return v
}

// chatFor finds a chat the caller is in.
func (tw *Teamwork) chatFor(id string, p *directory.Person) (*Chat, *apiError) {
	for _, c := range tw.chats {
		if c.ID == id {
			if !isMember(c.Members, p) {
				return nil, &apiError{http.StatusForbidden, "Forbidden", "Forbidden"}
			}
			return c, nil
		}
	}
	return nil, &apiError{http.StatusNotFound, "NotFound", "Chat " + id + " was not found."}
}

func (tw *Teamwork) teamFor(id string, p *directory.Person) (*Team, *apiError) {
	for _, t := range tw.teams {
		if t.ID == id {
			if !isMember(t.Members, p) {
				return nil, &apiError{http.StatusForbidden, "Forbidden", "Forbidden"}
			}
			return t, nil
		}
	}
	return nil, &apiError{http.StatusNotFound, "NotFound", "No team found with Group Id " + id}
}

func (tw *Teamwork) channelFor(teamID, channelID string, p *directory.Person) (*Team, *Channel, *apiError) {
	t, e := tw.teamFor(teamID, p)
	if e != nil {
		return nil, nil, e
	}
	for _, ch := range t.Channels {
		if ch.ID == channelID && (ch.Members == nil || isMember(ch.Members, p)) {
			return t, ch, nil
		}
	}
	return nil, nil, &apiError{http.StatusNotFound, "NotFound", "Channel not found."}
}

var (
	chatType = entityType{name: "microsoft.graph.chat", props: map[string]bool{"lastmessagepreview/createddatetime": true},
		maxTop: 50, defTop: 50, skipName: "$skiptoken"}
	chatMessageType = entityType{name: "microsoft.graph.chatMessage", props: map[string]bool{"createddatetime": true, "lastmodifieddatetime": true},
		maxTop: 50, defTop: 50, skipName: "$skiptoken"}
	channelMessageType = entityType{name: "microsoft.graph.chatMessage", props: map[string]bool{}, maxTop: 50, defTop: 20, skipName: "$skiptoken"}
)

// listChats serves /me/chats: $expand members and lastMessagePreview, and
// the one $orderby Teams supports, which leaves out chats with no message.
func (s *Server) listChats(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, chatType)
	if e != nil {
		e.write(w, r)
		return
	}
	if len(lq.orderby) > 0 && (len(lq.orderby) > 1 || !lq.orderby[0].desc) {
		badRequest("BadRequest", "Only lastMessagePreview/createdDateTime desc is supported for $orderby.").write(w, r)
		return
	}
	expand := strings.Split(strings.ToLower(r.URL.Query().Get("$expand")), ",")
	tw := s.store.teamwork
	me := mb.Owner
	tw.mu.RLock()
	var chats []*Chat
	for _, c := range tw.chats {
		if isMember(c.Members, me) && (len(lq.orderby) == 0 || len(c.messages) > 0) {
			chats = append(chats, c)
		}
	}
	last := func(c *Chat) time.Time {
		if len(c.messages) == 0 {
			return c.Created
		}
		return c.messages[len(c.messages)-1].Created
	}
	if len(lq.orderby) > 0 {
		slices.SortStableFunc(chats, func(a, b *Chat) int { return last(b).Compare(last(a)) })
	}
	chats, next := page(r, chats, lq, chatType)
	var views []map[string]any
	for _, c := range chats {
		v := map[string]any{"id": c.ID, "topic": nil, "chatType": c.Type, "createdDateTime": c.Created.UTC().Format(time.RFC3339Nano),
			"lastUpdatedDateTime": last(c).UTC().Format(time.RFC3339Nano), "tenantId": me.Tenant.ID,
			"webUrl":    "https://teams.microsoft.com/l/chat/" + c.ID + "/0?tenantId=" + me.Tenant.ID,
			"viewpoint": map[string]any{"isHidden": false, "lastMessageReadDateTime": last(c).UTC().Format(time.RFC3339Nano)}}
		if c.Topic != "" {
			v["topic"] = c.Topic
		}
		if slices.Contains(expand, "members") {
			var members []any
			for _, p := range c.Members[:min(len(c.Members), 25)] { // Teams' known limit
				members = append(members, memberJSON(p, c.ID))
			}
			v["members"] = members
		}
		if slices.Contains(expand, "lastmessagepreview") {
			v["lastMessagePreview"] = nil
			if n := len(c.messages); n > 0 {
				m := c.messages[n-1]
				full := m.view(c.ID, nil, nil)
				v["lastMessagePreview"] = map[string]any{"id": m.ID, "createdDateTime": full["createdDateTime"], "isDeleted": !m.Deleted.IsZero(),
					"messageType": full["messageType"], "eventDetail": full["eventDetail"], "body": full["body"], "from": full["from"]}
			}
		}
		views = append(views, v)
	}
	tw.mu.RUnlock()
	writeCollection(w, r, "chats", views, next, lq.selects, map[string]any{"@odata.count": len(views)})
}

// listChatMessages serves /chats/{chat}/messages: newest first by
// lastModifiedDateTime, or by createdDateTime when asked; descending only.
func (s *Server) listChatMessages(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, chatMessageType)
	if e != nil {
		e.write(w, r)
		return
	}
	if len(lq.orderby) > 1 || len(lq.orderby) == 1 && !lq.orderby[0].desc {
		badRequest("BadRequest", "Only descending order is supported for $orderby.").write(w, r)
		return
	}
	tw := s.store.teamwork
	tw.mu.RLock()
	c, e := tw.chatFor(r.PathValue("chat"), mb.Owner)
	if e != nil {
		tw.mu.RUnlock()
		e.write(w, r)
		return
	}
	msgs := slices.Clone(c.messages)
	byCreated := len(lq.orderby) == 1 && lq.orderby[0].prop == "createddatetime"
	slices.SortStableFunc(msgs, func(a, b *ChatMessage) int {
		if byCreated {
			return b.Created.Compare(a.Created)
		}
		return b.Modified.Compare(a.Modified)
	})
	msgs, next := page(r, msgs, lq, chatMessageType)
	var views []map[string]any
	for _, m := range msgs {
		views = append(views, m.view(c.ID, nil, nil))
	}
	tw.mu.RUnlock()
	writeCollection(w, r, "chats('"+c.ID+"')/messages", views, next, nil, map[string]any{"@odata.count": len(views)})
}

// newMessageBody reads a POSTed chatMessage: only its body.
func newMessageBody(w http.ResponseWriter, r *http.Request) (*ChatMessage, bool) {
	var in struct {
		Body *struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
	}
	if !decodeBody(w, r, &in) {
		return nil, false
	}
	switch {
	case in.Body == nil || strings.TrimSpace(in.Body.Content) == "":
		badRequest("BadRequest", "Message body cannot be empty.").write(w, r)
		return nil, false
	case in.Body.ContentType != "" && !strings.EqualFold(in.Body.ContentType, "text") && !strings.EqualFold(in.Body.ContentType, "html"):
		badRequest("BadRequest", "Invalid value '%s' for contentType.", in.Body.ContentType).write(w, r)
		return nil, false
	case len(in.Body.Content) > 28<<10:
		WriteError(w, r, http.StatusRequestEntityTooLarge, "MessageSizeExceeded", "Message size exceeded the limit of 28 KB.")
		return nil, false
	}
	kind := strings.ToLower(in.Body.ContentType)
	if kind == "" {
		kind = "text"
	}
	return &ChatMessage{BodyType: kind, Body: in.Body.Content}, true
}

func (s *Server) postChatMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	m, ok := newMessageBody(w, r)
	if !ok {
		return
	}
	tw := s.store.teamwork
	tw.mu.Lock()
	c, e := tw.chatFor(r.PathValue("chat"), mb.Owner)
	if e == nil {
		m.From, m.Created = mb.Owner, s.now()
		tw.stamp(m)
		c.messages = append(c.messages, m)
	}
	tw.mu.Unlock()
	if e != nil {
		e.write(w, r)
		return
	}
	tw.mu.RLock()
	v := m.view(c.ID, nil, nil)
	tw.mu.RUnlock()
	v["@odata.context"] = baseURL(r) + "/v1.0/$metadata#chats('" + c.ID + "')/messages/$entity"
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) joinedTeams(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	tw := s.store.teamwork
	tw.mu.RLock()
	var views []map[string]any
	for _, t := range tw.teams {
		if isMember(t.Members, mb.Owner) {
			views = append(views, map[string]any{"id": t.ID, "displayName": t.Name, "description": t.Description,
				"isArchived": false, "tenantId": mb.Owner.Tenant.ID})
		}
	}
	tw.mu.RUnlock()
	writeCollection(w, r, "teams", views, "", nil, map[string]any{"@odata.count": len(views)})
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	tw := s.store.teamwork
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	t, e := tw.teamFor(r.PathValue("team"), mb.Owner)
	if e != nil {
		e.write(w, r)
		return
	}
	var views []map[string]any
	for _, ch := range t.Channels {
		if ch.Members != nil && !isMember(ch.Members, mb.Owner) {
			continue // private channels the caller is not in are left out
		}
		views = append(views, map[string]any{"id": ch.ID, "displayName": ch.Name, "description": ch.Description,
			"membershipType": ch.MembershipType, "isArchived": false, "tenantId": mb.Owner.Tenant.ID,
			"createdDateTime": "2025-01-06T09:00:00Z", "email": "",
			"webUrl": "https://teams.microsoft.com/l/channel/" + ch.ID + "/" + ch.Name + "?groupId=" + t.ID + "&tenantId=" + mb.Owner.Tenant.ID})
	}
	writeCollection(w, r, "teams('"+t.ID+"')/channels", views, "", nil, map[string]any{"@odata.count": len(views)})
}

// listChannelMessages serves a channel's root messages, newest first;
// $expand=replies includes each thread's replies.
func (s *Server) listChannelMessages(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, channelMessageType)
	if e != nil {
		e.write(w, r)
		return
	}
	expand := strings.ToLower(r.URL.Query().Get("$expand"))
	if expand != "" && expand != "replies" {
		badRequest("BadRequest", "Only replies can be expanded.").write(w, r)
		return
	}
	tw := s.store.teamwork
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	t, ch, e := tw.channelFor(r.PathValue("team"), r.PathValue("channel"), mb.Owner)
	if e != nil {
		e.write(w, r)
		return
	}
	threads := slices.Clone(ch.threads)
	slices.Reverse(threads)
	threads, next := page(r, threads, lq, channelMessageType)
	var views []map[string]any
	for _, m := range threads {
		v := m.view("", t, ch)
		if expand == "replies" {
			replies := []any{}
			for _, rep := range m.replies {
				replies = append(replies, rep.view("", t, ch))
			}
			v["replies"] = replies
			v["replies@odata.context"] = baseURL(r) + "/v1.0/$metadata#teams('" + t.ID + "')/channels('" + ch.ID + "')/messages('" + m.ID + "')/replies"
		}
		views = append(views, v)
	}
	writeCollection(w, r, "teams('"+t.ID+"')/channels('"+ch.ID+"')/messages", views, next, nil, map[string]any{"@odata.count": len(views)})
}

func (ch *Channel) thread(id string) (*ChatMessage, *apiError) {
	for _, m := range ch.threads {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, &apiError{http.StatusNotFound, "NotFound", "Message not found."}
}

func (s *Server) listReplies(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, channelMessageType)
	if e != nil {
		e.write(w, r)
		return
	}
	tw := s.store.teamwork
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	t, ch, e := tw.channelFor(r.PathValue("team"), r.PathValue("channel"), mb.Owner)
	var root *ChatMessage
	if e == nil {
		root, e = ch.thread(r.PathValue("message"))
	}
	if e != nil {
		e.write(w, r)
		return
	}
	replies := slices.Clone(root.replies)
	slices.Reverse(replies)
	replies, next := page(r, replies, lq, channelMessageType)
	var views []map[string]any
	for _, m := range replies {
		views = append(views, m.view("", t, ch))
	}
	writeCollection(w, r, "teams('"+t.ID+"')/channels('"+ch.ID+"')/messages('"+root.ID+"')/replies", views, next, nil,
		map[string]any{"@odata.count": len(views)})
}

// postChannelMessage starts a thread, or with {message} answers one.
func (s *Server) postChannelMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	m, ok := newMessageBody(w, r)
	if !ok {
		return
	}
	tw := s.store.teamwork
	tw.mu.Lock()
	t, ch, e := tw.channelFor(r.PathValue("team"), r.PathValue("channel"), mb.Owner)
	if e == nil {
		m.From, m.Created = mb.Owner, s.now()
		if id := r.PathValue("message"); id != "" {
			var root *ChatMessage
			if root, e = ch.thread(id); e == nil {
				tw.replyLocked(root, m)
			}
		} else {
			tw.stamp(m)
			ch.threads = append(ch.threads, m)
		}
	}
	tw.mu.Unlock()
	if e != nil {
		e.write(w, r)
		return
	}
	tw.mu.RLock()
	v := m.view("", t, ch)
	tw.mu.RUnlock()
	writeJSON(w, http.StatusCreated, v)
}

// getChat serves GET /chats/{chat}, with $expand=members.
func (s *Server) getChat(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	tw := s.store.teamwork
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	c, e := tw.chatFor(r.PathValue("chat"), mb.Owner)
	if e != nil {
		e.write(w, r)
		return
	}
	v := map[string]any{"@odata.context": baseURL(r) + "/v1.0/$metadata#chats/$entity", "id": c.ID, "topic": nil, "chatType": c.Type,
		"createdDateTime": c.Created.UTC().Format(time.RFC3339Nano), "tenantId": mb.Owner.Tenant.ID}
	if c.Topic != "" {
		v["topic"] = c.Topic
	}
	if strings.Contains(strings.ToLower(r.URL.Query().Get("$expand")), "members") {
		var members []any
		for _, p := range c.Members {
			members = append(members, memberJSON(p, c.ID))
		}
		v["members"] = members
	}
	writeJSON(w, http.StatusOK, v)
}

// getChannel serves GET /teams/{team}/channels/{channel}.
func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	tw := s.store.teamwork
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	t, ch, e := tw.channelFor(r.PathValue("team"), r.PathValue("channel"), mb.Owner)
	if e != nil {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, project(map[string]any{"@odata.context": baseURL(r) + "/v1.0/$metadata#teams('" + t.ID + "')/channels/$entity",
		"id": ch.ID, "displayName": ch.Name, "description": ch.Description, "membershipType": ch.MembershipType, "isArchived": false}, selectParam(r)))
}

// Chat finds a chat by id, for tests and seeding; nil when there is none.
func (tw *Teamwork) Chat(id string) *Chat {
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	for _, c := range tw.chats {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// TeamID is the id of the team of that name; empty when there is none.
func (tw *Teamwork) TeamID(name string) string {
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	for _, t := range tw.teams {
		if t.Name == name {
			return t.ID
		}
	}
	return ""
}

// Bodies are the bodies of every message of a chat, or of a channel with
// its replies, oldest first: what tests check a post against.
func (tw *Teamwork) Bodies(id string) []string {
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	var out []string
	add := func(msgs []*ChatMessage) {
		for _, m := range msgs {
			out = append(out, m.Body)
			for _, r := range m.replies {
				out = append(out, r.Body)
			}
		}
	}
	for _, c := range tw.chats {
		if c.ID == id {
			add(c.messages)
		}
	}
	for _, t := range tw.teams {
		for _, ch := range t.Channels {
			if ch.ID == id {
				add(ch.threads)
			}
		}
	}
	return out
}
