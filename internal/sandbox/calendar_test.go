package sandbox_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/graph"
)

type event struct {
	ID             string  `json:"id"`
	Subject        string  `json:"subject"`
	Type           string  `json:"type"`
	IsAllDay       bool    `json:"isAllDay"`
	SeriesMasterID *string `json:"seriesMasterId"`
	Start          struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	} `json:"start"`
	End struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	} `json:"end"`
	Recurrence *struct {
		Pattern struct{ Type string } `json:"pattern"`
	} `json:"recurrence"`
	OriginalStartTimeZone string `json:"originalStartTimeZone"`
}

type eventPage struct {
	Value    []event `json:"value"`
	NextLink string  `json:"@odata.nextLink"`
}

// allEvents follows nextLinks to the end.
func (tn *tenant) allEvents(tok, path string, headers ...string) []event {
	tn.t.Helper()
	var out []event
	next := tn.URL + "/v1.0" + path
	for next != "" {
		var p eventPage
		if resp := tn.graph(tok, "GET", next, nil, &p, headers...); resp.StatusCode != 200 {
			tn.t.Fatalf("GET %s: %d", next, resp.StatusCode)
		}
		out = append(out, p.Value...)
		next = p.NextLink
	}
	return out
}

func window(from, to time.Time) string {
	return "startDateTime=" + url.QueryEscape(from.UTC().Format(time.RFC3339)) + "&endDateTime=" + url.QueryEscape(to.UTC().Format(time.RFC3339))
}

func TestCalendars(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	var cals struct {
		Value []struct {
			ID, Name          string
			IsDefaultCalendar bool
		}
	}
	tn.graph(tok, "GET", "/me/calendars", nil, &cals)
	if len(cals.Value) != 2 || !cals.Value[0].IsDefaultCalendar {
		t.Fatalf("calendars: %+v", cals.Value)
	}
	holidays := tn.allEvents(tok, "/me/calendars/"+cals.Value[1].ID+"/events")
	if len(holidays) != 3 || !holidays[0].IsAllDay {
		t.Fatalf("holiday calendar events: %+v", holidays)
	}
	// /me/events lists series masters and single instances, not occurrences.
	evs := tn.allEvents(tok, "/me/events?$top=50")
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Type]++
		if e.Type == "seriesMaster" && e.Recurrence == nil {
			t.Errorf("series master %q without recurrence", e.Subject)
		}
	}
	if kinds["seriesMaster"] != 3 || kinds["singleInstance"] < 30 || kinds["occurrence"] != 0 {
		t.Fatalf("event kinds: %v", kinds)
	}
}

