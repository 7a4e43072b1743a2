package graph

import (
	"fmt"
	"html"
	"strings"
	"time"

	xhtml "golang.org/x/net/html"

	"graphgate/internal/sandbox/directory"
)

// EmailAddress is Graph's emailAddress.
type EmailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Recipient is Graph's recipient.
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// ItemBody is Graph's itemBody; ContentType is "html" or "text".
type ItemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// Flag is Graph's followupFlag.
type Flag struct {
	FlagStatus string `json:"flagStatus"`
}

// MailFolder is Graph's mailFolder. Counts are computed when it is served.
type MailFolder struct {
	ID               string `json:"id"`
	DisplayName      string `json:"displayName"`
	ParentFolderID   string `json:"parentFolderId"`
	ChildFolderCount int    `json:"childFolderCount"`
	UnreadItemCount  int    `json:"unreadItemCount"`
	TotalItemCount   int    `json:"totalItemCount"`
	SizeInBytes      int    `json:"sizeInBytes"`
	IsHidden         bool   `json:"isHidden"`
	wellKnown        string
}

// Message is Graph's message, in the shape Graph serves it.
type Message struct {
	ETag                       string        `json:"@odata.etag"`
	ID                         string        `json:"id"`
	CreatedDateTime            time.Time     `json:"createdDateTime"`
	LastModifiedDateTime       time.Time     `json:"lastModifiedDateTime"`
	ChangeKey                  string        `json:"changeKey"`
	Categories                 []string      `json:"categories"`
	ReceivedDateTime           time.Time     `json:"receivedDateTime"`
	SentDateTime               *time.Time    `json:"sentDateTime"`
	HasAttachments             bool          `json:"hasAttachments"`
	InternetMessageID          string        `json:"internetMessageId"`
	Subject                    string        `json:"subject"`
	BodyPreview                string        `json:"bodyPreview"`
	Importance                 string        `json:"importance"`
	ParentFolderID             string        `json:"parentFolderId"`
	ConversationID             string        `json:"conversationId"`
	IsDeliveryReceiptRequested bool          `json:"isDeliveryReceiptRequested"`
	IsReadReceiptRequested     bool          `json:"isReadReceiptRequested"`
	IsRead                     bool          `json:"isRead"`
	IsDraft                    bool          `json:"isDraft"`
	WebLink                    string        `json:"webLink"`
	InferenceClassification    string        `json:"inferenceClassification"`
	Body                       ItemBody      `json:"body"`
	Sender                     *Recipient    `json:"sender"`
	From                       *Recipient    `json:"from"`
	ToRecipients               []Recipient   `json:"toRecipients"`
	CcRecipients               []Recipient   `json:"ccRecipients"`
	BccRecipients              []Recipient   `json:"bccRecipients"`
	ReplyTo                    []Recipient   `json:"replyTo"`
	Flag                       Flag          `json:"flag"`
	Attachments                []*Attachment `json:"-"`
}

// Attachment is Graph's fileAttachment.
type Attachment struct {
	ODataType            string    `json:"@odata.type"`
	ID                   string    `json:"id"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime"`
	Name                 string    `json:"name"`
	ContentType          string    `json:"contentType"`
	Size                 int       `json:"size"`
	IsInline             bool      `json:"isInline"`
	ContentID            *string   `json:"contentId"`
	ContentLocation      *string   `json:"contentLocation"`
	ContentBytes         []byte    `json:"contentBytes"` // base64 on the wire
}

var messageType = entityType{
	name: "microsoft.graph.message", maxTop: 1000, defTop: 10, skipName: "$skip", orderInFilter: true,
	props: setOf("receiveddatetime", "sentdatetime", "createddatetime", "lastmodifieddatetime", "isread",
		"isdraft", "hasattachments", "importance", "subject", "from/emailaddress/address",
		"from/emailaddress/name", "sender/emailaddress/address", "sender/emailaddress/name",
		"flag/flagstatus", "conversationid", "parentfolderid", "inferenceclassification", "categories",
		"internetmessageid", "bodypreview"),
}

