package mcpserver_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"graphgate"
	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

type chatsJSON struct {
	Chats []struct {
		ID, Type, Topic, Last string
		Members               []string
	}
}

type messagesJSON struct {
	Messages []struct {
		ID, From, At, Text, Kind string
		Mentions, Attachments    []string
		Replies                  *int
	}
	NextCursor string `json:"next_cursor"`
}

// startTeams is alex with both Teams capabilities on and granted: channel
// messages need an admin, who grants them for Contoso first.
func startTeams(t *testing.T, env map[string]string) (*apptest.Linked, int64) {
	l := apptest.StartWithSandbox(t, env, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	setCapabilities(t, l, "teams.chats", "teams.channels")
	// The person allows what they may; channel messages wait for an admin.
	c := signedIn(t, l, "alex@contoso.test")
	l.AllowMore(t, c, "alex@contoso.test", "accept")
	if page := c.Get("/integrations").Body; !strings.Contains(page, "Waiting for your admin: Teams channels") {
		t.Fatalf("the tile while channel messages wait for an admin:\n%s", page)
	}
	if g := granted(t, l, alex); !graphgate.HasPermission(g, "Chat.ReadWrite") || !graphgate.HasPermission(g, "Channel.ReadBasic.All") ||
		graphgate.HasPermission(g, "ChannelMessage.Read.All") {
		t.Fatalf("granted before the admin: %v", g)
	}
	s := connect(t, l, agentToken(t, l, alex, false), "")
	if res := call(t, s, "read_channel", map[string]any{"team_id": "x", "channel_id": "y"}, nil); !res.IsError || !strings.Contains(errorText(res), "only an admin may grant") {
		t.Fatalf("read_channel before the admin: %s", errorText(res))
	}
	mustCall(t, s, "list_teams", nil, nil)
	l.GrantForOrganisation(t)
	if _, err := l.App.Tokens.KeepAlive(context.Background(), alex, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Chat.ReadWrite", "Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Read.All", "ChannelMessage.Send"} {
		if !graphgate.HasPermission(granted(t, l, alex), p) {
			t.Fatalf("%s not granted after the admin's consent: %v", p, granted(t, l, alex))
		}
	}
	return l, alex
}

// Teams chats: listed by latest activity, read as compact text (an HTML
// body with a mention, a shared file, a system and a deleted message),
// answered; a chat alex is not in is refused in words.
func TestTeamsChats(t *testing.T) { onEachDatabase(t, testTeamsChats) }

func testTeamsChats(t *testing.T, env map[string]string) {
	l, alex := startTeams(t, env)
	s := connect(t, l, agentToken(t, l, alex, false), "")
	tw := l.Sandbox.Graph.Store().Teams()

	var chats chatsJSON
	res := mustCall(t, s, "list_chats", nil, &chats)
	if len(chats.Chats) != 3 || chats.Chats[0].Type != "oneOnOne" || chats.Chats[1].Topic != "Launch crew" || chats.Chats[2].Type != "meeting" {
		t.Fatalf("alex's chats, latest first: %+v", chats)
	}
	if !slices.Equal(chats.Chats[1].Members, []string{"Alex Wilber", "Nina Patel", "Megan Bowen"}) ||
		!strings.Contains(chats.Chats[0].Last, "Nina Patel: Thanks! Can we move our **1:1** to Thursday?") {
		t.Fatalf("members and last message: %+v", chats.Chats[:2])
	}
	if strings.Contains(textOf(res), "reorg") {
		t.Fatal("a chat alex is not in was listed")
	}
	group := chats.Chats[1].ID

	var msgs messagesJSON
	res = mustCall(t, s, "read_chat", map[string]any{"chat_id": group}, &msgs)
	text := textOf(res)
	if len(msgs.Messages) != 5 || msgs.Messages[0].Text != "On it." {
		t.Fatalf("the group chat, newest first: %+v", msgs)
	}
	mention := msgs.Messages[1]
	want := "@Alex Wilber can you check the [press release](https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/Press%20release.docx) before noon?"
	if mention.Text != want || !slices.Equal(mention.Mentions, []string{"Alex Wilber"}) || mention.From != "Megan Bowen" {
		t.Fatalf("the HTML message with a mention: %+v", mention)
	}
	for _, line := range []string{"Megan Bowen: " + want, "Nina Patel: (deleted)", "(system) chat renamed"} {
		if !strings.Contains(text, line) {
			t.Errorf("the chat as text lacks %q:\n%s", line, text)
		}
	}
	if !strings.Contains(text, "<untrusted-content") || strings.Contains(text, "<at ") || strings.Contains(text, "<p>") {
		t.Fatalf("messages reach the agent as cleaned text in an untrusted block:\n%s", text)
	}
	var one messagesJSON
	mustCall(t, s, "read_chat", map[string]any{"chat_id": chats.Chats[0].ID}, &one)
	if a := one.Messages[1].Attachments; len(a) != 1 || !strings.HasPrefix(a[0], "Launch deck.pptx <https://") {
		t.Fatalf("a shared file is named with its link: %+v", one.Messages[1])
	}

	// Teams throttles a chat at one request a second: the wait is kept.
	if _, err := l.Sandbox.AddFault(sandbox.Fault{Method: "GET", Path: "^/v1.0/chats/.*/messages$", Status: 429, RetryAfter: "0.3", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if res := call(t, s, "read_chat", map[string]any{"chat_id": group, "page_size": 2}, nil); res.IsError {
		t.Fatalf("read_chat after a 429: %s", errorText(res))
	}

	// A chat alex is not in, and ids that are not Teams ids.
	private := "19:4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c07_4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c01@unq.gbl.spaces"
	if res := call(t, s, "read_chat", map[string]any{"chat_id": private}, nil); !res.IsError || !strings.Contains(errorText(res), "not a member of that chat") {
		t.Fatalf("another people's chat: %s", errorText(res))
	}
	for _, id := range []string{"../me/messages", "19:abc@thread.v2/../../me", "19:abc@thread.v2?x=1", ""} {
		if res := call(t, s, "read_chat", map[string]any{"chat_id": id}, nil); !res.IsError {
			t.Fatalf("chat_id %q was accepted", id)
		}
	}

	// Sending: simple Markdown becomes Teams' HTML; raw HTML is not passed on.
	var sent struct{ ID, At string }
	mustCall(t, s, "send_chat_message", map[string]any{"chat_id": group, "text": "**Done**, see the [plan](https://contoso.test/plan) <script>alert(1)</script> [x](javascript:alert(1))"}, &sent)
	bodies := tw.Bodies(group)
	last := bodies[len(bodies)-1]
	if sent.ID == "" || !strings.Contains(last, "<strong>Done</strong>") || !strings.Contains(last, `<a href="https://contoso.test/plan">plan</a>`) || strings.Contains(last, "<script") || strings.Contains(last, "javascript:") {
		t.Fatalf("the message sent: %+v %q", sent, last)
	}

	// 25 messages as text fit in 5 KB.
	busy := tw.Chat(group)
	alexP, nina := sandboxMailbox(t, l, "alex@contoso.test").Owner, sandboxMailbox(t, l, "nina@contoso.test").Owner
	for i := range 30 {
		from := []*directory.Person{alexP, nina}[i%2]
		tw.Post(busy, &graph.ChatMessage{From: from, Created: time.Now().Add(time.Duration(i) * time.Second), BodyType: "html",
			Body: fmt.Sprintf("<p>Update %d: the supplier confirmed the delivery for next week, and the booth layout is final.</p>", i)})
	}
	res = mustCall(t, s, "read_chat", map[string]any{"chat_id": group, "page_size": 25}, nil)
	t.Logf("25 chat messages: %d bytes of text", len(textOf(res)))
	if n := len(textOf(res)); n > 5<<10 {
		t.Errorf("25 chat messages take %d bytes of text, over 5 KB", n)
	}
	// The next page continues the same chat; its cursor reads no other.
	var page messagesJSON
	mustCall(t, s, "read_chat", map[string]any{"chat_id": group, "page_size": 25}, &page)
	if page.NextCursor == "" {
		t.Fatal("no next page")
	}
	if res := call(t, s, "read_chat", map[string]any{"chat_id": chats.Chats[0].ID, "cursor": page.NextCursor}, nil); !res.IsError {
		t.Fatal("a cursor of one chat read another")
	}
	var rest messagesJSON
	mustCall(t, s, "read_chat", map[string]any{"chat_id": group, "cursor": page.NextCursor}, &rest)
	if len(rest.Messages) == 0 || rest.Messages[0].ID == page.Messages[0].ID {
		t.Fatalf("the second page: %+v", rest)
	}
}

// Teams channels: the teams alex is in, their channels (not a private one
// he is not in), threads with reply counts, a thread's replies, posting
// and replying; another team is refused in words.
func TestTeamsChannels(t *testing.T) { onEachDatabase(t, testTeamsChannels) }

func testTeamsChannels(t *testing.T, env map[string]string) {
	l, alex := startTeams(t, env)
	s := connect(t, l, agentToken(t, l, alex, false), "")
	tw := l.Sandbox.Graph.Store().Teams()

	var teams struct{ Teams []struct{ ID, Name string } }
	mustCall(t, s, "list_teams", nil, &teams)
	if len(teams.Teams) != 1 || teams.Teams[0].Name != "Contoso Launch" {
		t.Fatalf("alex's teams: %+v", teams)
	}
	launch := teams.Teams[0].ID
	var channels struct {
		Channels []struct {
			ID, Name string
			Private  bool
		}
	}
	mustCall(t, s, "list_channels", map[string]any{"team_id": launch}, &channels)
	if len(channels.Channels) != 2 || channels.Channels[0].Name != "General" || channels.Channels[1].Name != "Marketing" {
		t.Fatalf("channels alex can see: %+v", channels)
	}
	general := channels.Channels[0].ID
	if res := call(t, s, "list_channels", map[string]any{"team_id": tw.TeamID("Finance")}, nil); !res.IsError || !strings.Contains(errorText(res), "not a member of that team") {
		t.Fatalf("a team alex is not in: %s", errorText(res))
	}

	var threads messagesJSON
	res := mustCall(t, s, "read_channel", map[string]any{"team_id": launch, "channel_id": general}, &threads)
	if len(threads.Messages) != 2 || threads.Messages[0].Replies == nil || *threads.Messages[0].Replies != 1 || *threads.Messages[1].Replies != 2 ||
		!strings.HasPrefix(threads.Messages[0].Text, "The launch date moves to **March 3**. @Alex Wilber @Nina Patel") {
		t.Fatalf("threads newest first with reply counts: %+v", threads)
	}
	if !strings.Contains(textOf(res), "(1 replies)") || !strings.Contains(textOf(res), "<untrusted-content") {
		t.Fatalf("threads as text:\n%s", textOf(res))
	}
	thread := threads.Messages[1].ID
	var replies messagesJSON
	mustCall(t, s, "read_channel", map[string]any{"team_id": launch, "channel_id": general, "thread_id": thread}, &replies)
	if len(replies.Messages) != 2 || replies.Messages[0].Text != "Same here." || replies.Messages[0].From != "Nina Patel" {
		t.Fatalf("a thread's replies, newest first: %+v", replies)
	}

	// A new thread, and a reply.
	mustCall(t, s, "post_channel_message", map[string]any{"team_id": launch, "channel_id": general, "text": "Kick-off at *ten*."}, nil)
	mustCall(t, s, "post_channel_message", map[string]any{"team_id": launch, "channel_id": general, "reply_to": thread, "text": "Thanks all"}, nil)
	bodies := tw.Bodies(general)
	if !slices.Contains(bodies, "<p>Kick-off at <em>ten</em>.</p>") || !slices.Contains(bodies, "<p>Thanks all</p>") {
		t.Fatalf("posted: %q", bodies)
	}
	mustCall(t, s, "read_channel", map[string]any{"team_id": launch, "channel_id": general, "thread_id": thread}, &replies)
	if len(replies.Messages) != 3 || replies.Messages[0].Text != "Thanks all" {
		t.Fatalf("the reply is in its thread: %+v", replies)
	}
	for _, args := range []map[string]any{
		{"team_id": "../me", "channel_id": general},
		{"team_id": launch, "channel_id": general + "/../x"},
		{"team_id": launch, "channel_id": general, "thread_id": "1/replies"},
	} {
		if res := call(t, s, "read_channel", args, nil); !res.IsError {
			t.Fatalf("crafted ids were accepted: %v", args)
		}
	}
}

// Sends and posts are gated by "Ask me before sending or deleting": the
// person sees where it goes and what it says; declined, nothing goes.
func TestTeamsAsksFirst(t *testing.T) {
	l, alex := startTeams(t, nil)
	token := askingToken(t, l, alex)
	tw := l.Sandbox.Graph.Store().Teams()
	var chats chatsJSON
	mustCall(t, connect(t, l, token, ""), "list_chats", nil, &chats)
	group := chats.Chats[1].ID
	launch := tw.TeamID("Contoso Launch")
	var channels struct{ Channels []struct{ ID string } }
	mustCall(t, connect(t, l, token, ""), "list_channels", map[string]any{"team_id": launch}, &channels)
	marketing := channels.Channels[1].ID

	for _, c := range []struct {
		tool  string
		args  map[string]any
		where string
		shown []string
	}{
		{"send_chat_message", map[string]any{"chat_id": group, "text": "Gated hello"}, group,
			[]string{"Send this Teams message?", "Chat: Launch crew", "Members: Alex Wilber, Nina Patel, Megan Bowen", "> Gated hello"}},
		{"post_channel_message", map[string]any{"team_id": launch, "channel_id": marketing, "text": "Gated hello"}, marketing,
			[]string{"Post this in the channel?", "Channel: Marketing", "> Gated hello"}},
	} {
		before := len(tw.Bodies(c.where))
		no := &person{answer: "decline"}
		if res := call(t, connectAsking(t, l, token, "2026-07-28", no), c.tool, c.args, nil); !res.IsError || len(tw.Bodies(c.where)) != before {
			t.Fatalf("%s declined: %s", c.tool, errorText(res))
		}
		yes := &person{answer: "accept"}
		mustCall(t, connectAsking(t, l, token, "2026-07-28", yes), c.tool, c.args, nil)
		if len(tw.Bodies(c.where)) != before+1 || len(yes.seen) != 1 {
			t.Fatalf("%s accepted: %d new, asked %d times", c.tool, len(tw.Bodies(c.where))-before, len(yes.seen))
		}
		for _, w := range c.shown {
			if !strings.Contains(yes.seen[0], w) {
				t.Errorf("%s: the person was not shown %q:\n%s", c.tool, w, yes.seen[0])
			}
		}
	}
}

// A personal account has no Teams: its agents are told so in words, and
// its link is never asked for Teams permissions.
func TestTeamsPersonalAccount(t *testing.T) {
	l := apptest.StartWithSandbox(t, nil, sandbox.Options{})
	setCapabilities(t, l, "teams.chats", "sharepoint")
	jo := l.SignInAndLink(t, "jo@outlook.test")
	if g := granted(t, l, jo); graphgate.HasPermission(g, "Chat.ReadWrite") || graphgate.HasPermission(g, "Sites.Read.All") {
		t.Fatalf("a personal account was granted work-only permissions: %v", g)
	}
	s := connect(t, l, agentToken(t, l, jo, false), "")
	names := toolNames(t, s)
	for _, tool := range []string{"list_chats", "search_sites"} {
		if slices.Contains(names, tool) {
			t.Fatalf("%s listed for a personal account", tool)
		}
		res := call(t, s, tool, map[string]any{"query": "x"}, nil)
		if !res.IsError || !strings.Contains(errorText(res), "does not offer personal accounts") {
			t.Fatalf("%s for a personal account: %s", tool, errorText(res))
		}
	}
	if res := call(t, s, "list_files", map[string]any{"drive": "b!x"}, nil); !res.IsError {
		t.Fatal("a personal account reached a library")
	}
}
