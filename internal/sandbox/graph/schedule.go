package graph

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// getSchedule serves POST /me/calendar/getSchedule: free/busy of people in
// the caller's organisation. As on Graph, a schedule that cannot be read
// is an error inside its own entry, not a failed request; colleagues'
// entries carry status and times only, the caller's own also subject and
// location; personal accounts have no free/busy service.
func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	if mb.Owner.Personal() {
		WriteError(w, r, http.StatusBadRequest, "ErrorInvalidUser", "The requested user is not valid for getSchedule: free/busy is not available for Microsoft accounts.")
		return
	}
	var body struct {
		Schedules                []string         `json:"schedules"`
		StartTime                DateTimeTimeZone `json:"startTime"`
		EndTime                  DateTimeTimeZone `json:"endTime"`
		AvailabilityViewInterval *int             `json:"availabilityViewInterval"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	from, err1 := parseZoned(body.StartTime)
	to, err2 := parseZoned(body.EndTime)
	interval := 30
	if body.AvailabilityViewInterval != nil {
		interval = *body.AvailabilityViewInterval
	}
	switch {
	case len(body.Schedules) == 0 || len(body.Schedules) > 100:
		badRequest("ErrorInvalidParameter", "The parameter 'Schedules' must list 1 to 100 addresses.").write(w, r)
		return
	case err1 != nil || err2 != nil || !to.After(from):
		badRequest("ErrorInvalidParameter", "The parameters 'StartTime' and 'EndTime' must be valid dateTimeTimeZone values, EndTime after StartTime.").write(w, r)
		return
	case to.Sub(from) > 62*24*time.Hour:
		badRequest("ErrorInvalidParameter", "The time range for the getSchedule request cannot exceed 62 days.").write(w, r)
		return
	case interval < 5 || interval > 1440:
		badRequest("ErrorInvalidParameter", "The parameter 'AvailabilityViewInterval' must be between 5 and 1440.").write(w, r)
		return
	}
	tv := requestedZone(w, r)
	var out []map[string]any
	for _, addr := range body.Schedules {
		other, ok := s.store.MailboxByAddress(addr)
		if !ok || other.Owner.Tenant != mb.Owner.Tenant {
			out = append(out, map[string]any{"scheduleId": addr, "availabilityView": "", "scheduleItems": []any{},
				"error": map[string]string{"message": "The specified email address is not found in the directory: " + addr, "responseCode": "ErrorMailRecipientNotFound"}})
			continue
		}
		out = append(out, other.schedule(addr, from, to, interval, tv, other == mb))
	}
	writeCollection(w, r, "Collection(microsoft.graph.scheduleInformation)", out, "", nil, nil)
}

// schedule is one scheduleInformation entry.
func (mb *Mailbox) schedule(addr string, from, to time.Time, interval int, tv timeView, own bool) map[string]any {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	cal := mb.DefaultCalendar()
	step := time.Duration(interval) * time.Minute
	view := make([]byte, int((to.Sub(from)+step-1)/step))
	for i := range view {
		view[i] = '0'
	}
	items := []map[string]any{}
	for _, ev := range mb.events {
		if ev.CalendarID != cal.ID {
			continue
		}
		for _, o := range ev.expand(from, to) {
			status := orDefault(ev.ShowAs, "busy")
			code := map[string]byte{"tentative": '1', "busy": '2', "oof": '3'}[status]
			if code == 0 {
				continue // free and working elsewhere block nothing
			}
			it := map[string]any{"isPrivate": ev.Sensitivity == "private", "status": status,
				"start": tv.format(o.start, false), "end": tv.format(o.end, false)}
			if own {
				it["subject"], it["location"] = o.subject, ev.Location
			}
			items = append(items, it)
			first := max(0, int(o.start.Sub(from)/step))
			last := min(len(view), int((o.end.Sub(from)+step-1)/step))
			for i := first; i < last; i++ {
				view[i] = max(view[i], code)
			}
		}
	}
	zone := orDefault(mb.TimeZone, "UTC")
	return map[string]any{"scheduleId": addr, "availabilityView": string(view), "scheduleItems": items,
		"workingHours": map[string]any{"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000", "timeZone": map[string]string{"name": zone}}}
}

// parseZoned reads a dateTimeTimeZone.
func parseZoned(v DateTimeTimeZone) (time.Time, error) {
	loc := time.UTC
	if v.TimeZone != "" {
		l, ok := directory.Location(v.TimeZone)
		if !ok {
			return time.Time{}, errors.New("unknown time zone " + v.TimeZone)
		}
		loc = l
	}
	return time.ParseInLocation("2006-01-02T15:04:05.9999999", strings.TrimSuffix(v.DateTime, "Z"), loc)
}