var folderType = entityType{
	name: "microsoft.graph.mailFolder", maxTop: 1000, defTop: 10, skipName: "$skip",
	props: setOf("displayname", "totalitemcount", "unreaditemcount", "childfoldercount"),
}

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func (m *Message) field(path string) any {
	addr := func(r *Recipient, name bool) any {
		if r == nil {
			return nil
		}
		if name {
			return r.EmailAddress.Name
		}
		return r.EmailAddress.Address
	}
	switch path {
	case "receiveddatetime":
		return m.ReceivedDateTime
	case "sentdatetime":
		if m.SentDateTime == nil {
			return nil
		}
		return *m.SentDateTime
	case "createddatetime":
		return m.CreatedDateTime
	case "lastmodifieddatetime":
		return m.LastModifiedDateTime
	case "isread":
		return m.IsRead
	case "isdraft":
		return m.IsDraft
	case "hasattachments":
		return m.HasAttachments
	case "importance":
		return m.Importance
	case "subject":
		return m.Subject
	case "bodypreview":
		return m.BodyPreview
	case "from/emailaddress/address":
		return addr(m.From, false)
	case "from/emailaddress/name":
		return addr(m.From, true)
	case "sender/emailaddress/address":
		return addr(m.Sender, false)
	case "sender/emailaddress/name":
		return addr(m.Sender, true)
	case "flag/flagstatus":
		return m.Flag.FlagStatus
	case "conversationid":
		return m.ConversationID
	case "parentfolderid":
		return m.ParentFolderID
	case "inferenceclassification":
		return m.InferenceClassification
	case "internetmessageid":
		return m.InternetMessageID
	case "categories":
		return m.Categories
	}
	return nil
}

func (f *MailFolder) field(path string) any {
	switch path {
	case "displayname":
		return f.DisplayName
	case "totalitemcount":
		return float64(f.TotalItemCount)
	case "unreaditemcount":
		return float64(f.UnreadItemCount)
	case "childfoldercount":
		return float64(f.ChildFolderCount)
	}
	return nil
}

// wellKnownFolders in the order Outlook lists them under the root.
var wellKnownFolders = []struct{ name, display string }{
	{"inbox", "Inbox"}, {"drafts", "Drafts"}, {"sentitems", "Sent Items"}, {"deleteditems", "Deleted Items"},
	{"archive", "Archive"}, {"junkemail", "Junk Email"}, {"outbox", "Outbox"},
	{"conversationhistory", "Conversation History"},
}

func defaultFolders(p *directory.Person) []*MailFolder {
	root := &MailFolder{ID: StableID("AAMkAD", p.ObjectID, "folder", "msgfolderroot"),
		DisplayName: "Top of Information Store", wellKnown: "msgfolderroot"}
	out := []*MailFolder{root}
	for _, wk := range wellKnownFolders {
		out = append(out, &MailFolder{ID: StableID("AAMkAD", p.ObjectID, "folder", wk.name),
			DisplayName: wk.display, ParentFolderID: root.ID, wellKnown: wk.name})
	}
	return out
}

// Seeding API: used by the seed package to fill a mailbox.

// Folder returns a folder by well-known name or id.
func (mb *Mailbox) Folder(key string) *MailFolder {
	for _, f := range mb.folders {
		if f.ID == key || f.wellKnown != "" && strings.EqualFold(f.wellKnown, key) {
			return f
		}
	}
	return nil
}

// AddFolder adds a folder under parent with a stable id.
func (mb *Mailbox) AddFolder(parent *MailFolder, name string) *MailFolder {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	f := &MailFolder{ID: StableID("AAMkAD", mb.Owner.ObjectID, "folder", parent.ID, name), DisplayName: name, ParentFolderID: parent.ID}
	mb.folders = append(mb.folders, f)
	return f
}

// AddMessage stores a message, filling the derived fields Graph computes.
func (mb *Mailbox) AddMessage(m *Message) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.putMessage(m)
}

func (mb *Mailbox) putMessage(m *Message) {
	if m.ID == "" {
		m.ID = newID("AAMkAD")
	}
	m.normalize()
	mb.messages[m.ID] = m
}

