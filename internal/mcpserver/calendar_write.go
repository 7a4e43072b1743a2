package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
)

// The calendar.write capability: create, change and cancel events, answer
// invitations, find meeting times. Whatever sends something to other
// people (an invitation, an update, a cancellation, an answer) asks first
// with a token that asks before sending.

type eventFieldsIn struct {
	Subject   string   `json:"subject,omitempty"`
	Start     string   `json:"start,omitempty" jsonschema:"local time in time_zone, such as 2026-05-04T14:00, or RFC 3339 with an offset"`
	End       string   `json:"end,omitempty"`
	TimeZone  string   `json:"time_zone,omitempty" jsonschema:"IANA zone of start and end; default the person's own"`
	Attendees []string `json:"attendees,omitempty" jsonschema:"required attendees' addresses; each is sent an invitation"`
	Optional  []string `json:"optional_attendees,omitempty"`
	Location  string   `json:"location,omitempty"`
	Body      string   `json:"body,omitempty" jsonschema:"the invitation's text"`
}

type createEventIn struct {
	eventFieldsIn
	Online bool `json:"online_meeting,omitempty" jsonschema:"add an online meeting link (Teams for work accounts)"`
}

// eventRequest is the fields given as Graph's event, in the zone asked
// for (default the person's own), and that zone.
func (s *Server) eventRequest(ctx context.Context, g *graphapi.Client, in eventFieldsIn) (*time.Location, string, map[string]any, error) {
	loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
	if err != nil {
		return nil, "", nil, err
	}
	body, err := eventBody(in, loc, zone)
	return loc, zone, body, err
}

// eventBody turns the fields given into Graph's event, times in zone.
func eventBody(in eventFieldsIn, loc *time.Location, zone string) (map[string]any, error) {
	body := map[string]any{}
	if in.Subject != "" {
		body["subject"] = in.Subject
	}
	var start, end time.Time
	for _, t := range []struct {
		name, v string
		dst     *time.Time
	}{{"start", in.Start, &start}, {"end", in.End, &end}} {
		if t.v == "" {
			continue
		}
		at, err := parseLocal(t.name, t.v, loc)
		if err != nil {
			return nil, err
		}
		*t.dst = at
		body[t.name] = map[string]string{"dateTime": at.Format("2006-01-02T15:04:05"), "timeZone": zone}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return nil, invalid("end must be after start")
	}
	if in.Attendees != nil || in.Optional != nil {
		if len(in.Attendees)+len(in.Optional) > 500 {
			return nil, invalid("at most 500 attendees")
		}
		var list []map[string]any
		for _, group := range []struct {
			field, kind string
			addrs       []string
		}{{"attendees", "required", in.Attendees}, {"optional_attendees", "optional", in.Optional}} {
			rs, err := recipients(group.field, group.addrs)
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				r["type"] = group.kind
				list = append(list, r)
			}
		}
		body["attendees"] = list
	}
	if in.Location != "" {
		body["location"] = map[string]string{"displayName": in.Location}
	}
	if in.Body != "" {
		body["body"] = map[string]string{"contentType": "text", "content": in.Body}
	}
	return body, nil
}

// eventPath is the Graph path of an event by the id an agent gave.
func eventPath(id string) (string, error) {
	seg, ok := idSegment(id)
	if !ok {
		return "", invalid("id must be an event id from list_events")
	}
	return "me/events/" + seg, nil
}

// parseLocal reads a time given as local (in loc) or with an offset.
func parseLocal(name, v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalid(fmt.Sprintf("%s must be a time such as 2026-05-04T14:00 (in time_zone) or 2026-05-04T14:00:00+02:00, not %q", name, v))
}

func preferZone(zone string) map[string][]string {
	return map[string][]string{"Prefer": {`outlook.timezone="` + zone + `"`}}
}

func createEventTool() toolDef {
	return defineAsking("calendar", &mcp.Tool{
		Name:  "create_event",
		Title: "Create an event",
		Description: "Creates an event in the person's calendar; with attendees it is a meeting, and each attendee is sent an invitation at once. " +
			"Times are local to time_zone (default the person's own).",
		Annotations: annotations(false, false, false),
	}, createEventSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in createEventIn) (EventOut, error) {
		if in.Subject == "" || in.Start == "" || in.End == "" {
			return EventOut{}, invalid("subject, start and end are required")
		}
		loc, zone, body, err := s.eventRequest(ctx, g, in.eventFieldsIn)
		if err != nil {
			return EventOut{}, err
		}
		if in.Online {
			// The calendar's default provider: Teams for work accounts.
			body["isOnlineMeeting"] = true
		}
		var e gEvent
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "me/events", Body: body, Header: preferZone(zone)}, &e); err != nil {
			return EventOut{}, err
		}
		return toEvent(e, loc, zone), nil
	})
}

