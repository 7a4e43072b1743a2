package seed

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

type contact struct{ name, addr string }

func (c contact) recipient() graph.Recipient {
	return graph.Recipient{EmailAddress: graph.EmailAddress{Name: c.name, Address: c.addr}}
}

// colleagues are the people who write to someone in each directory. Sandbox
// people appear too, so mail between them is possible.
func (g *gen) colleagues() []contact {
	var out []contact
	for _, q := range g.dir.People() {
		if q != g.p && !q.Outsider && (q.Tenant == g.p.Tenant || !g.p.Personal() && !q.Personal()) {
			out = append(out, contact{q.DisplayName, q.UPN})
		}
	}
	switch g.p.Tenant {
	case directory.Contoso:
		out = append(out, contact{"Megan Bowen", "megan@contoso.test"}, contact{"Lee Gu", "lee@contoso.test"},
			contact{"Isaiah Langer", "isaiah@contoso.test"}, contact{"Patti Fernandez", "patti@contoso.test"},
			contact{"Diego Siciliani", "diego@contoso.test"}, contact{"Nestor Wilke", "nestor@contoso.test"})
	case directory.Fabrikam:
		out = append(out, contact{"Priya Raman", "priya@fabrikam.test"}, contact{"Tom Becker", "tom@fabrikam.test"},
			contact{"Aisha Khan", "aisha@fabrikam.test"}, contact{"Luis Ortega", "luis@fabrikam.test"})
	default:
		out = append(out, contact{"Chris Doyle", "chris.doyle@outlook.test"}, contact{"Ann Martin", "ann.martin@outlook.test"},
			contact{"Robin Park", "robin.park@outlook.test"}, contact{"Sofia Rossi", "sofia.rossi@outlook.test"})
	}
	return out
}

var newsletters = []contact{
	{"Contoso Weekly", "news@contoso.test"}, {"The Morning Brief", "brief@newsletter.test"},
	{"Northwind Traders", "deals@northwind.test"}, {"Dev Digest", "digest@devdigest.test"},
}

var workTopics = []string{
	"Q3 budget review", "Apollo launch plan", "Hiring: senior designer", "Offsite logistics",
	"Customer escalation: Tailspin Toys", "Vendor contract renewal", "Roadmap priorities for next quarter",
	"Security training reminder", "Board deck draft", "Pricing experiment results", "Onboarding checklist",
	"Data retention policy update", "Sprint 42 retro notes", "Partner summit invitation", "Travel approval",
}

var personalTopics = []string{
	"Dinner on Saturday?", "Book club: next pick", "Photos from the trip", "Flat viewing", "Birthday plans",
	"Marathon training schedule", "Recipe you asked for", "Holiday flights", "Bike repair", "Concert tickets",
}

var noteLines = []string{
	"Can you take a look before Thursday?", "I've put the numbers in the shared sheet.",
	"Let's discuss in our next sync.", "Thanks for pulling this together so quickly.",
	"The client confirmed the dates this morning.", "I'll be out of office on Friday.",
	"Please review the attached and share comments.", "We are still waiting on legal for the final wording.",
	"The figures look good, one question on line 14.", "Happy to help if you need another pair of eyes.",
	"Moving this to next week given the holiday.", "Ping me when you're free for ten minutes.",
}

