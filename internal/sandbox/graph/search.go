package graph

import (
	"strings"
	"time"
)

// kqlQuery is a parsed $search value for messages: clauses joined by AND,
// where a clause may be several alternatives joined by OR.
type kqlQuery struct {
	clauses [][]kqlTerm
}

type kqlTerm struct {
	prop string // "" for free text
	op   string // for received/sent: "=", ">", ">=", "<", "<="
	text string
}

// parseKQL accepts the KQL subset agents use: free text, from:, to:, cc:,
// subject:, body:, participants:, attachment:, hasattachment:, received: and
// sent: with comparisons, quoted phrases, and AND/OR.
func parseKQL(s string) (*kqlQuery, *apiError) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	s = strings.ReplaceAll(s, `\"`, `"`)
	words, ok := splitKQL(s)
	if !ok || len(words) == 0 {
		return nil, badRequest("BadRequest", "Invalid $search query: syntax error in '%s'.", s)
	}
	q := &kqlQuery{}
	orNext := false
	for _, w := range words {
		switch w {
		case "AND":
			continue
		case "OR":
			orNext = len(q.clauses) > 0
			continue
		}
		t := kqlTerm{text: strings.ToLower(w)}
		if prop, val, found := strings.Cut(w, ":"); found && knownKQLProp(prop) {
			t.prop = strings.ToLower(prop)
			t.text = strings.ToLower(strings.Trim(val, `"'`))
			for _, op := range []string{">=", "<=", ">", "<", "="} {
				if rest, ok := strings.CutPrefix(t.text, op); ok {
					t.op, t.text = op, rest
					break
				}
			}
		} else {
			t.text = strings.ToLower(strings.Trim(w, `"'`))
		}
		if orNext {
			last := len(q.clauses) - 1
			q.clauses[last] = append(q.clauses[last], t)
			orNext = false
		} else {
			q.clauses = append(q.clauses, []kqlTerm{t})
		}
	}
	return q, nil
}

func knownKQLProp(p string) bool {
	switch strings.ToLower(p) {
	case "from", "to", "cc", "bcc", "subject", "body", "participants", "attachment", "attachments",
		"hasattachment", "hasattachments", "received", "sent", "importance", "category", "kind":
		return true
	}
	return false
}

// splitKQL splits on spaces outside quotes.
func splitKQL(s string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	var quote rune
	for _, c := range s {
		switch {
		case quote != 0:
			cur.WriteRune(c)
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			cur.WriteRune(c)
		case c == ' ' || c == '\t':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if quote != 0 {
		return nil, false
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, true
}

func (q *kqlQuery) match(m *Message) bool {
	for _, alts := range q.clauses {
		any := false
		for _, t := range alts {
			if t.match(m) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

func recipientsText(rs ...[]Recipient) string {
	var b strings.Builder
	for _, list := range rs {
		for _, r := range list {
			b.WriteString(r.EmailAddress.Name + " " + r.EmailAddress.Address + " ")
		}
	}
	return strings.ToLower(b.String())
}

func fromText(m *Message) string {
	if m.From == nil {
		return ""
	}
	return strings.ToLower(m.From.EmailAddress.Name + " " + m.From.EmailAddress.Address)
}

func (t kqlTerm) match(m *Message) bool {
	has := func(hay string) bool { return strings.Contains(strings.ToLower(hay), t.text) }
	switch t.prop {
	case "":
		return has(m.Subject) || has(m.BodyPreview) || has(bodyText(m)) || has(fromText(m)) ||
			has(recipientsText(m.ToRecipients, m.CcRecipients)) || attachmentNamesMatch(m, t.text)
	case "from":
		return has(fromText(m))
	case "to":
		return has(recipientsText(m.ToRecipients))
	case "cc":
		return has(recipientsText(m.CcRecipients))
	case "bcc":
		return has(recipientsText(m.BccRecipients))
	case "participants":
		return has(fromText(m) + recipientsText(m.ToRecipients, m.CcRecipients, m.BccRecipients))
	case "subject":
		return has(m.Subject)
	case "body":
		return has(bodyText(m))
	case "attachment", "attachments":
		return attachmentNamesMatch(m, t.text)
	case "hasattachment", "hasattachments":
		return (t.text == "true" || t.text == "yes") == m.HasAttachments
	case "importance":
		return strings.EqualFold(m.Importance, t.text)
	case "category":
		for _, c := range m.Categories {
			if strings.EqualFold(c, t.text) {
				return true
			}
		}
		return false
	case "kind":
		return t.text == "email"
	case "received", "sent":
		at := m.ReceivedDateTime
		if t.prop == "sent" && m.SentDateTime != nil {
			at = *m.SentDateTime
		}
		return matchDate(at, t.op, t.text)
	}
	return false
}

func bodyText(m *Message) string {
	if m.Body.ContentType == "html" {
		return htmlToText(m.Body.Content)
	}
	return m.Body.Content
}

func attachmentNamesMatch(m *Message, text string) bool {
	for _, a := range m.Attachments {
		if strings.Contains(strings.ToLower(a.Name), text) {
			return true
		}
	}
	return false
}

// matchDate compares a time with a KQL date (yyyy-mm-dd or m/d/yyyy), by day.
func matchDate(at time.Time, op, text string) bool {
	var day time.Time
	var err error
	for _, layout := range []string{"2006-01-02", "1/2/2006", "01/02/2006"} {
		if day, err = time.Parse(layout, text); err == nil {
			break
		}
	}
	if err != nil {
		return false
	}
	d := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	c := d.Compare(day)
	switch op {
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return c == 0
}