func createEventSummary(_ context.Context, _ *graphapi.Client, in createEventIn) (preview, error) {
	if len(in.Attendees)+len(in.Optional) == 0 {
		return preview{quiet: true}, nil // nothing reaches anyone else
	}
	return preview{text: brief("Send this meeting invitation?", [][2]string{{"To", strings.Join(in.Attendees, ", ")},
		{"Optional", strings.Join(in.Optional, ", ")}, {"Subject", in.Subject}, {"When", in.Start + " to " + in.End + " " + in.TimeZone},
		{"Where", in.Location}}, in.Body)}, nil
}

type updateEventIn struct {
	ID string `json:"id" jsonschema:"an event id from list_events"`
	eventFieldsIn
}

func updateEventTool() toolDef {
	return defineAsking("calendar", &mcp.Tool{
		Name:  "update_event",
		Title: "Change an event",
		Description: "Changes the fields given of an event the person organizes; attendees, when given, replace the list. " +
			"Attendees are sent the update at once.",
		Annotations: annotations(false, false, true),
	}, updateEventSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in updateEventIn) (EventOut, error) {
		p, err := eventPath(in.ID)
		if err != nil {
			return EventOut{}, err
		}
		loc, zone, body, err := s.eventRequest(ctx, g, in.eventFieldsIn)
		if err != nil {
			return EventOut{}, err
		}
		if len(body) == 0 {
			return EventOut{}, invalid("give at least one of subject, start, end, attendees, optional_attendees, location or body")
		}
		req := graphapi.Request{Method: "PATCH", Path: p, Body: body, Header: preferZone(zone), Safe: true}
		if pv := callFromContext(ctx).accepted; pv != nil && pv.version != "" {
			// Change exactly the event the person saw; a retry after an
			// unclear failure would then meet its own change.
			req.Header["If-Match"], req.Safe = []string{pv.version}, false
		}
		var e gEvent
		if _, err := g.Do(ctx, req, &e); err != nil {
			return EventOut{}, err
		}
		return toEvent(e, loc, zone), nil
	})
}

// eventBrief reads what a person is asked about an event: its subject,
// times, organizer and attendees, and its etag.
func eventBrief(ctx context.Context, g *graphapi.Client, id string) (gEvent, string, error) {
	p, err := eventPath(id)
	if err != nil {
		return gEvent{}, "", err
	}
	var e struct {
		gEvent
		ETag string `json:"@odata.etag"`
	}
	_, err = g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Safe: true, Header: preferZone("UTC"),
		Query: url.Values{"$select": {"subject,start,end,organizer,attendees,location,isOrganizer"}}}, &e)
	return e.gEvent, e.ETag, err
}

func attendeesOf(e gEvent) string {
	var out []string
	for _, a := range e.Attendees {
		out = append(out, a.EmailAddress.Address)
	}
	return strings.Join(out, ", ")
}

func updateEventSummary(ctx context.Context, g *graphapi.Client, in updateEventIn) (preview, error) {
	e, etag, err := eventBrief(ctx, g, in.ID)
	if err != nil {
		return preview{}, err
	}
	to := attendeesOf(e)
	if to == "" && len(in.Attendees)+len(in.Optional) == 0 {
		return preview{quiet: true}, nil
	}
	if in.Attendees != nil || in.Optional != nil {
		to = strings.Join(append(append([]string{}, in.Attendees...), in.Optional...), ", ")
	}
	when := ""
	if in.Start != "" || in.End != "" {
		when = strings.TrimSpace(in.Start + " to " + in.End + " " + in.TimeZone)
	}
	return preview{text: brief("Send this meeting update?", [][2]string{{"Meeting", e.Subject}, {"To", to}, {"New subject", in.Subject},
		{"New time", when}, {"New place", in.Location}}, in.Body), version: etag}, nil
}

type cancelEventIn struct {
	ID      string `json:"id" jsonschema:"an event id from list_events"`
	Comment string `json:"comment,omitempty" jsonschema:"a message to the attendees"`
}