// mail seeds every folder.
func (g *gen) mail() {
	inbox := g.mb.Folder("inbox")
	news := g.mb.AddFolder(inbox, "Newsletters")
	projects := g.mb.AddFolder(inbox, "Projects")
	people := g.colleagues()
	topics := workTopics
	if g.p.Personal() {
		topics = personalTopics
	}

	// Ages of inbox messages: dense recently, thinning out over four months.
	ages := make([]time.Duration, InboxMessages)
	for i := range ages {
		ages[i] = time.Duration(math.Pow(g.rng.Float64(), 1.7)*120*24) * time.Hour
		ages[i] += time.Duration(g.rng.IntN(3600)) * time.Second
	}
	sort.Slice(ages, func(i, j int) bool { return ages[i] < ages[j] })
	ages[0] = 25 * time.Minute // something arrived just now

	conversations := map[string]string{}
	for i, age := range ages {
		at := g.anchor.Add(-age)
		switch k := g.rng.IntN(20); {
		case k < 7: // part of a thread
			topic := g.pick(topics)
			from := people[g.rng.IntN(len(people))]
			conv, seen := conversations[topic]
			if !seen {
				conv = graph.StableID("AAQkAD", g.p.ObjectID, topic)
				conversations[topic] = conv
			}
			subject := topic
			if seen {
				subject = "RE: " + topic
			}
			folder := inbox
			if i%9 == 0 && !g.p.Personal() {
				folder = projects
			}
			m := g.message(folder, from, subject, at)
			m.ConversationID = conv
			m.Body = graph.ItemBody{ContentType: "html", Content: g.threadHTML(from, topic)}
			g.mb.AddMessage(m)
		case k < 10: // newsletter in the inbox
			g.mb.AddMessage(g.newsletter(inbox, at))
		case k < 16: // a plain note
			from := people[g.rng.IntN(len(people))]
			m := g.message(inbox, from, g.pick(topics), at)
			m.Body = graph.ItemBody{ContentType: "text", Content: g.noteText(from)}
			g.mb.AddMessage(m)
		default: // a message with attachments
			from := people[g.rng.IntN(len(people))]
			m := g.message(inbox, from, g.pick(topics), at)
			m.Body = graph.ItemBody{ContentType: "html", Content: "<html><body><p>Hi " + g.p.GivenName +
				",</p><p>Attached as promised. " + g.pick(noteLines) + "</p><p>" + from.name + "</p></body></html>"}
			m.Attachments = g.attachments(at)
			g.mb.AddMessage(m)
		}
	}

	for i := range NewsletterMessages {
		at := g.anchor.Add(-time.Duration(i*3*24+g.rng.IntN(20))*time.Hour - 7*time.Hour)
		g.mb.AddMessage(g.newsletter(news, at))
	}
	sent := g.mb.Folder("sentitems")
	for i := range SentMessages {
		at := g.anchor.Add(-time.Duration(i*4*24+g.rng.IntN(48)) * time.Hour)
		to := people[g.rng.IntN(len(people))]
		topic := g.pick(topics)
		m := g.message(sent, contact{g.p.DisplayName, g.p.UPN}, "RE: "+topic, at)
		m.ToRecipients = []graph.Recipient{to.recipient()}
		m.IsRead = true
		if conv, ok := conversations[topic]; ok {
			m.ConversationID = conv
		}
		m.Body = graph.ItemBody{ContentType: "text", Content: "Hi " + firstName(to.name) + ",\n\n" + g.pick(noteLines) + "\n\n" + g.p.GivenName}
		g.mb.AddMessage(m)
	}
	archive := g.mb.Folder("archive")
	for i := range ArchiveMessages {
		at := g.anchor.Add(-time.Duration(130+i*5) * 24 * time.Hour)
		from := people[g.rng.IntN(len(people))]
		m := g.message(archive, from, g.pick(topics), at)
		m.IsRead = true
		m.Body = graph.ItemBody{ContentType: "text", Content: g.noteText(from)}
		g.mb.AddMessage(m)
	}
	drafts := g.mb.Folder("drafts")
	for i, subject := range []string{"Notes for Monday", "Follow-up: " + g.pick(topics)} {
		m := g.message(drafts, contact{g.p.DisplayName, g.p.UPN}, subject, g.anchor.Add(-time.Duration(i+2)*time.Hour))
		m.IsDraft, m.IsRead, m.SentDateTime = true, true, nil
		if i == 1 {
			m.ToRecipients = []graph.Recipient{people[0].recipient()}
		}
		m.Body = graph.ItemBody{ContentType: "text", Content: "Draft: " + g.pick(noteLines)}
		g.mb.AddMessage(m)
	}
	deleted := g.mb.Folder("deleteditems")
	for i := range 3 {
		m := g.message(deleted, newsletters[i], "Last chance: 40% off everything", g.anchor.Add(-time.Duration(10+i*6)*24*time.Hour))
		m.IsRead = true
		m.Body = graph.ItemBody{ContentType: "text", Content: "Sale ends tonight."}
		g.mb.AddMessage(m)
	}
	junk := g.mb.Folder("junkemail")
	for i, subject := range []string{"You have won a prize!!!", "Urgent: verify your acount"} {
		m := g.message(junk, contact{"Prize Desk", "winner@lottery.invalid"}, subject, g.anchor.Add(-time.Duration(3+i*9)*24*time.Hour))
		m.InferenceClassification = "other"
		m.Body = graph.ItemBody{ContentType: "text", Content: "Click here to claim."}
		g.mb.AddMessage(m)
	}
}

