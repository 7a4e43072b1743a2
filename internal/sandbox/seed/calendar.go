package seed

import (
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

// calendar seeds single, all-day and recurring events in the person's own
// time zone, from three months back to six months ahead: every zone the
// sandbox uses changes to or from daylight saving in that span.
func (g *gen) calendar() {
	zone := g.p.TimeZone
	loc, ok := directory.Location(zone)
	if !ok {
		loc = time.UTC
	}
	local := g.anchor.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	day := func(offset int) time.Time { return today.AddDate(0, 0, offset) }
	at := func(offset, hour, minute int) time.Time {
		d := day(offset)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, loc)
	}
	me := graph.Recipient{EmailAddress: graph.EmailAddress{Name: g.p.DisplayName, Address: g.p.UPN}}
	people := g.colleagues()
	attendees := func(n int) []graph.Attendee {
		var out []graph.Attendee
		for i := range n {
			c := people[(g.rng.IntN(len(people))+i)%len(people)]
			out = append(out, graph.Attendee{Type: "required", Status: graph.ResponseStatus{Response: g.pick([]string{"accepted", "tentativelyAccepted", "none"}), Time: "0001-01-01T00:00:00Z"},
				EmailAddress: graph.EmailAddress{Name: c.name, Address: c.addr}})
		}
		return out
	}
	created := g.anchor.AddDate(0, -4, 0)
	add := func(e *graph.Event) {
		e.ID = g.id("event")
		e.Zone = zone
		e.Created = created
		if e.Organizer.EmailAddress.Address == "" {
			e.Organizer = me
		}
		g.mb.AddEvent(e)
	}
	weekStart := -90 - int(day(-90).Weekday()) // a Sunday about three months back

	if g.p.Personal() {
		add(&graph.Event{Subject: "Gym", Start: at(weekStart+2, 7, 0), End: at(weekStart+2, 8, 0), ShowAs: "busy",
			Recurrence: weekly([]string{"tuesday", "thursday"}, 1, day(weekStart+2), day(180))})
		add(&graph.Event{Subject: "Book club", Start: at(-80, 19, 30), End: at(-80, 21, 0), Location: "Riverside Library",
			Recurrence: &graph.Recurrence{Pattern: graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 1, DayOfMonth: day(-80).Day(), FirstDayOfWeek: "sunday", Index: "first"},
				Range: graph.RecurrenceRange{Type: "numbered", StartDate: day(-80).Format("2006-01-02"), NumberOfOccurrences: 10, RecurrenceTimeZone: zone}}})
	} else {
		standup := &graph.Event{Subject: "Team standup", Start: at(weekStart+1, 9, 30), End: at(weekStart+1, 9, 45),
			Location: "Microsoft Teams Meeting", IsOnlineMeeting: true, Attendees: attendees(4),
			Body:       graph.ItemBody{ContentType: "html", Content: "<html><body><p>Daily sync: yesterday, today, blockers.</p></body></html>"},
			Recurrence: weekly([]string{"monday", "wednesday", "friday"}, 1, day(weekStart+1), day(180))}
		// Next week's Wednesday moves to 11:00; the Friday after is cancelled.
		nextMon := 8 - int(day(0).Weekday())
		if nextMon > 7 {
			nextMon -= 7
		}
		standup.Exceptions = map[string]*graph.Exception{
			day(nextMon + 2).Format("2006-01-02"): {Subject: "Team standup (moved)", Start: at(nextMon+2, 11, 0), End: at(nextMon+2, 11, 15)},
			day(nextMon + 4).Format("2006-01-02"): {Cancelled: true},
		}
		add(standup)
		add(&graph.Event{Subject: "1:1 with " + people[0].name, Start: at(weekStart+4, 14, 0), End: at(weekStart+4, 14, 30),
			Attendees: attendees(1), IsOnlineMeeting: true, Location: "Microsoft Teams Meeting",
			Recurrence: weekly([]string{"thursday"}, 2, day(weekStart+4), time.Time{})})
		add(&graph.Event{Subject: "All hands", Start: at(-100, 17, 0), End: at(-100, 18, 0), Location: "Auditorium",
			Organizer: people[len(people)-1].recipient(), Attendees: attendees(6),
			Recurrence: &graph.Recurrence{Pattern: graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 1, DayOfMonth: day(-100).Day(), FirstDayOfWeek: "sunday", Index: "first"},
				Range: graph.RecurrenceRange{Type: "numbered", StartDate: day(-100).Format("2006-01-02"), NumberOfOccurrences: 12, RecurrenceTimeZone: zone}}})
	}

	// Single meetings over the past and coming month.
	topics := workTopics
	if g.p.Personal() {
		topics = personalTopics
	}
	for i := range 30 {
		offset := -30 + i*2 + g.rng.IntN(2)
		if wd := day(offset).Weekday(); wd == time.Saturday || wd == time.Sunday {
			offset += 2
		}
		hour := 9 + g.rng.IntN(8)
		length := []int{30, 30, 45, 60, 60, 90}[g.rng.IntN(6)]
		e := &graph.Event{Subject: g.pick(topics), Start: at(offset, hour, 0), End: at(offset, hour, 0).Add(time.Duration(length) * time.Minute),
			Attendees: attendees(1 + g.rng.IntN(4)), Location: g.pick([]string{"Room 4.12", "Microsoft Teams Meeting", "Cafe downstairs", "Room 2.01"}),
			Body: graph.ItemBody{ContentType: "text", Content: g.pick(noteLines)}}
		e.IsOnlineMeeting = e.Location == "Microsoft Teams Meeting"
		if g.rng.IntN(5) == 0 {
			e.ShowAs = "tentative"
		}
		add(e)
	}

	// All-day events.
	add(&graph.Event{Subject: "Company holiday", Start: day(28), End: day(29), IsAllDay: true, ShowAs: "oof"})
	add(&graph.Event{Subject: "Team offsite", Start: day(10), End: day(12), IsAllDay: true, ShowAs: "oof", Location: "Lakeside Lodge"})
	add(&graph.Event{Subject: "Quarter planning deadline", Start: day(-5), End: day(-4), IsAllDay: true, ShowAs: "free"})

	// A second calendar.
	holidays := g.mb.AddCalendar("Holidays", "lightGreen")
	for i, name := range []string{"New Year's Day", "Spring holiday", "Summer break starts"} {
		start := day(36 + i*60)
		e := &graph.Event{CalendarID: holidays.ID, Subject: name, Start: start, End: start.AddDate(0, 0, 1), IsAllDay: true, ShowAs: "free"}
		add(e)
	}
}

func weekly(days []string, interval int, start, end time.Time) *graph.Recurrence {
	rg := graph.RecurrenceRange{Type: "noEnd", StartDate: start.Format("2006-01-02")}
	if !end.IsZero() {
		rg.Type, rg.EndDate = "endDate", end.Format("2006-01-02")
	}
	return &graph.Recurrence{Pattern: graph.RecurrencePattern{Type: "weekly", Interval: interval, DaysOfWeek: days, FirstDayOfWeek: "sunday", Index: "first"}, Range: rg}
}
