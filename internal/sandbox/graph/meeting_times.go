package graph

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// findMeetingTimes serves POST /me/findMeetingTimes (work and school
// accounts, Calendars.Read.Shared): times when the organizer and the
// attendees are free, within working hours unless asked otherwise, ranked
// by confidence (free 100, tentative 50, unknown 49, busy 0, averaged over
// attendees), then by time.
func (s *Server) findMeetingTimes(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var in struct {
		Attendees []struct {
			Type         string       `json:"type"`
			EmailAddress EmailAddress `json:"emailAddress"`
		} `json:"attendees"`
		TimeConstraint *struct {
			ActivityDomain string `json:"activityDomain"`
			TimeSlots      []struct {
				Start DateTimeTimeZone `json:"start"`
				End   DateTimeTimeZone `json:"end"`
			} `json:"timeSlots"`
		} `json:"timeConstraint"`
		MeetingDuration           string   `json:"meetingDuration"`
		IsOrganizerOptional       bool     `json:"isOrganizerOptional"`
		MinimumAttendeePercentage *float64 `json:"minimumAttendeePercentage"`
		MaxCandidates             *int     `json:"maxCandidates"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	length := 30 * time.Minute
	if in.MeetingDuration != "" {
		d, ok := isoDuration(in.MeetingDuration)
		if !ok || d <= 0 {
			badRequest("ErrorInvalidParameter", "The value '%s' of parameter 'MeetingDuration' is invalid.", in.MeetingDuration).write(w, r)
			return
		}
		length = d
	}
	now := s.now().UTC()
	type slot struct{ from, to time.Time }
	slots := []slot{{now, now.Add(48 * time.Hour)}}
	domain := "work"
	if tc := in.TimeConstraint; tc != nil {
		if tc.ActivityDomain != "" {
			domain = tc.ActivityDomain
		}
		if len(tc.TimeSlots) > 0 {
			slots = nil
			for _, ts := range tc.TimeSlots {
				from, err1 := parseZoned(ts.Start)
				to, err2 := parseZoned(ts.End)
				if err1 != nil || err2 != nil || !to.After(from) {
					badRequest("ErrorInvalidParameter", "A time slot's start and end are not valid.").write(w, r)
					return
				}
				slots = append(slots, slot{from, to})
			}
		}
	}
	minPct := 50.0
	if in.MinimumAttendeePercentage != nil {
		minPct = *in.MinimumAttendeePercentage
	}
	maxN := 5
	if in.MaxCandidates != nil && *in.MaxCandidates > 0 {
		maxN = min(*in.MaxCandidates, 100)
	}
	organizerZone := zoneLocation(orDefault(mb.TimeZone, "UTC"))

	// Who is busy when: nil for an attendee graphgate cannot see (unknown).
	type person struct {
		addr string
		busy []busySpan
	}
	var span slot
	for i, sl := range slots {
		if i == 0 || sl.from.Before(span.from) {
			span.from = sl.from
		}
		if sl.to.After(span.to) {
			span.to = sl.to
		}
	}
	own := mb.busySpans(span.from, span.to)
	var people []person
	for _, a := range in.Attendees {
		if a.Type == "resource" {
			continue
		}
		p := person{addr: a.EmailAddress.Address}
		if box, ok := s.store.MailboxByAddress(a.EmailAddress.Address); ok && box.Owner.Tenant == mb.Owner.Tenant {
			p.busy = box.busySpans(span.from, span.to)
			if p.busy == nil {
				p.busy = []busySpan{}
			}
		}
		people = append(people, p)
	}

	tv := requestedZone(w, r)
	var suggestions []map[string]any
	organizerFreeSomewhere := false
	for _, sl := range slots {
		for t := sl.from.Truncate(30 * time.Minute); !t.Add(length).After(sl.to); t = t.Add(30 * time.Minute) {
			if t.Before(sl.from) || !withinHours(t, t.Add(length), domain, organizerZone) {
				continue
			}
			orgAvail := availabilityIn(own, t, t.Add(length))
			if orgAvail == "free" {
				organizerFreeSomewhere = true
			}
			if orgAvail != "free" && !in.IsOrganizerOptional {
				continue
			}
			total := 0.0
			var avail []map[string]any
			for _, p := range people {
				a := "unknown"
				if p.busy != nil {
					a = availabilityIn(p.busy, t, t.Add(length))
				}
				total += map[string]float64{"free": 100, "tentative": 50, "unknown": 49}[a]
				avail = append(avail, map[string]any{"availability": a, "attendee": map[string]any{"type": "required",
					"emailAddress": map[string]string{"address": p.addr}}})
			}
			confidence := 100.0
			if len(people) > 0 {
				confidence = total / float64(len(people))
			}
			if confidence < minPct {
				continue
			}
			suggestions = append(suggestions, map[string]any{
				"confidence": confidence, "organizerAvailability": orgAvail, "attendeeAvailability": nonNilMaps(avail),
				"suggestionReason": "Suggested because it is one of the nearest times when all attendees are available.",
				"locations":        []any{},
				"meetingTimeSlot":  map[string]any{"start": tv.format(t, false), "end": tv.format(t.Add(length), false)},
				"at":               t,
			})
		}
	}
	slices.SortStableFunc(suggestions, func(a, b map[string]any) int {
		if ca, cb := a["confidence"].(float64), b["confidence"].(float64); ca != cb {
			if ca > cb {
				return -1
			}
			return 1
		}
		return a["at"].(time.Time).Compare(b["at"].(time.Time))
	})
	if len(suggestions) > maxN {
		suggestions = suggestions[:maxN]
	}
	for i, sg := range suggestions {
		delete(sg, "at")
		sg["order"] = i + 1
	}
	reason := ""
	if len(suggestions) == 0 {
		reason = "attendeesUnavailable"
		if !organizerFreeSomewhere && !in.IsOrganizerOptional {
			reason = "organizerUnavailable"
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":         baseURL(r) + "/v1.0/$metadata#microsoft.graph.meetingTimeSuggestionsResult",
		"emptySuggestionsReason": reason, "meetingTimeSuggestions": nonNilMaps(suggestions)})
}

func nonNilMaps(m []map[string]any) []map[string]any {
	if m == nil {
		return []map[string]any{}
	}
	return m
}

type busySpan struct {
	from, to time.Time
	status   string // tentative, busy, oof
}

// busySpans lists when the mailbox's owner is not free between from and to.
func (mb *Mailbox) busySpans(from, to time.Time) []busySpan {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	var out []busySpan
	for _, ev := range mb.events {
		if ev.CalendarID != mb.calendars[0].ID || ev.Cancelled || ev.Response == "declined" {
			continue
		}
		status := orDefault(ev.ShowAs, "busy")
		if ev.Response == "none" || ev.Response == "tentativelyAccepted" {
			status = "tentative"
		}
		if status == "free" || status == "workingElsewhere" {
			continue
		}
		for _, o := range ev.expand(from, to) {
			out = append(out, busySpan{o.start, o.end, status})
		}
	}
	return out
}

// availabilityIn is someone's availability over [from, to): the worst of
// what overlaps it.
func availabilityIn(busy []busySpan, from, to time.Time) string {
	worst := "free"
	for _, b := range busy {
		if b.from.Before(to) && b.to.After(from) {
			if b.status == "tentative" && worst == "free" {
				worst = "tentative"
			} else if b.status != "tentative" {
				return "busy"
			}
		}
	}
	return worst
}

// withinHours reports whether [from, to) lies in the activity domain's
// hours, in the organizer's zone: work is Monday to Friday, 8:00 to 17:00;
// personal adds evenings and weekends, 8:00 to 22:00; unrestricted, any.
func withinHours(from, to time.Time, domain string, loc *time.Location) bool {
	if domain == "unrestricted" {
		return true
	}
	f, t := from.In(loc), to.Add(-time.Nanosecond).In(loc)
	if f.YearDay() != t.YearDay() {
		return false
	}
	end := 17
	if domain == "personal" {
		end = 22
	} else if f.Weekday() == time.Saturday || f.Weekday() == time.Sunday {
		return false
	}
	return f.Hour() >= 8 && t.Hour() < end
}

var isoDurationRE = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?$`)

// isoDuration reads the ISO 8601 durations meetings use: PT1H, PT30M, PT1H30M.
func isoDuration(s string) (time.Duration, bool) {
	m := isoDurationRE.FindStringSubmatch(s)
	if m == nil || m[1] == "" && m[2] == "" {
		return 0, false
	}
	h, _ := strconv.Atoi(orDefault(m[1], "0"))
	mins, _ := strconv.Atoi(orDefault(m[2], "0"))
	if h > 24*14 || mins > 60*24*14 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(mins)*time.Minute, true
}