func cancelEventTool() toolDef {
	return defineAsking("calendar", &mcp.Tool{
		Name:  "cancel_event",
		Title: "Cancel an event",
		Description: "Cancels an event the person organizes: attendees are sent the cancellation with the comment, and it leaves the calendar. " +
			"For a meeting someone else organizes, use respond_to_event with decline.",
		Annotations: annotations(false, true, true),
	}, cancelEventSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in cancelEventIn) (doneOut, error) {
		p, err := eventPath(in.ID)
		if err != nil {
			return doneOut{}, err
		}
		body := map[string]string{}
		if in.Comment != "" {
			body["comment"] = in.Comment
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + "/cancel", Body: body}, nil); err != nil {
			var ge *graphapi.Error
			if errors.As(err, &ge) && ge.Status == 400 && strings.Contains(ge.Message, "organizer") {
				return doneOut{}, tell("Only the organizer can cancel this meeting. To leave it, use respond_to_event with response decline.")
			}
			return doneOut{}, err
		}
		return doneOut{Done: true, Message: "Cancelled; attendees were sent the cancellation."}, nil
	})
}

func cancelEventSummary(ctx context.Context, g *graphapi.Client, in cancelEventIn) (preview, error) {
	e, etag, err := eventBrief(ctx, g, in.ID)
	if err != nil {
		return preview{}, err
	}
	return preview{text: brief("Cancel this event?", [][2]string{{"Event", e.Subject}, {"When", e.Start.DateTime + " UTC"},
		{"Attendees told", attendeesOf(e)}}, in.Comment), version: etag}, nil
}

type respondEventIn struct {
	ID            string `json:"id" jsonschema:"an event id from list_events"`
	Response      string `json:"response" jsonschema:"accept, tentative or decline"`
	Comment       string `json:"comment,omitempty"`
	SendResponse  *bool  `json:"send_response,omitempty" jsonschema:"tell the organizer; default true"`
	ProposedStart string `json:"proposed_start,omitempty" jsonschema:"with tentative or decline: a new time to propose, local to time_zone"`
	ProposedEnd   string `json:"proposed_end,omitempty"`
	TimeZone      string `json:"time_zone,omitempty"`
}

func respondEventTool() toolDef {
	return defineAsking("calendar", &mcp.Tool{
		Name:        "respond_to_event",
		Title:       "Answer an invitation",
		Description: "Accepts, tentatively accepts or declines a meeting invitation, with an optional comment and (tentative or decline) a new time to propose. The organizer is told unless send_response is false; a declined meeting leaves the calendar.",
		Annotations: annotations(false, false, true),
	}, respondEventSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in respondEventIn) (doneOut, error) {
		p, err := eventPath(in.ID)
		if err != nil {
			return doneOut{}, err
		}
		action, ok := map[string]string{"accept": "accept", "tentative": "tentativelyAccept", "decline": "decline"}[in.Response]
		if !ok {
			return doneOut{}, invalid("response must be accept, tentative or decline")
		}
		send := in.SendResponse == nil || *in.SendResponse
		body := map[string]any{"sendResponse": send}
		if in.Comment != "" {
			body["comment"] = in.Comment
		}
		if in.ProposedStart != "" || in.ProposedEnd != "" {
			if action == "accept" || !send {
				return doneOut{}, invalid("a new time can be proposed only with tentative or decline, and with send_response")
			}
			loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
			if err != nil {
				return doneOut{}, err
			}
			when, err := eventBody(eventFieldsIn{Start: in.ProposedStart, End: in.ProposedEnd}, loc, zone)
			if err != nil {
				return doneOut{}, err
			}
			if when["start"] == nil || when["end"] == nil {
				return doneOut{}, invalid("give both proposed_start and proposed_end")
			}
			body["proposedNewTime"] = when
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + "/" + action, Body: body}, nil); err != nil {
			return doneOut{}, err
		}
		msg := map[string]string{"accept": "Accepted.", "tentativelyAccept": "Tentatively accepted.", "decline": "Declined; the meeting left the calendar."}[action]
		if send {
			msg += " The organizer was told."
		}
		return doneOut{Done: true, Message: msg}, nil
	})
}

func respondEventSummary(ctx context.Context, g *graphapi.Client, in respondEventIn) (preview, error) {
	if in.SendResponse != nil && !*in.SendResponse {
		return preview{quiet: true}, nil
	}
	e, etag, err := eventBrief(ctx, g, in.ID)
	if err != nil {
		return preview{}, err
	}
	when := ""
	if in.ProposedStart != "" {
		when = in.ProposedStart + " to " + in.ProposedEnd + " " + in.TimeZone
	}
	return preview{text: brief("Send this answer to the organizer?", [][2]string{{"Answer", in.Response}, {"Meeting", e.Subject},
		{"Organizer", e.Organizer.EmailAddress.Address}, {"Proposed time", when}}, in.Comment), version: etag}, nil
}

