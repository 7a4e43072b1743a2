package mcpserver

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

type calendarsIn struct{}

type calendarOut struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsDefault bool   `json:"is_default"`
	CanEdit   bool   `json:"can_edit"`
}

type calendarsOut struct {
	Calendars []calendarOut `json:"calendars"`
}

func listCalendarsTool() toolDef {
	return define("calendar", &mcp.Tool{
		Name:        "list_calendars",
		Title:       "List calendars",
		Description: "Lists the user's calendars (the default one first). Use an id with list_events to read another calendar.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, _ calendarsIn) (calendarsOut, error) {
		var res struct {
			Value []struct {
				ID, Name                   string
				IsDefaultCalendar, CanEdit bool
			} `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me/calendars", Query: url.Values{"$top": {"100"}}, Safe: true}, &res); err != nil {
			return calendarsOut{}, err
		}
		out := calendarsOut{Calendars: []calendarOut{}}
		for _, c := range res.Value {
			out.Calendars = append(out.Calendars, calendarOut{ID: c.ID, Name: c.Name, IsDefault: c.IsDefaultCalendar, CanEdit: c.CanEdit})
		}
		return out, nil
	})
}

type gEvent struct {
	ID             string `json:"id"`
	Subject        string `json:"subject"`
	BodyPreview    string `json:"bodyPreview"`
	IsAllDay       bool   `json:"isAllDay"`
	IsCancelled    bool   `json:"isCancelled"`
	ShowAs         string `json:"showAs"`
	Type           string `json:"type"`
	SeriesMasterID string `json:"seriesMasterId"`
	WebLink        string `json:"webLink"`
	Start, End     struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	}
	Location struct {
		DisplayName string `json:"displayName"`
	} `json:"location"`
	Organizer gAddress `json:"organizer"`
	Attendees []struct {
		gAddress
		Type   string `json:"type"`
		Status struct {
			Response string `json:"response"`
		} `json:"status"`
	} `json:"attendees"`
	IsOnlineMeeting bool `json:"isOnlineMeeting"`
	OnlineMeeting   *struct {
		JoinURL string `json:"joinUrl"`
	} `json:"onlineMeeting"`
}

// EventOut is an event with unambiguous times: local with its offset, and UTC.
type EventOut struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject"`
	Start     string    `json:"start" jsonschema:"RFC 3339 with offset; a date when all-day"`
	End       string    `json:"end"`
	StartUTC  time.Time `json:"start_utc"`
	EndUTC    time.Time `json:"end_utc"`
	TimeZone  string    `json:"time_zone"`
	AllDay    bool      `json:"all_day,omitempty"`
	Location  string    `json:"location,omitempty"`
	Organizer string    `json:"organizer,omitempty"`
	Attendees []string  `json:"attendees,omitempty"`
	ShowAs    string    `json:"show_as,omitempty"`
	Kind      string    `json:"kind" jsonschema:"singleInstance, occurrence, exception, seriesMaster"`
	SeriesID  string    `json:"series_id,omitempty"`
	JoinURL   string    `json:"join_url,omitempty"`
	Preview   string    `json:"preview,omitempty"`
}

func toEvent(e gEvent, loc *time.Location, zone string) EventOut {
	parse := func(v string) time.Time {
		t, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", v, loc)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	start, end := parse(e.Start.DateTime), parse(e.End.DateTime)
	out := EventOut{ID: e.ID, Subject: oneline.Clean(e.Subject), StartUTC: start.UTC(), EndUTC: end.UTC(), TimeZone: zone, AllDay: e.IsAllDay,
		Location: oneline.Clean(e.Location.DisplayName), Organizer: oneline.Clean(e.Organizer.EmailAddress.Address), ShowAs: e.ShowAs,
		Kind: e.Type, SeriesID: e.SeriesMasterID, Preview: trimRunes(oneline.Clean(e.BodyPreview), previewRunes)}
	if e.IsAllDay {
		out.Start, out.End = start.Format("2006-01-02"), end.Format("2006-01-02")
	} else {
		out.Start, out.End = start.Format(time.RFC3339), end.Format(time.RFC3339)
	}
	for _, a := range e.Attendees {
		// Graph can list one person twice (as required and as a room, or
		// after an update): once is enough.
		if addr := a.EmailAddress.Address; addr != "" && !slices.ContainsFunc(out.Attendees, func(x string) bool { return strings.EqualFold(x, addr) }) {
			out.Attendees = append(out.Attendees, addr)
		}
	}
	if e.OnlineMeeting != nil {
		out.JoinURL = e.OnlineMeeting.JoinURL
	}
	return out
}

type listEventsIn struct {
	inOwner
	Start      string `json:"start,omitempty" jsonschema:"window start (RFC 3339 or YYYY-MM-DD); default now"`
	End        string `json:"end,omitempty" jsonschema:"window end; default 7 days after the start; at most 366 days after it"`
	CalendarID string `json:"calendar_id,omitempty" jsonschema:"a calendar id from list_calendars; default the main calendar"`
	TimeZone   string `json:"time_zone,omitempty" jsonschema:"IANA zone of the times, such as Europe/Berlin; default the person's own"`
	PageSize   int    `json:"page_size,omitempty" jsonschema:"events per page, 1 to 100; default 50" bounds:"1,100"`
	Cursor     string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

type eventsOut struct {
	Events     []EventOut `json:"events"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// zoneOf resolves the zone the caller asked for, or the person's own zone
// when none was given; the Prefer header gets the same name, so Graph
// answers in it.
func (s *Server) zoneOf(ctx context.Context, g *graphapi.Client, name string) (*time.Location, string, error) {
	if name == "" {
		if c := callerFromContext(ctx); c != nil {
			name = s.zoneOfMailbox(ctx, g, c.user.ID).name
		} else {
			name = "UTC"
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.EqualFold(name, "local") {
		return nil, "", invalid(fmt.Sprintf("time_zone must be an IANA zone such as Europe/Berlin, not %q", name))
	}
	return loc, name, nil
}

func listEventsTool() toolDef {
	return define("calendar", &mcp.Tool{
		Name:  "list_events",
		Title: "List events",
		Description: "Lists calendar events in a window (default: the next 7 days), series expanded into occurrences, by start. " +
			"Times in time_zone (default the person's own) with their offset, and in UTC. " + writtenByOthers,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listEventsIn) (eventsOut, error) {
		loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
		if err != nil {
			return eventsOut{}, err
		}
		size, err := pageSize(in.PageSize, 50, 100)
		if err != nil {
			return eventsOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true, Header: map[string][]string{"Prefer": {`outlook.timezone="` + zone + `"`}}}
		if in.Cursor != "" {
			if req.Path, err = s.pathOfCursor(ctx, in.Cursor); err != nil {
				return eventsOut{}, err
			}
		} else {
			start, end, err := s.window(in.Start, in.End, 366)
			if err != nil {
				return eventsOut{}, err
			}
			req.Path = "me/calendarView"
			if in.CalendarID != "" {
				seg, ok := idSegment(in.CalendarID)
				if !ok {
					return eventsOut{}, invalid("calendar_id must be an id from list_calendars")
				}
				req.Path = "me/calendars/" + seg + "/calendarView"
			}
			req.Query = url.Values{"startDateTime": {start.UTC().Format(time.RFC3339)}, "endDateTime": {end.UTC().Format(time.RFC3339)},
				"$top": {fmt.Sprint(size)}, "$orderby": {"start/dateTime"}}
		}
		var res struct {
			Value []gEvent `json:"value"`
			Next  string   `json:"@odata.nextLink"`
		}
		if _, err := g.Do(ctx, req, &res); err != nil {
			return eventsOut{}, err
		}
		next, err := s.cursorOf(ctx, res.Next, pageCursorTTL)
		if err != nil {
			return eventsOut{}, err
		}
		out := eventsOut{Events: []EventOut{}, NextCursor: next}
		for _, e := range res.Value {
			out.Events = append(out.Events, toEvent(e, loc, zone))
		}
		return out, nil
	})
}

type getEventIn struct {
	inOwner
	ID       string `json:"id" jsonschema:"an event id from list_events"`
	TimeZone string `json:"time_zone,omitempty" jsonschema:"IANA time zone for the times; default the person's own (see get_profile)"`
}

func getEventTool() toolDef {
	return define("calendar", &mcp.Tool{
		Name:        "get_event",
		Title:       "Get an event",
		Description: "Returns one event (or one occurrence of a series) by id, with attendees, location and join link.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in getEventIn) (EventOut, error) {
		loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
		if err != nil {
			return EventOut{}, err
		}
		p, err := eventPath(in.ID)
		if err != nil {
			return EventOut{}, err
		}
		var e gEvent
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Safe: true,
			Header: map[string][]string{"Prefer": {`outlook.timezone="` + zone + `"`}}}, &e); err != nil {
			return EventOut{}, err
		}
		return toEvent(e, loc, zone), nil
	})
}

// Text renders a page of events for the model: one line each, times in
// the page's zone; attendees, join links and previews are in the
// structured content and get_event.
func (o eventsOut) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events", len(o.Events))
	if len(o.Events) > 0 {
		fmt.Fprintf(&b, ", times in %s", o.Events[0].TimeZone)
	}
	if o.NextCursor != "" {
		fmt.Fprintf(&b, "; more with cursor=%q", o.NextCursor)
	}
	b.WriteString("\nid | when | subject | where | organizer | attendees | show as\n")
	for _, e := range o.Events {
		b.WriteString(eventLine(e) + "\n")
	}
	return b.String()
}

func eventLine(e EventOut) string {
	when := e.Start + " all day"
	if !e.AllDay {
		start, end := e.StartUTC.In(zoneOrUTC(e.TimeZone)), e.EndUTC.In(zoneOrUTC(e.TimeZone))
		when = start.Format("Mon 2006-01-02 15:04") + "-" + end.Format("15:04")
		if end.YearDay() != start.YearDay() || end.Year() != start.Year() {
			when = start.Format("Mon 2006-01-02 15:04") + " to " + end.Format("Mon 2006-01-02 15:04")
		}
	}
	flags := e.ShowAs
	if e.JoinURL != "" {
		flags += ",online"
	}
	if e.SeriesID != "" {
		flags += ",recurring"
	}
	return fmt.Sprintf("%s | %s | %s | %s | %s | %d | %s", e.ID, when, trimRunes(e.Subject, 60), trimRunes(e.Location, 30),
		e.Organizer, len(e.Attendees), flags)
}

// zoneOrUTC resolves a zone name of graphgate's own answers.
func zoneOrUTC(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}
