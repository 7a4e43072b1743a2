package mcpserver

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
)

// interval is a stretch of time.
type interval struct{ start, end time.Time }

// workingDay is the day graphgate assumes when it cannot read the mailbox's
// working hours: 09:00 to 17:00, Monday to Friday.
var workingDay = struct{ from, to time.Duration }{9 * time.Hour, 17 * time.Hour}

// freeSlots finds gaps of at least length between busy intervals within
// [from, to), each starting on a quarter hour, in loc; with workingHours
// only inside working days. At most max slots.
func freeSlots(busy []interval, from, to time.Time, length time.Duration, loc *time.Location, workingHours bool, max int) []interval {
	slices.SortFunc(busy, func(a, b interval) int { return a.start.Compare(b.start) })
	var out []interval
	for day := startOfDay(from.In(loc)); day.Before(to) && len(out) < max; day = day.AddDate(0, 0, 1) {
		open, close := day, day.AddDate(0, 0, 1)
		if workingHours {
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
				continue
			}
			open, close = day.Add(workingDay.from), day.Add(workingDay.to)
		}
		open, close = later(open, from), earlier(close, to)
		cursor := roundUp(open, 15*time.Minute)
		for _, b := range busy {
			if !b.end.After(cursor) || !b.start.Before(close) {
				continue
			}
			if b.start.Sub(cursor) >= length {
				out = append(out, interval{cursor, b.start})
			}
			cursor = roundUp(later(cursor, b.end), 15*time.Minute)
		}
		if close.Sub(cursor) >= length {
			out = append(out, interval{cursor, close})
		}
	}
	return out[:min(len(out), max)]
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func roundUp(t time.Time, step time.Duration) time.Time {
	r := t.Truncate(step)
	if r.Before(t) {
		r = r.Add(step)
	}
	return r
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type findFreeTimeIn struct {
	Start    string `json:"start,omitempty" jsonschema:"window start (RFC 3339 or YYYY-MM-DD); default now"`
	End      string `json:"end,omitempty" jsonschema:"window end; default 7 days after the start; at most 31 days after it"`
	Minutes  int    `json:"minutes,omitempty" jsonschema:"meeting length in minutes, 15 to 480; default 30" bounds:"15,480"`
	TimeZone string `json:"time_zone,omitempty" jsonschema:"IANA time zone; default the person's own (see get_profile)"`
	AnyTime  bool   `json:"any_time,omitempty" jsonschema:"also outside working hours (09:00 to 17:00, Monday to Friday)"`
	MaxSlots int    `json:"max_slots,omitempty" jsonschema:"at most this many slots, 1 to 50; default 10" bounds:"1,50"`
}

// SlotOut is a free stretch of the person's calendar.
type SlotOut struct {
	Start    string    `json:"start" jsonschema:"local time with its UTC offset (RFC 3339)"`
	End      string    `json:"end"`
	StartUTC time.Time `json:"start_utc"`
	Minutes  int       `json:"minutes"`
}

type freeTimeOut struct {
	Slots    []SlotOut `json:"slots"`
	TimeZone string    `json:"time_zone"`
	Note     string    `json:"note,omitempty"`
}

func findFreeTimeTool() toolDef {
	return define("calendar", &mcp.Tool{
		Name:  "find_free_time",
		Title: "Find free time",
		Description: "Finds free slots of at least minutes in the person's own calendar in a window (default the next 7 days), " +
			"in working hours unless any_time. Free events do not block a slot; tentative ones do.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in findFreeTimeIn) (freeTimeOut, error) {
		loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
		if err != nil {
			return freeTimeOut{}, err
		}
		length := time.Duration(max(in.Minutes, 0)) * time.Minute
		if in.Minutes == 0 {
			length = 30 * time.Minute
		}
		maxSlots := in.MaxSlots
		if maxSlots == 0 {
			maxSlots = 10
		}
		if length < 15*time.Minute || length > 8*time.Hour || maxSlots < 1 || maxSlots > 50 {
			return freeTimeOut{}, invalid("minutes must be 15 to 480, and max_slots 1 to 50")
		}
		start, end, err := s.window(in.Start, in.End, 31)
		if err != nil {
			return freeTimeOut{}, err
		}
		busy, err := s.busy(ctx, g, start, end)
		if err != nil {
			return freeTimeOut{}, err
		}
		out := freeTimeOut{Slots: []SlotOut{}, TimeZone: zone}
		for _, f := range freeSlots(busy, start, end, length, loc, !in.AnyTime, maxSlots) {
			out.Slots = append(out.Slots, SlotOut{Start: f.start.In(loc).Format(time.RFC3339), End: f.end.In(loc).Format(time.RFC3339),
				StartUTC: f.start.UTC(), Minutes: int(f.end.Sub(f.start).Minutes())})
		}
		if !in.AnyTime {
			out.Note = "Working hours are taken as 09:00 to 17:00, Monday to Friday, in " + zone + "."
		}
		return out, nil
	})
}

// window reads a tool's start and end: by default the next 7 days, at
// most maxDays long.
func (s *Server) window(from, to string, maxDays int) (start, end time.Time, err error) {
	start = s.d.Now()
	if from != "" {
		if start, err = parseWhen("start", from); err != nil {
			return
		}
	}
	end = start.Add(7 * 24 * time.Hour)
	if to != "" {
		if end, err = parseWhen("end", to); err != nil {
			return
		}
	}
	if !end.After(start) || end.Sub(start) > time.Duration(maxDays)*24*time.Hour {
		return start, end, invalid(fmt.Sprintf("end must be after start, and at most %d days after it", maxDays))
	}
	return start, end, nil
}

// busy lists the person's busy intervals in a window: every event of the
// calendar view not shown as free, series expanded, all pages.
func (s *Server) busy(ctx context.Context, g *graphapi.Client, start, end time.Time) ([]interval, error) {
	req := graphapi.Request{Method: "GET", Path: "me/calendarView", Safe: true, Header: map[string][]string{"Prefer": {`outlook.timezone="UTC"`}},
		Query: url.Values{"startDateTime": {start.UTC().Format(time.RFC3339)}, "endDateTime": {end.UTC().Format(time.RFC3339)},
			"$top": {"100"}, "$select": {"start,end,showAs,isCancelled"}}}
	var out []interval
	for page := 0; page < 20; page++ {
		var res struct {
			Value []struct {
				Start, End struct {
					DateTime string `json:"dateTime"`
				}
				ShowAs      string `json:"showAs"`
				IsCancelled bool   `json:"isCancelled"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		if _, err := g.Do(ctx, req, &res); err != nil {
			return nil, err
		}
		for _, e := range res.Value {
			if e.ShowAs == "free" || e.IsCancelled {
				continue
			}
			st, err1 := graphUTC(e.Start.DateTime)
			en, err2 := graphUTC(e.End.DateTime)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("an event with unreadable times: %q, %q", e.Start.DateTime, e.End.DateTime)
			}
			out = append(out, interval{st, en})
		}
		if res.Next == "" {
			return out, nil
		}
		req = graphapi.Request{Method: "GET", Path: res.Next, Safe: true, Header: req.Header}
	}
	return out, nil
}