type meetingTimesIn struct {
	Attendees    []string `json:"attendees" jsonschema:"the people to meet (addresses)"`
	Minutes      int      `json:"duration_minutes,omitempty" jsonschema:"meeting length, 15 to 480; default 30" bounds:"15,480"`
	Start        string   `json:"start,omitempty" jsonschema:"look from (RFC 3339 or YYYY-MM-DD); default now"`
	End          string   `json:"end,omitempty" jsonschema:"look until; default 7 days after the start; at most 31 days after it"`
	AnyTime      bool     `json:"any_time,omitempty" jsonschema:"outside working hours too"`
	TimeZone     string   `json:"time_zone,omitempty" jsonschema:"IANA zone for the times; default the person's own"`
	MaxProposals int      `json:"max_suggestions,omitempty" jsonschema:"1 to 20; default 5" bounds:"1,20"`
}

type meetingTimeOut struct {
	Start      string            `json:"start"`
	End        string            `json:"end"`
	Confidence float64           `json:"confidence" jsonschema:"0 to 100: how likely everyone can come"`
	Organizer  string            `json:"organizer" jsonschema:"the person's own availability"`
	Attendees  map[string]string `json:"attendees" jsonschema:"each attendee's availability: free, tentative, busy or unknown"`
}

type meetingTimesOut struct {
	Suggestions []meetingTimeOut `json:"suggestions"`
	Why         string           `json:"why_none,omitempty" jsonschema:"Microsoft's reason when there is no suggestion"`
}

func findMeetingTimesTool() toolDef {
	return define("calendar", &mcp.Tool{
		Name:  "find_meeting_times",
		Title: "Find meeting times",
		Description: "Suggests times when the person and the attendees are free (Microsoft's scheduling assistant, work and school accounts), " +
			"best first, in working hours unless any_time.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in meetingTimesIn) (meetingTimesOut, error) {
		if len(in.Attendees) == 0 || len(in.Attendees) > 100 {
			return meetingTimesOut{}, invalid("give 1 to 100 attendees")
		}
		loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
		if err != nil {
			return meetingTimesOut{}, err
		}
		start, end, err := s.window(in.Start, in.End, 31)
		if err != nil {
			return meetingTimesOut{}, err
		}
		attendees, err := recipients("attendees", in.Attendees)
		if err != nil {
			return meetingTimesOut{}, err
		}
		for _, a := range attendees {
			a["type"] = "required"
		}
		domain := "work"
		if in.AnyTime {
			domain = "unrestricted"
		}
		minutes, most := in.Minutes, in.MaxProposals
		if minutes == 0 {
			minutes = 30
		}
		if most == 0 {
			most = 5
		}
		body := map[string]any{"attendees": attendees, "meetingDuration": fmt.Sprintf("PT%dM", minutes),
			"maxCandidates": most, "returnSuggestionReasons": true,
			"timeConstraint": map[string]any{"activityDomain": domain, "timeSlots": []any{map[string]any{
				"start": map[string]string{"dateTime": start.UTC().Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
				"end":   map[string]string{"dateTime": end.UTC().Format("2006-01-02T15:04:05"), "timeZone": "UTC"}}}}}
		var res struct {
			Reason      string `json:"emptySuggestionsReason"`
			Suggestions []struct {
				Confidence   float64 `json:"confidence"`
				Organizer    string  `json:"organizerAvailability"`
				Availability []struct {
					Availability string   `json:"availability"`
					Attendee     gAddress `json:"attendee"`
				} `json:"attendeeAvailability"`
				Slot struct {
					Start, End struct {
						DateTime string `json:"dateTime"`
					}
				} `json:"meetingTimeSlot"`
			} `json:"meetingTimeSuggestions"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "me/findMeetingTimes", Body: body, Header: preferZone(zone), Safe: true}, &res); err != nil {
			return meetingTimesOut{}, err
		}
		out := meetingTimesOut{Suggestions: []meetingTimeOut{}, Why: res.Reason}
		for _, sg := range res.Suggestions {
			m := meetingTimeOut{Confidence: sg.Confidence, Organizer: sg.Organizer, Attendees: map[string]string{}}
			for i, v := range []string{sg.Slot.Start.DateTime, sg.Slot.End.DateTime} {
				t, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", v, loc)
				if err != nil {
					continue
				}
				if i == 0 {
					m.Start = t.Format(time.RFC3339)
				} else {
					m.End = t.Format(time.RFC3339)
				}
			}
			for _, a := range sg.Availability {
				m.Attendees[a.Attendee.EmailAddress.Address] = a.Availability
			}
			out.Suggestions = append(out.Suggestions, m)
		}
		return out, nil
	})
}
