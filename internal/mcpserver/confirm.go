package mcpserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/apitoken"
	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// Confirmed writes. A token with "ask me before sending or deleting" makes
// the tools that send or delete ask the person first, through the client:
// the first call answers input_required with an elicitation (MCP
// 2026-07-28's multi-round-trip), and the client calls again with the
// person's answer and the state graphgate gave it. The state is MAC'd over
// the tool, the person, the token and the exact arguments, expires after
// confirmTTL, and is spent once (Store.SpendOnce): a replayed "accept" does not send twice,
// and an accept for one message cannot send another.
//
// Clients on earlier revisions cannot be asked in stateless mode (the
// server cannot send them a request), nor can clients that do not declare
// elicitation. For them graphgate asks on its own page: the call answers
// with a tool error that gives the person's approval page
// (ApprovalPath + id, signed in as that person), and the agent's retry with
// the same arguments goes ahead once they approved (Store.TakeApproval:
// once). The approval is keyed by the same MAC'd subject as the state.
//
// A host that shows MCP Apps gets graphgate's approval card instead (see
// card.go), over the same approval; a client that opens pages for the
// person but does not answer forms (URL elicitation) is sent to the page.

const (
	// ApprovalPath is where the person approves what an agent asked for.
	ApprovalPath    = "/approve/"
	approvalPurpose = "mcp approval v1"
	confirmPurpose  = "mcp confirmation v1"
	confirmTTL      = 10 * time.Minute
	confirmKey      = "confirm"
	// multiRoundTrip is the first revision whose clients can be asked.
	multiRoundTrip = "2026-07-28"
)

var (
	errBadConfirmation = invalid("the confirmation does not match this call or has expired: call the tool again, unchanged, to ask the person again")
	errConfirmSpent    = invalid("this confirmation was already used: nothing was done a second time")
)

type confirmState struct {
	Nonce   string `json:"n"`
	Expires int64  `json:"e"`
	Seen    string `json:"s"` // digest of the preview the person was shown
}

// preview is what the person is asked about: the summary they read and the
// version of the thing it describes, which the answer is bound to.
type preview struct {
	text string
	// version names the state of what the summary describes beyond its
	// words: a message's changeKey (its whole content).
	version string
	// item and eTag, when set, are the drive item the person saw: the
	// deletion targets exactly it, on condition that it is unchanged.
	item, eTag string
	// quiet: this call reaches nobody else (an event without attendees),
	// so there is nothing to ask.
	quiet bool
}

// seen is the digest an answer is bound to.
func (p preview) seen() string {
	d := sha256.Sum256([]byte(p.text + "\x00" + p.version + "\x00" + p.item + "\x00" + p.eTag))
	return base64.RawURLEncoding.EncodeToString(d[:16])
}

// confirm runs the asking. It returns (nil, nil) when the person accepted
// what the tool is about to do and it may act (the preview they accepted is
// then in the call, see toolCall.accepted), an input-required result to
// send, or an error.
func (s *Server) confirm(ctx context.Context, req *mcp.CallToolRequest, in any, summary func() (preview, error)) (*mcp.CallToolResult, error) {
	call := callFromContext(ctx)
	args, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(args)
	subject := func(state string) []byte {
		return []byte(call.tool + "\x00" + strconv.FormatInt(call.caller.user.ID, 10) + "\x00" +
			strconv.FormatInt(call.caller.access.TokenID(), 10) + "\x00" + strconv.FormatInt(call.caller.access.GrantID(), 10) + "\x00" + base64.RawURLEncoding.EncodeToString(digest[:]) + "\x00" + state)
	}
	// An answer to graphgate's question comes with its state; a retry
	// after the person opened a page (URL elicitation) has none.
	if p := req.Params; p.RequestState != "" || p.InputResponses[confirmKey] != nil {
		st, ok := s.openConfirmState(p.RequestState, subject)
		if !ok {
			return nil, errBadConfirmation
		}
		answer, _ := p.InputResponses[confirmKey].(*mcp.ElicitResult)
		if answer == nil || answer.Action != "accept" {
			return nil, invalid("the person did not accept, so nothing was done. Do not try again unless they ask you to")
		}
		// What the tool would act on now, read just before it acts.
		pv, err := summary()
		if err != nil {
			return nil, err
		}
		if st.Seen != pv.seen() && !pv.quiet {
			// It changed after the person saw it: ask about what it is now.
			return s.elicit(subject, pv, "This changed after you were asked. "), nil
		}
		fresh, err := s.d.Store.SpendOnce(ctx, "confirm:"+st.Nonce, time.Unix(st.Expires, 0).Add(time.Minute))
		if err != nil {
			return nil, err
		}
		if !fresh {
			return nil, errConfirmSpent
		}
		call.accepted = &pv
		return nil, nil
	}

	pv, err := summary()
	if err != nil || pv.quiet {
		return nil, err
	}
	f := featuresFrom(ctx)
	switch {
	case f.apps:
		return s.askInCard(ctx, subject("\x00"+pv.seen()), pv)
	case f.form:
		return s.elicit(subject, pv, ""), nil
	case f.url:
		return s.askOnPageByURL(ctx, subject("\x00"+pv.seen()), pv)
	}
	if err := s.askOnPage(ctx, subject("\x00"+pv.seen()), pv); err != nil {
		return nil, err
	}
	call.accepted = &pv
	return nil, nil
}