func TestCalendarViewExpandsSeriesAcrossDaylightSaving(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken // mailbox zone W. Europe Standard Time
	tn.expectGraphError(tok, "GET", "/me/calendarView", nil, 400, "ErrorInvalidParameter")
	tn.expectGraphError(tok, "GET", "/me/calendarView?startDateTime=2026-01-01T00:00:00Z", nil, 400, "ErrorInvalidParameter")
	tn.expectGraphError(tok, "GET", "/me/calendarView?startDateTime=yesterday&endDateTime=today", nil, 400, "ErrorInvalidParameter")

	now := time.Now()
	from, to := now.AddDate(0, 0, -85), now.AddDate(0, 0, 175)
	// In the mailbox's own zone, the standup stays at 09:30 local time all
	// year, so in UTC it moves by an hour at the daylight-saving change.
	local := tn.allEvents(tok, "/me/calendarView?$top=200&"+window(from, to), "Prefer", `outlook.timezone="W. Europe Standard Time"`)
	utc := tn.allEvents(tok, "/me/calendarView?$top=200&"+window(from, to))
	utcStart := map[string]string{}
	for _, e := range utc {
		if e.Start.TimeZone != "UTC" {
			t.Fatalf("default zone %q, want UTC", e.Start.TimeZone)
		}
		utcStart[e.ID] = e.Start.DateTime
	}
	// The seeded series has next week's Wednesday moved to 11:00 and the
	// Friday after it cancelled.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := time.Now().In(berlin)
	nextMon := 8 - int(today.Weekday())
	if nextMon > 7 {
		nextMon -= 7
	}
	movedDay := today.AddDate(0, 0, nextMon+2).Format("2006-01-02")
	cancelledDay := today.AddDate(0, 0, nextMon+4).Format("2006-01-02")
	var standups, moved int
	utcHours := map[string]bool{}
	cancelledSeen := false
	for _, e := range local {
		if e.Start.TimeZone != "W. Europe Standard Time" {
			t.Fatalf("zone %q", e.Start.TimeZone)
		}
		switch {
		case e.Subject == "Team standup":
			standups++
			if e.Type != "occurrence" || e.SeriesMasterID == nil {
				t.Fatalf("standup occurrence: %+v", e)
			}
			if !strings.HasSuffix(e.Start.DateTime[:19], "09:30:00") {
				t.Fatalf("standup at %s local, want 09:30", e.Start.DateTime)
			}
			utcHours[utcStart[e.ID][11:16]] = true
		case e.Subject == "Team standup (moved)":
			moved++
			if e.Type != "exception" || e.Start.DateTime[:16] != movedDay+"T11:00" {
				t.Fatalf("exception: %+v", e)
			}
		}
		if strings.HasPrefix(e.Subject, "Team standup") && strings.HasPrefix(e.Start.DateTime, cancelledDay) {
			cancelledSeen = true
		}
	}
	if standups < 60 || moved != 1 || cancelledSeen {
		t.Fatalf("standups %d, moved %d, cancelled occurrence shown: %v", standups, moved, cancelledSeen)
	}
	if !utcHours["08:30"] || !utcHours["07:30"] {
		t.Fatalf("standup UTC times %v: want both 08:30 (CET) and 07:30 (CEST) across the DST change", utcHours)
	}

	// An occurrence can be fetched by its own id; the series by the master's.
	var occ, master event
	for _, e := range local {
		if e.Type == "occurrence" {
			occ = e
			break
		}
	}
	tn.graph(tok, "GET", "/me/events/"+occ.ID, nil, &occ, "Prefer", `outlook.timezone="Europe/Berlin"`)
	if occ.Type != "occurrence" || occ.Start.TimeZone != "Europe/Berlin" {
		t.Fatalf("get occurrence: %+v", occ)
	}
	tn.graph(tok, "GET", "/me/events/"+*occ.SeriesMasterID, nil, &master)
	if master.Type != "seriesMaster" || master.Recurrence == nil || master.Recurrence.Pattern.Type != "weekly" {
		t.Fatalf("master: %+v", master)
	}
	inst := tn.allEvents(tok, "/me/events/"+master.ID+"/instances?"+window(now, now.AddDate(0, 0, 14)))
	if len(inst) < 4 || len(inst) > 7 {
		t.Fatalf("two weeks of a Mon/Wed/Fri series gave %d instances", len(inst))
	}
	tn.expectGraphError(tok, "GET", "/me/events/AAMkADnothing", nil, 404, "ErrorItemNotFound")
}

func TestAllDayEventsAndOtherZones(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("admin@contoso.test").AccessToken // Pacific Standard Time
	now := time.Now()
	evs := tn.allEvents(tok, "/me/calendarView?$top=100&"+window(now, now.AddDate(0, 0, 40)), "Prefer", `outlook.timezone="Tokyo Standard Time"`)
	var allDay int
	for _, e := range evs {
		if e.IsAllDay {
			allDay++
			if !strings.HasSuffix(e.Start.DateTime, "T00:00:00.0000000") || !strings.HasSuffix(e.End.DateTime, "T00:00:00.0000000") {
				t.Errorf("all-day event not midnight to midnight: %+v", e)
			}
		}
		if e.OriginalStartTimeZone != "Pacific Standard Time" {
			t.Errorf("originalStartTimeZone %q", e.OriginalStartTimeZone)
		}
	}
	if allDay < 2 {
		t.Fatalf("%d all-day events in the next 40 days", allDay)
	}
	// $filter and $orderby on events.
	var p eventPage
	tn.graph(tok, "GET", "/me/events?$filter="+url.QueryEscape("isAllDay eq true")+"&$orderby="+url.QueryEscape("start/dateTime desc"), nil, &p)
	if len(p.Value) == 0 {
		t.Fatal("no all-day events by filter")
	}
	for i := 1; i < len(p.Value); i++ {
		if p.Value[i].Start.DateTime > p.Value[i-1].Start.DateTime {
			t.Fatal("orderby start desc not honoured")
		}
	}
	// A personal account's calendar, in a southern-hemisphere zone.
	jo := tn.link("jo@outlook.test").AccessToken
	gym := 0
	for _, e := range tn.allEvents(jo, "/me/calendarView?$top=100&"+window(now, now.AddDate(0, 0, 28)), "Prefer", `outlook.timezone="AUS Eastern Standard Time"`) {
		if e.Subject == "Gym" {
			gym++
			if !strings.Contains(e.Start.DateTime, "T07:00:00") {
				t.Errorf("gym at %s", e.Start.DateTime)
			}
		}
	}
	if gym < 7 {
		t.Errorf("%d gym sessions in four weeks", gym)
	}
}