func firstName(name string) string { return strings.Fields(name + " x")[0] }

// message makes a received message with the fields every message has.
func (g *gen) message(folder *graph.MailFolder, from contact, subject string, at time.Time) *graph.Message {
	at = at.UTC().Truncate(time.Second)
	sentAt := at.Add(-time.Duration(2+g.rng.IntN(40)) * time.Second)
	m := &graph.Message{
		ID:                g.id("message"),
		CreatedDateTime:   at,
		ReceivedDateTime:  at,
		SentDateTime:      &sentAt,
		Subject:           subject,
		ParentFolderID:    folder.ID,
		IsRead:            at.Before(g.anchor.Add(-36*time.Hour)) || g.rng.IntN(3) == 0,
		From:              &graph.Recipient{EmailAddress: graph.EmailAddress{Name: from.name, Address: from.addr}},
		Sender:            &graph.Recipient{EmailAddress: graph.EmailAddress{Name: from.name, Address: from.addr}},
		ToRecipients:      []graph.Recipient{{EmailAddress: graph.EmailAddress{Name: g.p.DisplayName, Address: g.p.UPN}}},
		InternetMessageID: "<" + g.id("imid")[6:30] + "@" + domainOf(from.addr) + ">",
		ChangeKey:         "CQAAABYAAA" + g.id("ck")[6:30],
	}
	if g.rng.IntN(8) == 0 {
		m.Importance = "high"
	}
	if g.rng.IntN(10) == 0 {
		m.Flag = graph.Flag{FlagStatus: "flagged"}
	}
	if g.rng.IntN(7) == 0 {
		m.Categories = []string{g.pick([]string{"Blue category", "Red category", "Green category"})}
	}
	if g.rng.IntN(4) == 0 {
		other := g.colleagues()
		m.CcRecipients = []graph.Recipient{other[g.rng.IntN(len(other))].recipient()}
	}
	return m
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

func (g *gen) threadHTML(from contact, topic string) string {
	return fmt.Sprintf(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style>p{margin:0 0 10px}</style></head><body>
<div dir="ltr"><p>Hi %s,</p>
<p>Quick update on <b>%s</b>: %s %s</p>
<ul><li>%s</li><li>%s</li></ul>
<p>%s</p>
<p>Best,<br>%s</p></div>
<div style="border-top:1px solid #e1e1e1;margin-top:12px;padding-top:8px;color:#666">
<b>From:</b> %s &lt;%s&gt;<br><b>Subject:</b> %s</div></body></html>`,
		g.p.GivenName, topic, g.pick(noteLines), g.pick(noteLines), g.pick(noteLines), g.pick(noteLines),
		g.pick(noteLines), firstName(from.name), g.p.DisplayName, g.p.UPN, topic)
}

func (g *gen) noteText(from contact) string {
	return fmt.Sprintf("Hi %s,\n\n%s\n%s\n\nThanks,\n%s", g.p.GivenName, g.pick(noteLines), g.pick(noteLines), firstName(from.name))
}

var headlines = []string{
	"Five habits of effective remote teams", "What the new tax rules mean for you", "Inside the data centre of the future",
	"A practical guide to zero-trust networking", "The quiet return of the paper notebook", "How to run a meeting nobody dreads",
	"Markets close higher on tech earnings", "Ten recipes for a busy week", "Release notes: what shipped this month",
}

func (g *gen) newsletter(folder *graph.MailFolder, at time.Time) *graph.Message {
	from := newsletters[g.rng.IntN(len(newsletters))]
	var items strings.Builder
	for range 3 {
		h := g.pick(headlines)
		fmt.Fprintf(&items, `<tr><td style="padding:12px 0;border-bottom:1px solid #eee"><h2 style="font-size:18px;margin:0 0 6px"><a href="https://%s/articles/%d" style="color:#0b5cad">%s</a></h2><p style="margin:0;color:#444">%s %s</p></td></tr>`,
			domainOf(from.addr), g.rng.IntN(90000)+10000, h, g.pick(noteLines), g.pick(noteLines))
	}
	body := fmt.Sprintf(`<html><head><meta charset="utf-8"><style>body{font-family:Arial,sans-serif}.footer{font-size:11px;color:#888}</style></head>
<body><table width="100%%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:auto">
<tr><td style="background:#0b5cad;color:#fff;padding:16px"><h1 style="margin:0;font-size:22px">%s</h1><p style="margin:4px 0 0">%s</p></td></tr>
%s
<tr><td class="footer" style="padding:16px 0">You are receiving this because you subscribed. <a href="https://%s/unsubscribe">Unsubscribe</a> &middot; <a href="https://%s/preferences">Preferences</a></td></tr>
</table><img src="https://%s/pixel.gif" width="1" height="1" alt=""></body></html>`,
		from.name, at.Format("Monday, January 2"), items.String(), domainOf(from.addr), domainOf(from.addr), domainOf(from.addr))
	m := g.message(folder, from, from.name+": "+g.pick(headlines), at)
	m.Body = graph.ItemBody{ContentType: "html", Content: body}
	m.CcRecipients = nil
	m.InferenceClassification = "other"
	m.ReplyTo = []graph.Recipient{{EmailAddress: graph.EmailAddress{Name: from.name, Address: "no-reply@" + domainOf(from.addr)}}}
	return m
}

// attachments returns one to three files of different kinds.
func (g *gen) attachments(at time.Time) []*graph.Attachment {
	kinds := []func() *graph.Attachment{
		func() *graph.Attachment {
			return &graph.Attachment{Name: "Quarterly report.pdf", ContentType: "application/pdf",
				ContentBytes: makePDF("Quarterly report", []string{g.pick(noteLines), g.pick(noteLines), "Revenue grew 12% quarter on quarter."})}
		},
		func() *graph.Attachment {
			return &graph.Attachment{Name: "notes.txt", ContentType: "text/plain",
				ContentBytes: []byte("Meeting notes\n\n- " + g.pick(noteLines) + "\n- " + g.pick(noteLines) + "\n- " + g.pick(noteLines) + "\n")}
		},
		func() *graph.Attachment {
			return &graph.Attachment{Name: "figures.csv", ContentType: "text/csv", ContentBytes: g.csv(12)}
		},
		func() *graph.Attachment {
			return &graph.Attachment{Name: "photo.png", ContentType: "image/png", ContentBytes: makePNG(g.rng, 96, 64)}
		},
	}
	n := 1 + g.rng.IntN(3)
	start := g.rng.IntN(len(kinds))
	var out []*graph.Attachment
	for i := range n {
		a := kinds[(start+i)%len(kinds)]()
		a.ID = g.id("attachment")
		a.LastModifiedDateTime = at.UTC().Truncate(time.Second)
		out = append(out, a)
	}
	return out
}

func (g *gen) csv(rows int) []byte {
	var b strings.Builder
	b.WriteString("month,region,revenue,units\n")
	for i := range rows {
		fmt.Fprintf(&b, "2026-%02d,%s,%d,%d\n", i%12+1, g.pick([]string{"EMEA", "AMER", "APAC"}), 10000+g.rng.IntN(90000), 10+g.rng.IntN(900))
	}
	return []byte(b.String())
}