// elicit asks the person about pv through the client, with a state bound
// to the call and to pv.
func (s *Server) elicit(subject func(string) []byte, pv preview, lead string) *mcp.CallToolResult {
	st, _ := json.Marshal(confirmState{Nonce: randomToken(), Expires: s.d.Now().Add(confirmTTL).Unix(), Seen: pv.seen()})
	state := base64.RawURLEncoding.EncodeToString(st)
	mac := s.d.Keys.MAC(confirmPurpose, subject(state))
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{confirmKey: &mcp.ElicitParams{Mode: "form", Message: lead + pv.text,
			RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}}}},
		RequestState: state + "." + base64.RawURLEncoding.EncodeToString(mac),
	}
}

// Keys of the pages a client opens for the person (URL elicitation).
const (
	approvalKey = "approval"
	pageKey     = "page"
)

// openPage asks a client that opens pages for the person to send them to
// url; it calls again once they are done.
func openPage(key, message, url string) *mcp.CallToolResult {
	return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{key: &mcp.ElicitParams{Mode: "url", Message: message, URL: url, ElicitationID: randomToken()}}}
}

// askOnPage asks the person on graphgate's approval page, for a client that
// cannot ask them: nil once they approved this exact call on what pv shows
// (and only once), else an error that says where to approve, or that they
// declined. The subject covers pv, so an approval of an earlier version of
// a draft or file is not found, and the person is asked anew.
func (s *Server) askOnPage(ctx context.Context, subject []byte, pv preview) error {
	call := callFromContext(ctx)
	a, err := s.approvalFor(ctx, subject, pv)
	if a == nil || err != nil {
		return err
	}
	return invalid(fmt.Sprintf("nothing was done yet: this agent's access asks the person before sending or deleting, and this MCP client "+
		"cannot ask them itself. Ask the person to open %s%s%s and approve (it expires at %s UTC); then call %s again with exactly the same arguments",
		s.d.BaseURL, ApprovalPath, a.ID, a.ExpiresAt.UTC().Format("15:04"), call.tool))
}

// askOnPageByURL is askOnPage for a client that opens pages for the person
// (URL elicitation): it sends them to the approval page, and its retry
// once they are back goes ahead if they approved.
func (s *Server) askOnPageByURL(ctx context.Context, subject []byte, pv preview) (*mcp.CallToolResult, error) {
	a, err := s.approvalFor(ctx, subject, pv)
	if a == nil || err != nil {
		if err == nil {
			callFromContext(ctx).accepted = &pv
		}
		return nil, err
	}
	return openPage(approvalKey, "Approve or decline on graphgate's page what the agent asked to do", s.d.BaseURL+ApprovalPath+a.ID), nil
}

