package graph

import (
	"net/http"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// Calendar writes (Calendars.ReadWrite): create, update, cancel, delete,
// and the attendee's accept, tentativelyAccept and decline. Meetings reach
// attendees as Exchange delivers them: a copy of the event in each
// attendee's calendar (sharing its UID) and a message in their Inbox; the
// organizer's copy tracks each attendee's answer.

// eventInput is the body of a create or update.
type eventInput struct {
	Subject  *string           `json:"subject"`
	Body     *ItemBody         `json:"body"`
	Start    *DateTimeTimeZone `json:"start"`
	End      *DateTimeTimeZone `json:"end"`
	Location *struct {
		DisplayName string `json:"displayName"`
	} `json:"location"`
	Attendees             *[]Attendee `json:"attendees"`
	IsOnlineMeeting       *bool       `json:"isOnlineMeeting"`
	OnlineMeetingProvider *string     `json:"onlineMeetingProvider"`
	AllowNewTimeProposals *bool       `json:"allowNewTimeProposals"`
	IsAllDay              *bool       `json:"isAllDay"`
	ShowAs                *string     `json:"showAs"`
}

var errNotOrganizer = badRequest("ErrorInvalidRequest", "Your request can't be completed. You need to be an organizer to cancel a meeting.")

// apply sets what the input names on e, checking it as Exchange does.
func (in *eventInput) apply(e *Event) *apiError {
	if in.Subject != nil {
		e.Subject = *in.Subject
	}
	if in.Body != nil {
		e.Body = *in.Body
		if e.Body.ContentType == "" || strings.EqualFold(e.Body.ContentType, "text") {
			e.Body.ContentType = "text"
		} else {
			e.Body.ContentType = "html"
		}
	}
	for _, t := range []struct {
		v   *DateTimeTimeZone
		dst *time.Time
	}{{in.Start, &e.Start}, {in.End, &e.End}} {
		if t.v == nil {
			continue
		}
		if _, ok := directory.Location(t.v.TimeZone); t.v.TimeZone != "" && !ok {
			return badRequest("TimeZoneNotSupportedException", "A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", t.v.TimeZone)
		}
		at, err := parseZoned(*t.v)
		if err != nil {
			return badRequest("ErrorInvalidRequest", "Your request can't be completed. The value '%s' is not a valid date and time.", t.v.DateTime)
		}
		*t.dst = at
		if in.Start == t.v {
			e.Zone = orDefault(t.v.TimeZone, "UTC")
		}
	}
	if !e.End.After(e.Start) {
		return badRequest("ErrorInvalidRequest", "Your request can't be completed. The end time must be later than the start time.")
	}
	if in.Location != nil {
		e.Location = in.Location.DisplayName
	}
	if in.Attendees != nil {
		if len(*in.Attendees) > 500 {
			return badRequest("ErrorInvalidRequest", "Your request can't be completed. A meeting can have at most 500 attendees.")
		}
		var list []Attendee
		for _, a := range *in.Attendees {
			if !strings.Contains(a.EmailAddress.Address, "@") {
				return badRequest("ErrorInvalidRecipients", "At least one recipient isn't valid.")
			}
			switch a.Type {
			case "":
				a.Type = "required"
			case "required", "optional", "resource":
			default:
				return badRequest("RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.attendeeType'.", a.Type)
			}
			a.Status = ResponseStatus{Response: "none", Time: "0001-01-01T00:00:00Z"}
			for _, old := range e.Attendees {
				if strings.EqualFold(old.EmailAddress.Address, a.EmailAddress.Address) {
					a.Status = old.Status
				}
			}
			list = append(list, a)
		}
		e.Attendees = list
	}
	if in.IsOnlineMeeting != nil {
		if e.IsOnlineMeeting && !*in.IsOnlineMeeting {
			return badRequest("ErrorInvalidRequest", "Your request can't be completed. An online meeting can't be turned back into a regular one.")
		}
		e.IsOnlineMeeting = *in.IsOnlineMeeting
	}
	if in.AllowNewTimeProposals != nil {
		e.NoNewTimes = !*in.AllowNewTimeProposals
	}
	if in.IsAllDay != nil {
		e.IsAllDay = *in.IsAllDay
	}
	if in.ShowAs != nil {
		e.ShowAs = *in.ShowAs
	}
	return nil
}

// createEvent serves POST /me/events (and its calendar forms).
func (s *Server) createEvent(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in eventInput
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Start == nil || in.End == nil {
		badRequest("ErrorInvalidRequest", "Your request can't be completed. Start and End must both be set.").write(w, r)
		return
	}
	if in.IsOnlineMeeting != nil && *in.IsOnlineMeeting && in.OnlineMeetingProvider != nil {
		allowed := mb.DefaultCalendar().AllowedOnlineMeetingProviders
		if !containsFold(allowed, *in.OnlineMeetingProvider) {
			badRequest("ErrorInvalidRequest", "Your request can't be completed. The online meeting provider '%s' is not allowed for this calendar.", *in.OnlineMeetingProvider).write(w, r)
			return
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	e := &Event{Created: now, Modified: now, Organizer: *mb.self()}
	if e := in.apply(e); e != nil {
		e.write(w, r)
		return
	}
	mb.mu.Lock()
	cal, apiErr := mb.calendarFor(r)
	if apiErr == nil {
		e.ID, e.CalendarID = newID("AAMkAD"), cal.ID
		e.UID = e.ID
		mb.events[e.ID] = e
	}
	mb.mu.Unlock()
	if apiErr != nil {
		apiErr.write(w, r)
		return
	}
	s.invite(mb, e, e.Attendees)
	s.writeEvent(w, r, mb, e, http.StatusCreated)
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// writeEvent answers with an event as the client's zone shows it.
func (s *Server) writeEvent(w http.ResponseWriter, r *http.Request, mb *Mailbox, e *Event, status int) {
	tv := requestedZone(w, r)
	mb.mu.RLock()
	j := mb.render(occurrence{ev: e, kind: "singleInstance", start: e.Start, end: e.End, subject: e.Subject}, tv)
	mb.mu.RUnlock()
	writeJSON(w, status, j)
}

// invite delivers a meeting to attendees: their copy of the event and the
// request in their Inbox. Addresses outside the sandbox get nothing.
func (s *Server) invite(organizer *Mailbox, e *Event, to []Attendee) {
	for _, a := range to {
		box, ok := s.store.MailboxByAddress(a.EmailAddress.Address)
		if !ok || box == organizer {
			continue
		}
		box.mu.Lock()
		c := *e
		c.ID, c.CalendarID, c.Response, c.Exceptions = newID("AAMkAD"), box.calendars[0].ID, "none", nil
		c.Attendees = append([]Attendee(nil), e.Attendees...)
		box.events[c.ID] = &c
		box.receiveLocked(s.meetingMessage(e, "", e.Organizer, box.self()))
		box.mu.Unlock()
	}
}

// meetingMessage is a meeting request, update, cancellation or answer as
// it lands in an Inbox.
func (s *Server) meetingMessage(e *Event, prefix string, from Recipient, to *Recipient) *Message {
	now := s.now().UTC().Truncate(time.Second)
	m := &Message{Subject: prefix + e.Subject, Body: e.Body, From: &from, Sender: &from, ToRecipients: []Recipient{*to},
		ReceivedDateTime: now, CreatedDateTime: now, LastModifiedDateTime: now, SentDateTime: &now,
		InternetMessageID: "<" + newID("") + "@sandbox.test>", ConversationID: StableID("AAQkAD", e.UID)}
	return m
}

// receiveLocked puts a message in the Inbox; mb.mu must be held.
func (mb *Mailbox) receiveLocked(m *Message) {
	m.ParentFolderID = mb.Folder("inbox").ID
	mb.putMessage(m)
}

// copiesOf calls fn, under each box's lock in turn, with every attendee's
// copy of the organizer's meeting.
func (s *Server) copiesOf(e *Event, fn func(box *Mailbox, c *Event)) {
	for _, a := range e.Attendees {
		box, ok := s.store.MailboxByAddress(a.EmailAddress.Address)
		if !ok {
			continue
		}
		box.mu.Lock()
		for _, c := range box.events {
			if c.UID == e.UID && c != e {
				fn(box, c)
			}
		}
		box.mu.Unlock()
	}
}

// updateEvent serves PATCH /me/events/{id}. The organizer's changes reach
// attendees; attendees added are invited, attendees removed are told.
func (s *Server) updateEvent(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in eventInput
	if !decodeBody(w, r, &in) {
		return
	}
	mb.mu.Lock()
	e, ok := mb.events[r.PathValue("id")]
	if !ok {
		mb.mu.Unlock()
		lookupErr(r.PathValue("id")).write(w, r)
		return
	}
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" && ifMatch != `W/"`+mb.render(occurrence{ev: e, kind: "singleInstance"}, timeView{name: "UTC", loc: time.UTC}).ChangeKey+`"` {
		mb.mu.Unlock()
		(&apiError{http.StatusPreconditionFailed, "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."}).write(w, r)
		return
	}
	before := *e
	if apiErr := in.apply(e); apiErr != nil {
		*e = before
		mb.mu.Unlock()
		apiErr.write(w, r)
		return
	}
	e.Version++
	e.Modified = s.now().UTC().Truncate(time.Second)
	organizer := strings.EqualFold(e.Organizer.EmailAddress.Address, mb.Owner.UPN)
	after := *e
	mb.mu.Unlock()
	if organizer && e.UID != "" {
		var added, removed []Attendee
		for _, a := range after.Attendees {
			if !hasAttendee(before.Attendees, a.EmailAddress.Address) {
				added = append(added, a)
			}
		}
		for _, a := range before.Attendees {
			if !hasAttendee(after.Attendees, a.EmailAddress.Address) {
				removed = append(removed, a)
			}
		}
		s.copiesOf(&before, func(box *Mailbox, c *Event) {
			if hasAttendee(removed, box.Owner.UPN) {
				c.Cancelled, c.Subject = true, "Canceled: "+after.Subject
				box.receiveLocked(s.meetingMessage(&after, "Canceled: ", after.Organizer, box.self()))
				return
			}
			c.Subject, c.Body, c.Start, c.End, c.Zone, c.Location = after.Subject, after.Body, after.Start, after.End, after.Zone, after.Location
			c.Attendees, c.IsOnlineMeeting, c.Version, c.Modified = append([]Attendee(nil), after.Attendees...), after.IsOnlineMeeting, c.Version+1, after.Modified
			if in.Start != nil || in.End != nil {
				c.Response = "none" // a new time asks everyone again
			}
			box.receiveLocked(s.meetingMessage(&after, "Updated: ", after.Organizer, box.self()))
		})
		s.invite(mb, &after, added)
	}
	s.writeEvent(w, r, mb, e, http.StatusOK)
}

func hasAttendee(list []Attendee, addr string) bool {
	for _, a := range list {
		if strings.EqualFold(a.EmailAddress.Address, addr) {
			return true
		}
	}
	return false
}

// cancelEvent serves POST /me/events/{id}/cancel: the organizer cancels,
// attendees are told with the comment, the event leaves the calendar.
func (s *Server) cancelEvent(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in struct {
		Comment string `json:"comment"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &in) {
		return
	}
	mb.mu.Lock()
	e, ok := mb.events[r.PathValue("id")]
	switch {
	case !ok:
		mb.mu.Unlock()
		lookupErr(r.PathValue("id")).write(w, r)
		return
	case !strings.EqualFold(e.Organizer.EmailAddress.Address, mb.Owner.UPN):
		mb.mu.Unlock()
		errNotOrganizer.write(w, r)
		return
	}
	delete(mb.events, e.ID)
	mb.mu.Unlock()
	s.copiesOf(e, func(box *Mailbox, c *Event) {
		c.Cancelled, c.Subject = true, "Canceled: "+e.Subject
		m := s.meetingMessage(e, "Canceled: ", e.Organizer, box.self())
		m.Body = ItemBody{ContentType: "text", Content: in.Comment}
		box.receiveLocked(m)
	})
	w.WriteHeader(http.StatusAccepted)
}

// deleteEvent serves DELETE /me/events/{id}.
func (s *Server) deleteEvent(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	if !mb.RemoveEvent(r.PathValue("id")) {
		lookupErr(r.PathValue("id")).write(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// respondEvent serves POST /me/events/{id}/accept, tentativelyAccept and
// decline: the attendee's answer, told to the organizer when sendResponse.
func (s *Server) respondEvent(answer string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
		var in struct {
			Comment         string `json:"comment"`
			SendResponse    *bool  `json:"sendResponse"`
			ProposedNewTime *struct {
				Start DateTimeTimeZone `json:"start"`
				End   DateTimeTimeZone `json:"end"`
			} `json:"proposedNewTime"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		send := in.SendResponse == nil || *in.SendResponse
		mb.mu.Lock()
		e, ok := mb.events[r.PathValue("id")]
		var apiErr *apiError
		switch {
		case !ok:
			apiErr = lookupErr(r.PathValue("id"))
		case strings.EqualFold(e.Organizer.EmailAddress.Address, mb.Owner.UPN):
			apiErr = badRequest("ErrorInvalidRequest", "Your request can't be completed. You can't respond to a meeting you organized.")
		case in.ProposedNewTime != nil && answer == "accepted":
			apiErr = badRequest("RequestBodyRead", "The property 'proposedNewTime' does not exist on type 'microsoft.graph.event.accept'.")
		case in.ProposedNewTime != nil && (e.NoNewTimes || !send):
			apiErr = badRequest("ErrorInvalidRequest", "Your request can't be completed. New time proposals are not allowed for this meeting, or the response is not sent.")
		}
		if apiErr != nil {
			mb.mu.Unlock()
			apiErr.write(w, r)
			return
		}
		e.Response = answer
		ev := *e
		if answer == "declined" {
			delete(mb.events, e.ID) // Outlook moves a declined meeting to Deleted Items
		}
		mb.mu.Unlock()
		organizer, ok := s.store.MailboxByAddress(ev.Organizer.EmailAddress.Address)
		if !ok {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		organizer.mu.Lock()
		for _, o := range organizer.events {
			if ev.UID == "" || o.UID != ev.UID || o.Response != "" {
				continue
			}
			for i := range o.Attendees {
				if strings.EqualFold(o.Attendees[i].EmailAddress.Address, mb.Owner.UPN) {
					o.Attendees[i].Status = ResponseStatus{Response: answer, Time: s.now().UTC().Format(time.RFC3339)}
				}
			}
		}
		if send {
			prefix := map[string]string{"accepted": "Accepted: ", "tentativelyAccepted": "Tentative: ", "declined": "Declined: "}[answer]
			m := s.meetingMessage(&ev, prefix, *mb.self(), &ev.Organizer)
			m.Body = ItemBody{ContentType: "text", Content: in.Comment}
			if in.ProposedNewTime != nil {
				m.Subject = "New Time Proposed: " + ev.Subject
			}
			organizer.receiveLocked(m)
		}
		organizer.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
}