type scheduleInfo struct {
	ScheduleID       string `json:"scheduleId"`
	AvailabilityView string `json:"availabilityView"`
	ScheduleItems    []struct {
		Status  string                 `json:"status"`
		Subject *string                `json:"subject"`
		Start   graph.DateTimeTimeZone `json:"start"`
		End     graph.DateTimeTimeZone `json:"end"`
	} `json:"scheduleItems"`
	WorkingHours *struct {
		DaysOfWeek []string `json:"daysOfWeek"`
	} `json:"workingHours"`
	Error *struct{ Message, ResponseCode string } `json:"error"`
}

func TestGetSchedule(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test").AccessToken
	nina, _ := tn.sb.Directory.Person("nina@contoso.test")
	mb, _ := tn.sb.Graph.Store().Mailbox(nina.ObjectID)
	day := tn.clock.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour)
	mb.AddEvent(&graph.Event{Subject: "Nina's private review", Start: day.Add(10 * time.Hour), End: day.Add(11 * time.Hour), Zone: "UTC", ShowAs: "busy"})
	mb.AddEvent(&graph.Event{Subject: "Maybe lunch", Start: day.Add(12 * time.Hour), End: day.Add(12*time.Hour + 30*time.Minute), Zone: "UTC", ShowAs: "tentative"})
	mb.AddEvent(&graph.Event{Subject: "Focus", Start: day.Add(14 * time.Hour), End: day.Add(15 * time.Hour), Zone: "UTC", ShowAs: "free"})

	body := map[string]any{
		"schedules":                []string{"alex@contoso.test", "nina@contoso.test", "sam@fabrikam.test", "nobody@contoso.test"},
		"startTime":                map[string]string{"dateTime": day.Add(9 * time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
		"endTime":                  map[string]string{"dateTime": day.Add(17 * time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
		"availabilityViewInterval": 60,
	}
	var res struct{ Value []scheduleInfo }
	if resp := tn.graph(tok, "POST", "/me/calendar/getSchedule", body, &res); resp.StatusCode != 200 || len(res.Value) != 4 {
		t.Fatalf("getSchedule: %d %+v", resp.StatusCode, res)
	}
	alex, ninaInfo, sam, nobody := res.Value[0], res.Value[1], res.Value[2], res.Value[3]
	if alex.Error != nil || alex.WorkingHours == nil || len(alex.AvailabilityView) != 8 {
		t.Fatalf("own schedule: %+v", alex)
	}
	for _, it := range alex.ScheduleItems {
		if it.Subject == nil {
			t.Errorf("own schedule item without subject: %+v", it)
		}
	}
	// A colleague: status and times only; free events block nothing.
	// Hours from 09:00: busy at 10, tentative at 12, the free event at 14
	// blocks nothing (Nina's seeded meetings may fill other hours).
	v := ninaInfo.AvailabilityView
	if len(v) != 8 || v[1] != '2' || v[2] != '0' || v[3] != '1' || v[5] != '0' {
		t.Fatalf("colleague's availability view %q", v)
	}
	seen := map[string]string{}
	for _, it := range ninaInfo.ScheduleItems {
		if it.Subject != nil {
			t.Errorf("a colleague's subject leaked: %q", *it.Subject)
		}
		seen[it.Start.DateTime] = it.Status
	}
	at := func(h int) string { return day.Add(time.Duration(h) * time.Hour).Format("2006-01-02T15:04:05.0000000") }
	if seen[at(10)] != "busy" || seen[at(12)] != "tentative" || seen[at(14)] != "" {
		t.Fatalf("colleague's items: %v", seen)
	}
	// Another organisation and an unknown address: errors inside the entry.
	for _, e := range []scheduleInfo{sam, nobody} {
		if e.Error == nil || e.Error.ResponseCode != "ErrorMailRecipientNotFound" || len(e.ScheduleItems) != 0 {
			t.Fatalf("foreign or unknown: %+v", e)
		}
	}
	// Bad requests.
	long := map[string]any{"schedules": []string{"nina@contoso.test"}, "startTime": body["startTime"],
		"endTime": map[string]string{"dateTime": day.Add(63 * 24 * time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"}}
	tn.expectGraphError(tok, "POST", "/me/calendar/getSchedule", long, 400, "ErrorInvalidParameter")
	tn.expectGraphError(tok, "POST", "/me/calendar/getSchedule", map[string]any{"schedules": []string{}, "startTime": body["startTime"], "endTime": body["endTime"]}, 400, "ErrorInvalidParameter")
	// Personal accounts have no free/busy.
	jo := tn.link("jo@outlook.test").AccessToken
	tn.expectGraphError(jo, "POST", "/me/calendar/getschedule", body, 400, "ErrorInvalidUser")
}