// approvalFor is the approval of this exact call on what pv shows: nil
// once the person approved it (taken: it lets one call through), an error
// when they declined, or the approval waiting for them, asked now if it
// was not yet. The subject covers pv, so an approval of an earlier
// version of a draft or file is not found, and the person is asked anew.
func (s *Server) approvalFor(ctx context.Context, subject []byte, pv preview) (*graphgate.Approval, error) {
	call := callFromContext(ctx)
	key := base64.RawURLEncoding.EncodeToString(s.d.Keys.MAC(approvalPurpose, subject))
	a, err := s.d.Store.TakeApproval(ctx, key)
	switch {
	case err == nil && a.State == graphgate.ApprovalApproved:
		return nil, nil
	case err == nil:
		return nil, invalid("the person declined, so nothing was done. Do not try again unless they ask you to")
	case graphgate.ErrorCode(err) != graphgate.ENOTFOUND:
		return nil, err
	}
	c := call.caller
	// The page names the agent as the person named it.
	label := c.access.Label()
	if t := c.access.Token; t != nil && t.Name != "" {
		label = t.Name + " (" + label + ")"
	} else if g := c.access.Grant; g != nil {
		label = g.ClientName + " (connected app)"
	}
	return s.d.Store.AskApproval(ctx, &graphgate.Approval{ID: randomToken(), Key: key, UserID: c.user.ID, TokenID: c.access.TokenID(),
		GrantID: c.access.GrantID(), Label: label, Tool: call.tool, Summary: pv.text, ExpiresAt: s.d.Now().Add(confirmTTL).UTC()})
}