// normalize fills what Graph derives and makes empty lists serialize as [].
func (m *Message) normalize() {
	if m.ChangeKey == "" {
		m.ChangeKey = newChangeKey()
	}
	m.ETag = `W/"` + m.ChangeKey + `"`
	for _, l := range []*[]Recipient{&m.ToRecipients, &m.CcRecipients, &m.BccRecipients, &m.ReplyTo} {
		if *l == nil {
			*l = []Recipient{}
		}
	}
	if m.Categories == nil {
		m.Categories = []string{}
	}
	if m.Importance == "" {
		m.Importance = "normal"
	}
	if m.InferenceClassification == "" {
		m.InferenceClassification = "focused"
	}
	if m.Flag.FlagStatus == "" {
		m.Flag.FlagStatus = "notFlagged"
	}
	if m.Body.ContentType == "" {
		m.Body.ContentType = "text"
	}
	if m.CreatedDateTime.IsZero() {
		m.CreatedDateTime = m.ReceivedDateTime
	}
	if m.LastModifiedDateTime.IsZero() {
		m.LastModifiedDateTime = m.ReceivedDateTime
	}
	if m.InternetMessageID == "" {
		m.InternetMessageID = "<" + strings.ToLower(newID("")[:24]) + "@sandbox.graphgate>"
	}
	if m.ConversationID == "" {
		m.ConversationID = newID("AAQkAD")
	}
	m.BodyPreview = preview(m.Body)
	m.HasAttachments = false
	for _, a := range m.Attachments {
		if !a.IsInline {
			m.HasAttachments = true
		}
		a.ODataType = "#microsoft.graph.fileAttachment"
		a.Size = len(a.ContentBytes) + 200 + len(a.Name)
		if a.ID == "" {
			a.ID = newID("AAMkADatt")
		}
	}
	m.WebLink = "https://outlook.office365.com/owa/?ItemID=" + m.ID + "&exvsurl=1&viewmodel=ReadMessageItem"
}

// touch records a change: new change key and etag, new modified time.
func (m *Message) touch(now time.Time) {
	m.ChangeKey = newChangeKey()
	m.LastModifiedDateTime = now.UTC().Truncate(time.Second)
	m.normalize()
}

// clone copies a message deeply enough that the copy can change on its own.
func (m *Message) clone() *Message {
	c := *m
	c.Categories = append([]string(nil), m.Categories...)
	c.ToRecipients = append([]Recipient(nil), m.ToRecipients...)
	c.CcRecipients = append([]Recipient(nil), m.CcRecipients...)
	c.BccRecipients = append([]Recipient(nil), m.BccRecipients...)
	c.ReplyTo = append([]Recipient(nil), m.ReplyTo...)
	c.Attachments = nil
	for _, a := range m.Attachments {
		ac := *a
		ac.ID = ""
		c.Attachments = append(c.Attachments, &ac)
	}
	return &c
}

func preview(b ItemBody) string {
	text := b.Content
	if b.ContentType == "html" {
		text = htmlToText(text)
	}
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > 255 {
		text = string(r[:255])
	}
	return text
}

// bodyAs renders a body in the content type a client asked for with
// Prefer: outlook.body-content-type.
func bodyAs(b ItemBody, want string) ItemBody {
	switch {
	case want == "" || want == b.ContentType:
		return b
	case want == "text":
		return ItemBody{ContentType: "text", Content: htmlToText(b.Content)}
	default:
		return ItemBody{ContentType: "html", Content: "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n<div>" +
			strings.ReplaceAll(html.EscapeString(b.Content), "\n", "<br>\r\n") + "</div>\r\n</body>\r\n</html>\r\n"}
	}
}

// htmlToText renders HTML the way Outlook's text conversion roughly does:
// block elements become line breaks, links keep their target.
func htmlToText(src string) string {
	z := xhtml.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	skip := 0
	var href string
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return strings.TrimSpace(collapseBlankLines(b.String()))
		case xhtml.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "style", "script", "head", "title":
				if tt == xhtml.StartTagToken {
					skip++
				}
			case "br", "p", "div", "tr", "h1", "h2", "h3", "h4", "table":
				b.WriteString("\n")
			case "li":
				b.WriteString("\n- ")
			case "td":
				b.WriteString(" ")
			case "a":
				href = ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "style", "script", "head", "title":
				if skip > 0 {
					skip--
				}
			case "p", "div", "h1", "h2", "h3", "h4", "table", "ul", "ol":
				b.WriteString("\n")
			case "a":
				if href != "" && strings.HasPrefix(href, "http") {
					fmt.Fprintf(&b, " <%s>", href)
				}
				href = ""
			}
		}
	}
}

func collapseBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// Messages lists the mailbox's messages, in no order, for tests and tools
// that look at a mailbox from outside.
func (mb *Mailbox) Messages() []*Message {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	out := make([]*Message, 0, len(mb.messages))
	for _, m := range mb.messages {
		out = append(out, m)
	}
	return out
}
