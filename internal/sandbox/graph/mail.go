package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Attachments sent inline in one request must stay under 3 MB on Graph.
const maxInlineAttachment = 3 << 20

var errNotFound = &apiError{http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."}

// outlookID reports whether s looks like an Outlook id; Graph answers 400 for
// ids that could never exist and 404 for ids that no longer do.
func outlookID(s string) bool { return strings.HasPrefix(s, "AAMk") || strings.HasPrefix(s, "AQMk") }

func lookupErr(id string) *apiError {
	if !outlookID(id) {
		return &apiError{http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed."}
	}
	return errNotFound
}

// folderLocked resolves a folder path segment; callers hold mb.mu.
func (mb *Mailbox) folderLocked(key string) (*MailFolder, *apiError) {
	if f := mb.Folder(key); f != nil {
		return f, nil
	}
	return nil, lookupErr(key)
}

func (mb *Mailbox) messageLocked(id string) (*Message, *apiError) {
	if m, ok := mb.messages[id]; ok {
		return m, nil
	}
	return nil, lookupErr(id)
}

// folderView is a folder with its counts, as served.
func (mb *Mailbox) folderView(f *MailFolder) MailFolder {
	v := *f
	for _, c := range mb.folders {
		if c.ParentFolderID == f.ID {
			v.ChildFolderCount++
		}
	}
	for _, m := range mb.messages {
		if m.ParentFolderID == f.ID {
			v.TotalItemCount++
			v.SizeInBytes += len(m.Body.Content) + 1024
			if !m.IsRead {
				v.UnreadItemCount++
			}
		}
	}
	return v
}

func (s *Server) listFolders(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, folderType)
	if e != nil {
		e.write(w, r)
		return
	}
	mb.mu.RLock()
	parent := mb.Folder("msgfolderroot")
	if key := r.PathValue("folder"); key != "" {
		var e *apiError
		if parent, e = mb.folderLocked(key); e != nil {
			mb.mu.RUnlock()
			e.write(w, r)
			return
		}
	}
	hidden := r.URL.Query().Get("includeHiddenFolders") == "true"
	var out []*MailFolder
	for _, f := range mb.folders {
		if f.ParentFolderID == parent.ID && (!f.IsHidden || hidden) {
			v := mb.folderView(f)
			if lq.filter == nil || lq.filter.eval(&v) {
				out = append(out, &v)
			}
		}
	}
	mb.mu.RUnlock()
	items, next := page(r, out, lq, folderType)
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/mailFolders", items, next, lq.selects, nil)
}

func (s *Server) getFolder(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	f, e := mb.folderLocked(r.PathValue("folder"))
	var v MailFolder
	if e == nil {
		v = mb.folderView(f)
	}
	mb.mu.RUnlock()
	if e != nil {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, project(v, selectParam(r)))
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in struct {
		DisplayName string `json:"displayName"`
		IsHidden    bool   `json:"isHidden"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		badRequest("ErrorInvalidParameter", "The value of the parameter 'DisplayName' is empty.").write(w, r)
		return
	}
	mb.mu.Lock()
	parent := mb.Folder("msgfolderroot")
	if key := r.PathValue("folder"); key != "" {
		var e *apiError
		if parent, e = mb.folderLocked(key); e != nil {
			mb.mu.Unlock()
			e.write(w, r)
			return
		}
	}
	for _, f := range mb.folders {
		if f.ParentFolderID == parent.ID && strings.EqualFold(f.DisplayName, in.DisplayName) {
			mb.mu.Unlock()
			WriteError(w, r, http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			return
		}
	}
	f := &MailFolder{ID: newID("AAMkAD"), DisplayName: in.DisplayName, ParentFolderID: parent.ID, IsHidden: in.IsHidden}
	mb.folders = append(mb.folders, f)
	v := mb.folderView(f)
	mb.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

// preferences reads the Prefer header's Outlook preferences.
func preferences(r *http.Request) (bodyType, timeZone string) {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "outlook.body-content-type":
				bodyType = strings.ToLower(v)
			case "outlook.timezone":
				timeZone = v
			}
		}
	}
	return bodyType, timeZone
}

// messageView is a message as served: body in the preferred content type.
func messageView(m *Message, bodyType string) *Message {
	if bodyType == "" || bodyType == m.Body.ContentType {
		return m
	}
	v := *m
	v.Body = bodyAs(m.Body, bodyType)
	return &v
}

func applyBodyPreference(w http.ResponseWriter, r *http.Request) string {
	bodyType, _ := preferences(r)
	if bodyType == "text" || bodyType == "html" {
		w.Header().Set("Preference-Applied", `outlook.body-content-type="`+bodyType+`"`)
		return bodyType
	}
	return ""
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, messageType)
	if e != nil {
		e.write(w, r)
		return
	}
	var search *kqlQuery
	if lq.search != "" {
		if search, e = parseKQL(lq.search); e != nil {
			e.write(w, r)
			return
		}
	}
	bodyType := applyBodyPreference(w, r)
	mb.mu.RLock()
	folderID := ""
	if key := r.PathValue("folder"); key != "" {
		f, e := mb.folderLocked(key)
		if e != nil {
			mb.mu.RUnlock()
			e.write(w, r)
			return
		}
		folderID = f.ID
	}
	var out []*Message
	for _, m := range mb.messages {
		if folderID != "" && m.ParentFolderID != folderID {
			continue
		}
		if lq.filter != nil && !lq.filter.eval(m) || search != nil && !search.match(m) {
			continue
		}
		out = append(out, m)
	}
	sortMessages(out, lq.orderby)
	if search != nil && len(out) > 1000 {
		out = out[:1000] // $search returns at most 1,000 results
	}
	items, next := page(r, out, lq, messageType)
	views := make([]*Message, len(items))
	for i, m := range items {
		views[i] = messageView(m, bodyType)
	}
	// Encode while holding the lock: the views share state with the store.
	context := "users('" + mb.Owner.ObjectID + "')/messages"
	var buf bytes.Buffer
	values := make([]any, len(views))
	for i, v := range views {
		values[i] = project(v, lq.selects)
	}
	body := map[string]any{"@odata.context": baseURL(r) + "/v1.0/$metadata#" + context, "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	err := json.NewEncoder(&buf).Encode(body)
	mb.mu.RUnlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// sortMessages orders by $orderby, else newest first; the id breaks ties so
// pages never overlap.
func sortMessages(ms []*Message, order []orderKey) {
	if len(order) == 0 {
		order = []orderKey{{prop: "receiveddatetime", desc: true}}
	}
	slices.SortFunc(ms, func(a, b *Message) int {
		for _, k := range order {
			c, ok := compare(a.field(k.prop), b.field(k.prop))
			if !ok {
				continue
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func selectParam(r *http.Request) []string {
	v, _ := odataParam(r.URL.Query(), "select")
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	bodyType := applyBodyPreference(w, r)
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	m, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		e.write(w, r)
		return
	}
	if key := r.PathValue("folder"); key != "" {
		if f := mb.Folder(key); f == nil || f.ID != m.ParentFolderID {
			lookupErr(r.PathValue("id")).write(w, r)
			return
		}
	}
	v := project(messageView(m, bodyType), selectParam(r))
	if exp, _ := odataParam(r.URL.Query(), "expand"); strings.EqualFold(exp, "attachments") {
		b, _ := json.Marshal(v)
		var obj map[string]any
		_ = json.Unmarshal(b, &obj)
		atts := make([]*Attachment, len(m.Attachments))
		copy(atts, m.Attachments)
		obj["attachments"] = atts
		v = obj
	}
	writeJSON(w, http.StatusOK, v)
}

// messageInput is the writable part of a message in a create or PATCH body.
type messageInput struct {
	ODataType               string             `json:"@odata.type"`
	Subject                 *string            `json:"subject"`
	Body                    *ItemBody          `json:"body"`
	ToRecipients            *[]Recipient       `json:"toRecipients"`
	CcRecipients            *[]Recipient       `json:"ccRecipients"`
	BccRecipients           *[]Recipient       `json:"bccRecipients"`
	ReplyTo                 *[]Recipient       `json:"replyTo"`
	Importance              *string            `json:"importance"`
	IsRead                  *bool              `json:"isRead"`
	Flag                    *Flag              `json:"flag"`
	Categories              *[]string          `json:"categories"`
	InferenceClassification *string            `json:"inferenceClassification"`
	IsReadReceiptRequested  *bool              `json:"isReadReceiptRequested"`
	IsDeliveryReceipt       *bool              `json:"isDeliveryReceiptRequested"`
	Attachments             []*Attachment      `json:"attachments"`
	InternetMessageHeaders  []map[string]any   `json:"internetMessageHeaders"`
	SingleValueProps        []*json.RawMessage `json:"singleValueExtendedProperties"`
	// From sends as another mailbox (Send As: Mail.Send.Shared and the
	// Exchange right); sendMail checks it.
	From *Recipient `json:"from"`
}

// decodeStrict reads a JSON body and refuses properties the type does not have,
// as Graph does.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any, typeName string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var msg string
		switch {
		case errors.As(err, &tooBig):
			WriteError(w, r, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request payload exceeds the 4 MB limit.")
			return false
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			msg = fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, typeName)
			WriteError(w, r, http.StatusBadRequest, "RequestBroker--ParseUri", msg)
			return false
		default:
			WriteError(w, r, http.StatusBadRequest, "RequestBodyRead", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
			return false
		}
	}
	return true
}

var validFlag = map[string]bool{"notFlagged": true, "complete": true, "flagged": true}
var validImportance = map[string]bool{"low": true, "normal": true, "high": true}

// validate checks an input against Graph's rules before anything changes.
func (in *messageInput) validate() *apiError {
	if in.Flag != nil && !validFlag[in.Flag.FlagStatus] {
		return badRequest("ErrorInvalidArgument", "Invalid value '%s' for flagStatus.", in.Flag.FlagStatus)
	}
	if in.Importance != nil && !validImportance[strings.ToLower(*in.Importance)] {
		return badRequest("RequestBroker--ParseUri", "Requested value '%s' was not found.", *in.Importance)
	}
	if in.Body != nil && in.Body.ContentType != "" && !strings.EqualFold(in.Body.ContentType, "html") && !strings.EqualFold(in.Body.ContentType, "text") {
		return badRequest("RequestBroker--ParseUri", "Requested value '%s' was not found.", in.Body.ContentType)
	}
	for _, list := range []*[]Recipient{in.ToRecipients, in.CcRecipients, in.BccRecipients, in.ReplyTo} {
		if list == nil {
			continue
		}
		for _, rc := range *list {
			if !validAddress(rc.EmailAddress.Address) {
				return badRequest("ErrorInvalidRecipients", "At least one recipient isn't valid., Recipient '%s' isn't resolved. All recipients must be resolved before a message can be submitted.", rc.EmailAddress.Address)
			}
		}
	}
	for _, a := range in.Attachments {
		if a.ODataType != "" && a.ODataType != "#microsoft.graph.fileAttachment" {
			return badRequest("ErrorInvalidParameter", "Only file attachments are supported by the sandbox.")
		}
		if a.Name == "" {
			return badRequest("ErrorInvalidParameter", "The attachment must have a name.")
		}
		if len(a.ContentBytes) >= maxInlineAttachment {
			return &apiError{http.StatusRequestEntityTooLarge, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize", "Attachments of 3 MB or more must be uploaded with an upload session."}
		}
	}
	return nil
}

var addressRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func validAddress(a string) bool { return addressRE.MatchString(a) }

// apply writes the input's properties onto m. Drafts accept everything; sent
// or received messages only the properties Outlook lets you change.
func (in *messageInput) apply(m *Message) *apiError {
	if !m.IsDraft && (in.Subject != nil || in.Body != nil || in.ToRecipients != nil || in.CcRecipients != nil ||
		in.BccRecipients != nil || in.ReplyTo != nil) {
		return badRequest("ErrorInvalidPropertyUpdateSentMessage", "Update operation is not valid on a message that has already been sent. Only the following properties can be updated: isRead, flag, categories, importance, inferenceClassification.")
	}
	if in.Subject != nil {
		m.Subject = *in.Subject
	}
	if in.Body != nil {
		m.Body = ItemBody{ContentType: strings.ToLower(in.Body.ContentType), Content: in.Body.Content}
	}
	set := func(dst *[]Recipient, src *[]Recipient) {
		if src != nil {
			*dst = append([]Recipient(nil), (*src)...)
		}
	}
	set(&m.ToRecipients, in.ToRecipients)
	set(&m.CcRecipients, in.CcRecipients)
	set(&m.BccRecipients, in.BccRecipients)
	set(&m.ReplyTo, in.ReplyTo)
	if in.Importance != nil {
		m.Importance = strings.ToLower(*in.Importance)
	}
	if in.IsRead != nil {
		m.IsRead = *in.IsRead
	}
	if in.Flag != nil {
		m.Flag = *in.Flag
	}
	if in.Categories != nil {
		m.Categories = append([]string{}, (*in.Categories)...)
	}
	if in.InferenceClassification != nil {
		m.InferenceClassification = *in.InferenceClassification
	}
	if in.IsReadReceiptRequested != nil {
		m.IsReadReceiptRequested = *in.IsReadReceiptRequested
	}
	if in.IsDeliveryReceipt != nil {
		m.IsDeliveryReceiptRequested = *in.IsDeliveryReceipt
	}
	for _, a := range in.Attachments {
		a.LastModifiedDateTime = m.LastModifiedDateTime
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
		m.Attachments = append(m.Attachments, a)
	}
	return nil
}

func (mb *Mailbox) self() *Recipient {
	return &Recipient{EmailAddress{Name: mb.Owner.DisplayName, Address: mb.Owner.UPN}}
}

// newDraft makes an empty draft in the Drafts folder.
func (mb *Mailbox) newDraft(now time.Time) *Message {
	now = now.UTC().Truncate(time.Second)
	return &Message{ID: newID("AAMkAD"), CreatedDateTime: now, LastModifiedDateTime: now, ReceivedDateTime: now,
		IsDraft: true, IsRead: true, ParentFolderID: mb.Folder("drafts").ID, From: mb.self(), Sender: mb.self(),
		Body: ItemBody{ContentType: "text"}}
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in messageInput
	if !decodeStrict(w, r, &in, "microsoft.graph.message") {
		return
	}
	if e := in.validate(); e != nil {
		e.write(w, r)
		return
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m := mb.newDraft(s.now())
	if key := r.PathValue("folder"); key != "" {
		f, e := mb.folderLocked(key)
		if e != nil {
			e.write(w, r)
			return
		}
		m.ParentFolderID = f.ID
	}
	_ = in.apply(m)
	mb.putMessage(m)
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) updateMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in messageInput
	if !decodeStrict(w, r, &in, "microsoft.graph.message") {
		return
	}
	if e := in.validate(); e != nil {
		e.write(w, r)
		return
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		e.write(w, r)
		return
	}
	// Apply to a copy so a refused update changes nothing.
	c := *m
	if e := in.apply(&c); e != nil {
		e.write(w, r)
		return
	}
	*m = c
	m.touch(s.now())
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if _, e := mb.messageLocked(r.PathValue("id")); e != nil {
		e.write(w, r)
		return
	}
	// DELETE moves the item to Recoverable Items, out of every visible folder.
	delete(mb.messages, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// sendMail handles POST /me/sendMail.
func (s *Server) sendMail(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in struct {
		Message         *messageInput `json:"message"`
		SaveToSentItems *bool         `json:"saveToSentItems"`
	}
	if !decodeStrict(w, r, &in, "microsoft.graph.sendMail") {
		return
	}
	if in.Message == nil {
		badRequest("ErrorInvalidParameter", "The value of the parameter 'Message' is empty.").write(w, r)
		return
	}
	if e := in.Message.validate(); e != nil {
		e.write(w, r)
		return
	}
	var as *Mailbox
	if f := in.Message.From; f != nil && !strings.EqualFold(f.EmailAddress.Address, mb.Owner.UPN) {
		other, ok := s.store.MailboxByAddress(f.EmailAddress.Address)
		if !ok || !hasAny(callerOf(r).Scopes, []string{"Mail.Send.Shared"}) || !other.Owner.Reaches(mb.Owner) {
			WriteError(w, r, http.StatusForbidden, "ErrorSendAsDenied", "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.")
			return
		}
		as = other
	}
	mb.mu.Lock()
	m := mb.newDraft(s.now())
	_ = in.Message.apply(m)
	if as != nil {
		m.From, m.Sender = as.self(), as.self() // Send As: both the mailbox
	}
	if len(m.ToRecipients)+len(m.CcRecipients)+len(m.BccRecipients) == 0 {
		mb.mu.Unlock()
		badRequest("ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be sent because it contains no recipients.").write(w, r)
		return
	}
	save := in.SaveToSentItems == nil || *in.SaveToSentItems
	s.submitLocked(mb, m, save)
	mb.mu.Unlock()
	s.deliver(m)
	w.WriteHeader(http.StatusAccepted)
}

// submitLocked turns a draft into a sent message in Sent Items (or drops it
// when it is not to be saved).
func (s *Server) submitLocked(mb *Mailbox, m *Message, save bool) {
	now := s.now().UTC().Truncate(time.Second)
	m.IsDraft = false
	m.IsRead = true
	m.SentDateTime = &now
	m.ReceivedDateTime = now
	m.ParentFolderID = mb.Folder("sentitems").ID
	if save {
		mb.putMessage(m)
		m.touch(now)
	} else {
		delete(mb.messages, m.ID)
		m.normalize()
	}
}

// deliver puts a copy of a sent message in the Inbox of every recipient who
// is a sandbox person. Bcc recipients are not shown to anyone else.
func (s *Server) deliver(m *Message) {
	seen := map[string]bool{}
	for _, list := range [][]Recipient{m.ToRecipients, m.CcRecipients, m.BccRecipients} {
		for _, rc := range list {
			addr := lower(rc.EmailAddress.Address)
			if seen[addr] {
				continue
			}
			seen[addr] = true
			box, ok := s.store.MailboxByAddress(addr)
			if !ok {
				continue
			}
			c := m.clone()
			c.ID = ""
			c.ChangeKey = ""
			c.BccRecipients = nil
			c.IsRead = false
			c.IsDraft = false
			c.ReceivedDateTime = s.now().UTC().Truncate(time.Second)
			c.CreatedDateTime = c.ReceivedDateTime
			c.LastModifiedDateTime = c.ReceivedDateTime
			box.mu.Lock()
			c.ParentFolderID = box.Folder("inbox").ID
			box.putMessage(c)
			box.mu.Unlock()
		}
	}
}

// messageAction handles POST /me/messages/{id}/{action}.
func (s *Server) messageAction(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	switch action := r.PathValue("action"); action {
	case "send":
		s.sendDraft(w, r, mb)
	case "reply", "replyAll", "forward":
		s.respondTo(w, r, mb, action, false)
	case "createReply", "createReplyAll", "createForward":
		// createReplyAll -> replyAll: the same response, kept as a draft.
		kind := strings.TrimPrefix(action, "create")
		s.respondTo(w, r, mb, strings.ToLower(kind[:1])+kind[1:], true)
	case "move", "copy":
		s.moveMessage(w, r, mb, action == "copy")
	case "permanentDelete":
		s.deleteMessage(w, r, mb)
	default:
		badRequest("BadRequest", "Resource not found for the segment '%s'.", action).write(w, r)
	}
}

func (s *Server) sendDraft(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.Lock()
	m, e := mb.messageLocked(r.PathValue("id"))
	switch {
	case e != nil:
	case !m.IsDraft:
		e = badRequest("ErrorInvalidOperation", "Only draft messages can be sent.")
	case len(m.ToRecipients)+len(m.CcRecipients)+len(m.BccRecipients) == 0:
		e = badRequest("ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be sent because it contains no recipients.")
	}
	if e != nil {
		mb.mu.Unlock()
		e.write(w, r)
		return
	}
	s.submitLocked(mb, m, true)
	sent := m.clone()
	mb.mu.Unlock()
	s.deliver(sent)
	w.WriteHeader(http.StatusAccepted)
}

// respondTo handles reply, replyAll and forward, and their create* forms that
// return a draft instead of sending.
func (s *Server) respondTo(w http.ResponseWriter, r *http.Request, mb *Mailbox, kind string, draftOnly bool) {
	var in struct {
		Comment      *string       `json:"comment"`
		ToRecipients *[]Recipient  `json:"toRecipients"`
		Message      *messageInput `json:"message"`
	}
	if r.ContentLength != 0 && !decodeStrict(w, r, &in, "microsoft.graph."+kind) {
		return
	}
	if in.Comment != nil && in.Message != nil && in.Message.Body != nil {
		badRequest("ErrorInvalidRequest", "Specify either a comment or the body property of the message parameter, not both.").write(w, r)
		return
	}
	if in.Message != nil {
		if e := in.Message.validate(); e != nil {
			e.write(w, r)
			return
		}
	}
	if in.ToRecipients != nil {
		if e := (&messageInput{ToRecipients: in.ToRecipients}).validate(); e != nil {
			e.write(w, r)
			return
		}
	}
	mb.mu.Lock()
	orig, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		mb.mu.Unlock()
		e.write(w, r)
		return
	}
	m := mb.newDraft(s.now())
	m.ConversationID = orig.ConversationID
	prefix := "RE: "
	switch kind {
	case "reply":
		m.ToRecipients = replyTargets(orig)
	case "replyAll":
		m.ToRecipients = replyTargets(orig)
		for _, rc := range orig.ToRecipients {
			if !strings.EqualFold(rc.EmailAddress.Address, mb.Owner.UPN) {
				m.ToRecipients = append(m.ToRecipients, rc)
			}
		}
		m.CcRecipients = slices.DeleteFunc(append([]Recipient(nil), orig.CcRecipients...), func(rc Recipient) bool {
			return strings.EqualFold(rc.EmailAddress.Address, mb.Owner.UPN)
		})
	case "forward":
		prefix = "FW: "
		for _, a := range orig.Attachments {
			ac := *a
			ac.ID = ""
			m.Attachments = append(m.Attachments, &ac)
		}
	}
	if in.ToRecipients != nil {
		m.ToRecipients = *in.ToRecipients
	}
	m.Subject = prefix + strings.TrimPrefix(strings.TrimPrefix(orig.Subject, "RE: "), "FW: ")
	comment := ""
	if in.Comment != nil {
		comment = *in.Comment
	}
	if in.Message != nil {
		if in.Message.Body != nil {
			comment = in.Message.Body.Content
			in.Message.Body = nil
		}
		_ = in.Message.apply(m)
	}
	m.Body = ItemBody{ContentType: "html", Content: quoteBody(comment, orig)}
	if kind == "forward" && len(m.ToRecipients) == 0 && !draftOnly {
		mb.mu.Unlock()
		badRequest("ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be sent because it contains no recipients.").write(w, r)
		return
	}
	if draftOnly {
		mb.putMessage(m)
		mb.mu.Unlock()
		writeJSON(w, http.StatusCreated, m)
		return
	}
	s.submitLocked(mb, m, true)
	sent := m.clone()
	mb.mu.Unlock()
	s.deliver(sent)
	w.WriteHeader(http.StatusAccepted)
}

func replyTargets(orig *Message) []Recipient {
	if len(orig.ReplyTo) > 0 {
		return append([]Recipient(nil), orig.ReplyTo...)
	}
	if orig.From != nil {
		return []Recipient{*orig.From}
	}
	return nil
}

func quoteBody(comment string, orig *Message) string {
	var b strings.Builder
	b.WriteString("<html><body><div>")
	b.WriteString(strings.ReplaceAll(html.EscapeString(comment), "\n", "<br>"))
	b.WriteString("</div><hr><div><b>From:</b> ")
	if orig.From != nil {
		b.WriteString(html.EscapeString(orig.From.EmailAddress.Name + " <" + orig.From.EmailAddress.Address + ">"))
	}
	b.WriteString("<br><b>Sent:</b> " + orig.ReceivedDateTime.Format("Monday, January 2, 2006 3:04 PM"))
	b.WriteString("<br><b>Subject:</b> " + html.EscapeString(orig.Subject) + "</div><br>")
	if orig.Body.ContentType == "html" {
		b.WriteString(orig.Body.Content)
	} else {
		b.WriteString("<pre>" + html.EscapeString(orig.Body.Content) + "</pre>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

func (s *Server) moveMessage(w http.ResponseWriter, r *http.Request, mb *Mailbox, copyOnly bool) {
	var in struct {
		DestinationID string `json:"destinationId"`
	}
	if !decodeStrict(w, r, &in, "microsoft.graph.move") {
		return
	}
	if in.DestinationID == "" {
		badRequest("ErrorInvalidParameter", "The value of the parameter 'DestinationId' is empty.").write(w, r)
		return
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		e.write(w, r)
		return
	}
	dest, e := mb.folderLocked(in.DestinationID)
	if e != nil {
		e.write(w, r)
		return
	}
	// A moved message gets a new id: the old one stops working.
	c := m.clone()
	c.ID = newID("AAMkAD")
	c.ParentFolderID = dest.ID
	c.Attachments = m.Attachments
	if copyOnly {
		c.Attachments = m.clone().Attachments
	} else {
		delete(mb.messages, m.ID)
	}
	mb.putMessage(c)
	c.touch(s.now())
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listAttachments(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	m, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		e.write(w, r)
		return
	}
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/messages('"+m.ID+"')/attachments", m.Attachments, "", selectParam(r), nil)
}

func (mb *Mailbox) attachmentLocked(r *http.Request) (*Message, *Attachment, *apiError) {
	m, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		return nil, nil, e
	}
	for _, a := range m.Attachments {
		if a.ID == r.PathValue("att") {
			return m, a, nil
		}
	}
	return m, nil, lookupErr(r.PathValue("att"))
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	_, a, e := mb.attachmentLocked(r)
	if e != nil {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, project(a, selectParam(r)))
}

func (s *Server) attachmentValue(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	_, a, e := mb.attachmentLocked(r)
	if e != nil {
		e.write(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(a.ContentBytes)))
	_, _ = w.Write(a.ContentBytes)
}

func (s *Server) addAttachment(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var a Attachment
	if !decodeStrict(w, r, &a, "microsoft.graph.attachment") {
		return
	}
	if e := (&messageInput{Attachments: []*Attachment{&a}}).validate(); e != nil {
		e.write(w, r)
		return
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m, e := mb.messageLocked(r.PathValue("id"))
	if e != nil {
		e.write(w, r)
		return
	}
	if !m.IsDraft {
		badRequest("ErrorInvalidOperation", "Attachments can only be added to draft messages.").write(w, r)
		return
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	a.LastModifiedDateTime = s.now().UTC().Truncate(time.Second)
	m.Attachments = append(m.Attachments, &a)
	m.touch(s.now())
	writeJSON(w, http.StatusCreated, &a)
}

func (s *Server) deleteAttachment(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m, a, e := mb.attachmentLocked(r)
	if e != nil {
		e.write(w, r)
		return
	}
	m.Attachments = slices.DeleteFunc(m.Attachments, func(x *Attachment) bool { return x == a })
	m.touch(s.now())
	w.WriteHeader(http.StatusNoContent)
}