// openConfirmState checks a request state's MAC and expiry.
func (s *Server) openConfirmState(raw string, subject func(string) []byte) (confirmState, bool) {
	var st confirmState
	state, mac64, ok := strings.Cut(raw, ".")
	mac, err := base64.RawURLEncoding.Strict().DecodeString(mac64)
	if !ok || err != nil || !s.d.Keys.VerifyMAC(confirmPurpose, subject(state), mac) {
		return st, false
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(state)
	if err != nil || json.Unmarshal(body, &st) != nil || st.Nonce == "" || !s.d.Now().Before(time.Unix(st.Expires, 0)) {
		return st, false
	}
	return st, true
}

// randomToken is an id or nonce no one can guess: the random helper every
// token and link of graphgate's uses.
func randomToken() string { return apitoken.Random()[:22] }

// firstLines is the start of a text for a confirmation: a few lines, short,
// each line's control characters shown escaped.
func firstLines(text string, lines, runes int) string {
	parts := strings.SplitN(strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")), "\n", lines+1)
	if len(parts) > lines {
		parts = append(parts[:lines], "…")
	}
	for i, p := range parts {
		parts[i] = oneline.Escape(p)
	}
	return trimRunes(strings.Join(parts, "\n"), runes)
}

// fieldRunes is how long one field of a confirmation may be.
const fieldRunes = 200

// What the person is asked, per tool. Each names what would leave or go:
// recipients, subject, the first lines and attachment names of a message;
// the item for a deletion.

// messageBrief reads what a confirmation shows of an existing message, and
// its changeKey (which changes with any edit of it).
func messageBrief(ctx context.Context, g *graphapi.Client, id string) (gMessage, []string, error) {
	p, err := messagePath(id)
	if err != nil {
		return gMessage{}, nil, err
	}
	var m gMessage
	if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Safe: true,
		Query: url.Values{"$select": {"subject,from,toRecipients,ccRecipients,bccRecipients,receivedDateTime,bodyPreview,hasAttachments,changeKey"}}}, &m); err != nil {
		return gMessage{}, nil, err
	}
	var names []string
	if m.HasAttachments {
		var atts struct {
			Value []struct {
				Name string `json:"name"`
				Size int    `json:"size"`
			} `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p + "/attachments", Safe: true, Query: url.Values{"$select": {"name,size"}}}, &atts); err != nil {
			return gMessage{}, nil, err
		}
		for _, a := range atts.Value {
			names = append(names, fmt.Sprintf("%s (%s)", a.Name, byteSize(a.Size)))
		}
	}
	return m, names, nil
}

// byteSize is a size as people read it.
func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<10-1)>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// brief lays out a confirmation: a question, then one line per field, then
// the first lines of the text, each quoted with "> ". Field values are
// written by others (a subject, a file name): each stays on its one line,
// its control characters shown escaped and a long one cut, so no value can
// draw lines of its own (a fake "Attachments: (none)", say). The quoted text
// cannot pass for a field either.
func brief(question string, headers [][2]string, text string) string {
	var b strings.Builder
	b.WriteString(question + "\n")
	for _, h := range headers {
		if h[1] != "" {
			b.WriteString("\n" + h[0] + ": " + trimRunes(oneline.Escape(h[1]), fieldRunes))
		}
	}
	if text = firstLines(text, 6, 500); text != "" {
		b.WriteString("\n")
		for line := range strings.SplitSeq(text, "\n") {
			b.WriteString("\n> " + line)
		}
	}
	return b.String()
}

func sendSummary(_ context.Context, _ *graphapi.Client, in sendIn) (preview, error) {
	var names []string
	for _, a := range in.Attachments {
		names = append(names, a.Name)
	}
	for _, a := range in.LargeAttachments {
		names = append(names, a.Name+" (uploaded next)")
	}
	return preview{text: brief("Send this email?", [][2]string{{"From", in.Mailbox}, {"To", strings.Join(in.To, ", ")}, {"Cc", strings.Join(in.Cc, ", ")},
		{"Bcc", strings.Join(in.Bcc, ", ")}, {"Subject", in.Subject}, {"Attachments", strings.Join(names, ", ")}}, in.Body)}, nil
}

// sendDraftSummary is bound to the draft's changeKey: an edit after the
// person saw it (other recipients, another subject) makes graphgate ask
// again.
func sendDraftSummary(ctx context.Context, g *graphapi.Client, in deleteIn) (preview, error) {
	m, names, err := messageBrief(ctx, g, in.ID)
	return preview{text: brief("Send this draft?", [][2]string{{"To", strings.Join(addresses(m.ToRecipients), ", ")}, {"Cc", strings.Join(addresses(m.CcRecipients), ", ")},
		{"Bcc", strings.Join(addresses(m.BccRecipients), ", ")}, {"Subject", m.Subject}, {"Attachments", strings.Join(names, ", ")}}, m.BodyPreview),
		version: m.ChangeKey}, err
}

func replySummary(ctx context.Context, g *graphapi.Client, in replyIn) (preview, error) {
	m, _, err := messageBrief(ctx, g, in.ID)
	to := ""
	if m.From != nil {
		to = m.From.EmailAddress.Address
	}
	if in.ReplyAll {
		to = strings.Join(append([]string{to}, append(addresses(m.ToRecipients), addresses(m.CcRecipients)...)...), ", ")
	}
	return preview{text: brief("Send this reply?", [][2]string{{"To", to}, {"Subject", "Re: " + m.Subject}}, in.Comment)}, err
}

// forwardSummary is bound to the message's changeKey: what is forwarded is
// its whole content, attachments included.
func forwardSummary(ctx context.Context, g *graphapi.Client, in forwardIn) (preview, error) {
	m, names, err := messageBrief(ctx, g, in.ID)
	return preview{text: brief("Forward this email?", [][2]string{{"To", strings.Join(in.To, ", ")}, {"Subject", "Fw: " + m.Subject},
		{"Attachments", strings.Join(names, ", ")}}, in.Comment), version: m.ChangeKey}, err
}

func deleteMessageSummary(ctx context.Context, g *graphapi.Client, in deleteIn) (preview, error) {
	m, _, err := messageBrief(ctx, g, in.ID)
	from := ""
	if m.From != nil {
		from = m.From.EmailAddress.Address
	}
	return preview{text: brief("Move this email to Deleted Items?", [][2]string{{"From", from}, {"Subject", m.Subject},
		{"Received", m.ReceivedDateTime.Format("2006-01-02 15:04 MST")}}, "")}, err
}

// deleteFileSummary is bound to the item the path resolved to and its
// eTag: the deletion then targets that item, on condition that it is
// unchanged, whatever was moved to the path since.
func deleteFileSummary(ctx context.Context, g *graphapi.Client, in itemIn) (preview, error) {
	p, err := itemPath(in.ID, in.Path)
	if err != nil {
		return preview{}, err
	}
	var it gItem
	if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Query: url.Values{"$select": {itemFields + ",eTag"}}, Safe: true}, &it); err != nil {
		return preview{}, err
	}
	item := toItem(it)
	what := "file"
	if item.Kind == "folder" {
		what = fmt.Sprintf("folder and everything in it (%d items)", item.Children)
	}
	return preview{text: brief("Delete this "+what+"? OneDrive keeps it in its recycle bin for a while.", [][2]string{{"Path", item.Path}}, ""),
		item: it.ID, eTag: it.ETag}, nil
}
