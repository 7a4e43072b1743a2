package mcpserver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
	"graphgate/internal/oneline"
)

// get_schedule asks Graph's getSchedule for free/busy: the person's own and
// their colleagues'. Graph answers per address, so one unknown address is
// an error in its entry, not a failed call. Work and school accounts only:
// Outlook.com has no free/busy service.

const maxSchedules = 20

type getScheduleIn struct {
	People   []string `json:"people,omitempty" jsonschema:"email addresses of colleagues, up to 20; the person's own schedule is always included"`
	Start    string   `json:"start,omitempty" jsonschema:"window start (RFC 3339 or YYYY-MM-DD); default now"`
	End      string   `json:"end,omitempty" jsonschema:"window end; default 7 days after the start; at most 31 days after it"`
	TimeZone string   `json:"time_zone,omitempty" jsonschema:"IANA time zone for the answer; default the person's own"`
}

// BusyOut is a stretch of time someone is not free.
type BusyOut struct {
	Start   string `json:"start" jsonschema:"local time with its UTC offset (RFC 3339)"`
	End     string `json:"end"`
	Status  string `json:"status" jsonschema:"busy, tentative or oof (out of office)"`
	Subject string `json:"subject,omitempty" jsonschema:"only for the person's own events"`
}

// ScheduleOut is one person's free/busy in the window.
type ScheduleOut struct {
	Email        string    `json:"email"`
	Busy         []BusyOut `json:"busy,omitempty"`
	WorkingHours string    `json:"working_hours,omitempty" jsonschema:"days and hours they work, in their own zone"`
	Error        string    `json:"error,omitempty" jsonschema:"why this schedule could not be read"`
}

type scheduleOut struct {
	Schedules []ScheduleOut `json:"schedules"`
	TimeZone  string        `json:"time_zone"`
}

// Text is one block per person: a line for the person, one per busy time.
func (o scheduleOut) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "time zone: %s; free whenever not listed as busy\n", o.TimeZone)
	for _, sc := range o.Schedules {
		b.WriteString(sc.Email)
		switch {
		case sc.Error != "":
			b.WriteString(": not available: " + sc.Error)
		case len(sc.Busy) == 0:
			b.WriteString(": free throughout")
		}
		if sc.WorkingHours != "" {
			b.WriteString(" (works " + sc.WorkingHours + ")")
		}
		b.WriteByte('\n')
		for _, busy := range sc.Busy {
			fmt.Fprintf(&b, "- %s %s to %s", busy.Status, busy.Start, busy.End)
			if busy.Subject != "" {
				fmt.Fprintf(&b, " %q", busy.Subject)
			}
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

type gSchedule struct {
	ScheduleID    string `json:"scheduleId"`
	ScheduleItems []struct {
		Status     string `json:"status"`
		Subject    string `json:"subject"`
		Start, End struct {
			DateTime string `json:"dateTime"`
		}
	} `json:"scheduleItems"`
	WorkingHours *struct {
		DaysOfWeek []string `json:"daysOfWeek"`
		StartTime  string   `json:"startTime"`
		EndTime    string   `json:"endTime"`
		TimeZone   struct {
			Name string `json:"name"`
		} `json:"timeZone"`
	} `json:"workingHours"`
	Error *struct {
		Message      string `json:"message"`
		ResponseCode string `json:"responseCode"`
	} `json:"error"`
}

func getScheduleTool() toolDef {
	return define("calendar", &mcp.Tool{
		Name:  "get_schedule",
		Title: "Free/busy of people",
		Description: "Shows when the person and colleagues (by address) are busy in a window (default: the next 7 days), " +
			"with their working hours; colleagues' entries show times and status only. Work and school accounts; " +
			"for the person's own free slots use find_free_time.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in getScheduleIn) (scheduleOut, error) {
		link, err := s.d.Store.Link(ctx, callerFromContext(ctx).user.ID)
		if err != nil {
			return scheduleOut{}, err
		}
		if link.Personal {
			return scheduleOut{}, invalid("free/busy is not available for personal Microsoft accounts (Outlook.com); use find_free_time for the person's own calendar")
		}
		people := []string{link.Username}
		for _, p := range in.People {
			p = strings.TrimSpace(p)
			if _, err := recipients("people", []string{p}); err != nil || len(p) > 320 || strings.IndexFunc(p, unicode.IsControl) >= 0 {
				return scheduleOut{}, invalid(fmt.Sprintf("people: %q is not an email address", p))
			}
			if !slices.ContainsFunc(people, func(q string) bool { return strings.EqualFold(q, p) }) {
				people = append(people, p)
			}
		}
		if len(people) > maxSchedules+1 {
			return scheduleOut{}, invalid(fmt.Sprintf("give at most %d people", maxSchedules))
		}
		start, end, err := s.window(in.Start, in.End, 31)
		if err != nil {
			return scheduleOut{}, err
		}
		loc, zone, err := s.zoneOf(ctx, g, in.TimeZone)
		if err != nil {
			return scheduleOut{}, err
		}
		utc := func(t time.Time) map[string]string {
			return map[string]string{"dateTime": t.UTC().Format("2006-01-02T15:04:05"), "timeZone": "UTC"}
		}
		var res struct {
			Value []gSchedule `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: "me/calendar/getSchedule", Safe: true,
			Header: map[string][]string{"Prefer": {`outlook.timezone="UTC"`}},
			Body:   map[string]any{"schedules": people, "startTime": utc(start), "endTime": utc(end), "availabilityViewInterval": 60}}, &res); err != nil {
			return scheduleOut{}, err
		}
		out := scheduleOut{Schedules: []ScheduleOut{}, TimeZone: zone}
		for _, sc := range res.Value {
			o := ScheduleOut{Email: sc.ScheduleID}
			if sc.Error != nil {
				o.Error = strings.TrimSpace(sc.Error.Message + " (" + sc.Error.ResponseCode + ")")
			}
			if wh := sc.WorkingHours; wh != nil && len(wh.DaysOfWeek) > 0 {
				o.WorkingHours = fmt.Sprintf("%s %s to %s, %s", strings.Join(wh.DaysOfWeek, " "), hhmm(wh.StartTime), hhmm(wh.EndTime), wh.TimeZone.Name)
			}
			for _, it := range sc.ScheduleItems {
				st, err1 := graphUTC(it.Start.DateTime)
				en, err2 := graphUTC(it.End.DateTime)
				if err1 != nil || err2 != nil {
					return scheduleOut{}, fmt.Errorf("a schedule item with unreadable times: %q, %q", it.Start.DateTime, it.End.DateTime)
				}
				o.Busy = append(o.Busy, BusyOut{Start: st.In(loc).Format(time.RFC3339), End: en.In(loc).Format(time.RFC3339),
					Status: it.Status, Subject: trimRunes(oneline.Clean(it.Subject), 120)})
			}
			out.Schedules = append(out.Schedules, o)
		}
		return out, nil
	})
}

// graphUTC reads a dateTime Graph wrote in UTC (Prefer outlook.timezone="UTC").
func graphUTC(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04:05.9999999", s, time.UTC)
}

// hhmm shortens Graph's "08:00:00.0000000" to "08:00".
func hhmm(s string) string {
	if len(s) >= 5 {
		return s[:5]
	}
	return s
}
