package seed

import (
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

// teamwork seeds Contoso's Teams: a one-on-one, a group and a meeting chat
// (and one alex is not in), and two teams with channels and threads, some
// messages with mentions, a shared file, an edit, a deletion and a system
// event, as people's real chats have.
func teamwork(store *graph.Store, dir *directory.Directory, anchor time.Time) {
	alex, nina, megan, dana, ok := contosoPeople(dir)
	if !ok {
		return
	}
	tw := store.Teams()
	ago := func(d time.Duration) time.Time { return anchor.Add(-d) }
	text := func(from *directory.Person, at time.Time, body string) *graph.ChatMessage {
		return &graph.ChatMessage{From: from, Created: at, Body: body}
	}
	html := func(from *directory.Person, at time.Time, body string, mentions ...*directory.Person) *graph.ChatMessage {
		return &graph.ChatMessage{From: from, Created: at, BodyType: "html", Body: body, Mentions: mentions}
	}

	one := tw.AddChat(&graph.Chat{Type: "oneOnOne", Members: []*directory.Person{alex, nina}, Created: ago(40 * 24 * time.Hour)})
	tw.Post(one, text(nina, ago(26*time.Hour), "Do you have the numbers for the launch review?"))
	tw.Post(one, text(alex, ago(25*time.Hour), "Yes, in the deck. Sending it over."))
	tw.Post(one, &graph.ChatMessage{From: alex, Created: ago(25*time.Hour - time.Minute), BodyType: "html",
		Body:        `<p>Here it is.</p><attachment id="deck"></attachment>`,
		Attachments: []graph.MessageAttachment{{Name: "Launch deck.pptx", URL: "https://contoso-my.sharepoint.com/personal/alex_contoso_test/Documents/Launch%20deck.pptx"}}})
	tw.Post(one, html(nina, ago(90*time.Minute), "<p>Thanks! Can we move our <strong>1:1</strong> to Thursday?</p>"))

	group := tw.AddChat(&graph.Chat{Type: "group", Topic: "Launch crew", Members: []*directory.Person{alex, nina, megan}, Created: ago(30 * 24 * time.Hour)})
	tw.Post(group, &graph.ChatMessage{Created: ago(30 * 24 * time.Hour), Event: "#microsoft.graph.chatRenamedEventMessageDetail"})
	tw.Post(group, text(megan, ago(50*time.Hour), "Printing the banners today."))
	tw.Post(group, &graph.ChatMessage{From: nina, Created: ago(49 * time.Hour), Body: "wrong chat, sorry", Deleted: ago(49*time.Hour - time.Minute)})
	tw.Post(group, html(megan, ago(3*time.Hour),
		`<p><at id="0">Alex Wilber</at> can you check the <a href="https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/Press%20release.docx">press release</a> before noon?</p>`, alex))
	tw.Post(group, text(alex, ago(2*time.Hour), "On it."))

	sync := tw.AddChat(&graph.Chat{Type: "meeting", Topic: "Weekly sync", Members: []*directory.Person{alex, megan, dana}, Created: ago(14 * 24 * time.Hour)})
	tw.Post(sync, text(dana, ago(7*24*time.Hour), "Agenda: budget, hiring, the launch."))
	tw.Post(sync, text(megan, ago(5*time.Hour), "Notes from today are in the team's OneNote."))

	// A chat alex is not in: reading it is refused.
	private := tw.AddChat(&graph.Chat{Type: "oneOnOne", Members: []*directory.Person{megan, dana}, Created: ago(10 * 24 * time.Hour)})
	tw.Post(private, text(dana, ago(6*time.Hour), "Can we talk about the reorg tomorrow?"))

	launch := tw.AddTeam(&graph.Team{Name: "Contoso Launch", Description: "Everything about the spring launch.",
		Members: []*directory.Person{alex, nina, megan, dana},
		Channels: []*graph.Channel{
			{Name: "General", Description: "Announcements for the whole team."},
			{Name: "Marketing", Description: "Campaigns, press and events."},
			{Name: "Leadership", Description: "Private planning.", MembershipType: "private", Members: []*directory.Person{megan, dana}},
		}})
	general, marketing, leadership := launch.Channels[0], launch.Channels[1], launch.Channels[2]
	welcome := tw.AddThread(general, html(dana, ago(20*24*time.Hour), "<p>Welcome to the launch team! Please read the plan first.</p>"))
	tw.AddReply(welcome, text(alex, ago(20*24*time.Hour-time.Hour), "Thanks Dana, reading it now."))
	tw.AddReply(welcome, text(nina, ago(19*24*time.Hour), "Same here."))
	date := tw.AddThread(general, html(megan, ago(4*time.Hour),
		`<p>The launch date moves to <strong>March 3</strong>. <at id="0">Alex Wilber</at> <at id="1">Nina Patel</at> please update your plans.</p>`, alex, nina))
	tw.AddReply(date, text(nina, ago(3*time.Hour), "Updated the timeline."))
	tw.AddThread(marketing, &graph.ChatMessage{From: nina, Created: ago(28 * time.Hour), BodyType: "html",
		Body:        `<p>Draft press release attached.</p><attachment id="pr"></attachment>`,
		Attachments: []graph.MessageAttachment{{Name: "Press release.docx", URL: "https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/Press%20release.docx"}}})
	tw.AddThread(marketing, text(alex, ago(8*time.Hour), "Booth is confirmed for the trade fair."))
	tw.AddThread(leadership, text(dana, ago(2*24*time.Hour), "Budget for the launch is approved."))

	finance := tw.AddTeam(&graph.Team{Name: "Finance", Description: "Budgets and forecasts.",
		Members:  []*directory.Person{megan, dana},
		Channels: []*graph.Channel{{Name: "General", Description: "Finance team."}}})
	tw.AddThread(finance.Channels[0], text(dana, ago(30*time.Hour), "Q4 forecast is due Friday."))
}

// sites seeds two SharePoint sites alex is a member of, with libraries
// and documents, and one he is not.
func sites(store *graph.Store, dir *directory.Directory, anchor time.Time) {
	alex, nina, megan, dana, ok := contosoPeople(dir)
	if !ok {
		return
	}
	contoso := alex.Tenant
	at := func(days int) time.Time { return anchor.AddDate(0, 0, -days).Truncate(time.Second) }

	marketing := store.AddSite(contoso, "marketing", "Contoso Marketing", "Campaigns, brand and press.",
		[]*directory.Person{alex, nina, megan}, "Documents", "Brand Assets")
	docs := marketing.Library("Documents")
	docs.AddFile(docs.Root(), "Press release.docx", []byte("PK\x03\x04 Press release: Contoso launches in March."), 0, nil, at(2))
	campaigns := docs.AddFolder(docs.Root(), "Campaigns", at(60))
	docs.AddFile(campaigns, "Spring campaign plan.md", []byte("# Spring campaign\n\n- Launch date: March 3\n- Channels: web, trade fair, press\n- Budget owner: Megan\n"), 0, nil, at(6))
	docs.AddFile(campaigns, "Trade fair checklist.txt", []byte("Booth confirmed\nBanners printed\nDemo laptops: 3\n"), 0, nil, at(1))
	brand := marketing.Library("Brand Assets")
	brand.AddFile(brand.Root(), "Brand guidelines.pdf", makePDF("Contoso brand guidelines", []string{"Use the blue logo on white.", "Never stretch the logo."}), 0, nil, at(120))

	projects := store.AddSite(contoso, "projects", "Projects", "Project plans and status reports.",
		[]*directory.Person{alex, dana}, "Documents")
	pd := projects.Library("Documents")
	apollo := pd.AddFolder(pd.Root(), "Apollo", at(90))
	pd.AddFile(apollo, "Status report.md", []byte("# Apollo status\n\nOn track for the spring launch. Risks: supplier delays.\n"), 0, nil, at(3))
	pd.AddFile(pd.Root(), "Project charter.txt", []byte("Projects site: one folder per project, a status report every Friday.\n"), 0, nil, at(200))

	finance := store.AddSite(contoso, "finance", "Finance", "Budgets and forecasts.", []*directory.Person{megan, dana}, "Documents")
	fd := finance.Library("Documents")
	fd.AddFile(fd.Root(), "Forecast Q4.txt", []byte("Confidential forecast.\n"), 0, nil, at(4))
}

// contosoPeople are the people the Teams and SharePoint seeds bring
// together.
func contosoPeople(dir *directory.Directory) (alex, nina, megan, dana *directory.Person, ok bool) {
	var people [4]*directory.Person
	for i, upn := range []string{"alex@contoso.test", "nina@contoso.test", "megan@contoso.test", "admin@contoso.test"} {
		if people[i], ok = dir.Person(upn); !ok {
			return nil, nil, nil, nil, false
		}
	}
	return people[0], people[1], people[2], people[3], true
}
