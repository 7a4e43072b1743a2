package graph

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// Calendar is Graph's calendar.
type Calendar struct {
	ID                            string       `json:"id"`
	Name                          string       `json:"name"`
	Color                         string       `json:"color"`
	HexColor                      string       `json:"hexColor"`
	IsDefaultCalendar             bool         `json:"isDefaultCalendar"`
	ChangeKey                     string       `json:"changeKey"`
	CanShare                      bool         `json:"canShare"`
	CanViewPrivateItems           bool         `json:"canViewPrivateItems"`
	CanEdit                       bool         `json:"canEdit"`
	IsRemovable                   bool         `json:"isRemovable"`
	IsTallyingResponses           bool         `json:"isTallyingResponses"`
	AllowedOnlineMeetingProviders []string     `json:"allowedOnlineMeetingProviders"`
	DefaultOnlineMeetingProvider  string       `json:"defaultOnlineMeetingProvider"`
	Owner                         EmailAddress `json:"owner"`
}

// Attendee is Graph's attendee.
type Attendee struct {
	Type         string         `json:"type"` // required, optional, resource
	Status       ResponseStatus `json:"status"`
	EmailAddress EmailAddress   `json:"emailAddress"`
}

// ResponseStatus is Graph's responseStatus.
type ResponseStatus struct {
	Response string `json:"response"`
	Time     string `json:"time"`
}

// Recurrence is Graph's patternedRecurrence.
type Recurrence struct {
	Pattern RecurrencePattern `json:"pattern"`
	Range   RecurrenceRange   `json:"range"`
}

// RecurrencePattern is Graph's recurrencePattern.
type RecurrencePattern struct {
	Type           string   `json:"type"` // daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly, relativeYearly
	Interval       int      `json:"interval"`
	Month          int      `json:"month"`
	DayOfMonth     int      `json:"dayOfMonth"`
	DaysOfWeek     []string `json:"daysOfWeek,omitempty"`
	FirstDayOfWeek string   `json:"firstDayOfWeek"`
	Index          string   `json:"index"`
}

// RecurrenceRange is Graph's recurrenceRange. Dates are yyyy-mm-dd.
type RecurrenceRange struct {
	Type                string `json:"type"` // endDate, noEnd, numbered
	StartDate           string `json:"startDate"`
	EndDate             string `json:"endDate"`
	RecurrenceTimeZone  string `json:"recurrenceTimeZone"`
	NumberOfOccurrences int    `json:"numberOfOccurrences"`
}

// Event is a stored event: a single instance or a series master. Start and
// End are wall-clock times in Zone, the zone the organizer created it in.
type Event struct {
	ID              string
	CalendarID      string
	Subject         string
	Body            ItemBody
	Start, End      time.Time
	Zone            string // Windows or IANA name
	IsAllDay        bool
	Location        string
	Attendees       []Attendee
	Organizer       Recipient
	IsOnlineMeeting bool
	ShowAs          string
	Categories      []string
	Importance      string
	Sensitivity     string
	Created         time.Time
	Recurrence      *Recurrence
	// Exceptions are changed or cancelled occurrences, by original start date.
	Exceptions map[string]*Exception
	// Meetings: the organizer's event and each attendee's copy share
	// UID; Response is this copy's owner's answer (empty: the seeded
	// default, accepted); Cancelled, the organizer cancelled it.
	UID        string
	Response   string
	Cancelled  bool
	NoNewTimes bool // allowNewTimeProposals false
	// Version counts changes: the change key and etag follow it.
	Version  int
	Modified time.Time
}

// Exception is one changed or cancelled occurrence of a series.
type Exception struct {
	Cancelled  bool
	Subject    string
	Start, End time.Time // in the series' zone
}

// DateTimeTimeZone is Graph's dateTimeTimeZone.
type DateTimeTimeZone struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// eventJSON is an event or occurrence as served.
type eventJSON struct {
	ETag                       string            `json:"@odata.etag"`
	ID                         string            `json:"id"`
	CreatedDateTime            time.Time         `json:"createdDateTime"`
	LastModifiedDateTime       time.Time         `json:"lastModifiedDateTime"`
	ChangeKey                  string            `json:"changeKey"`
	Categories                 []string          `json:"categories"`
	TransactionID              *string           `json:"transactionId"`
	OriginalStartTimeZone      string            `json:"originalStartTimeZone"`
	OriginalEndTimeZone        string            `json:"originalEndTimeZone"`
	ICalUID                    string            `json:"iCalUId"`
	ReminderMinutesBeforeStart int               `json:"reminderMinutesBeforeStart"`
	IsReminderOn               bool              `json:"isReminderOn"`
	HasAttachments             bool              `json:"hasAttachments"`
	Subject                    string            `json:"subject"`
	BodyPreview                string            `json:"bodyPreview"`
	Importance                 string            `json:"importance"`
	Sensitivity                string            `json:"sensitivity"`
	IsAllDay                   bool              `json:"isAllDay"`
	IsCancelled                bool              `json:"isCancelled"`
	IsOrganizer                bool              `json:"isOrganizer"`
	ResponseRequested          bool              `json:"responseRequested"`
	SeriesMasterID             *string           `json:"seriesMasterId"`
	ShowAs                     string            `json:"showAs"`
	Type                       string            `json:"type"`
	WebLink                    string            `json:"webLink"`
	OnlineMeetingURL           *string           `json:"onlineMeetingUrl"`
	IsOnlineMeeting            bool              `json:"isOnlineMeeting"`
	OnlineMeetingProvider      string            `json:"onlineMeetingProvider"`
	AllowNewTimeProposals      bool              `json:"allowNewTimeProposals"`
	IsDraft                    bool              `json:"isDraft"`
	HideAttendees              bool              `json:"hideAttendees"`
	ResponseStatus             ResponseStatus    `json:"responseStatus"`
	Body                       ItemBody          `json:"body"`
	Start                      DateTimeTimeZone  `json:"start"`
	End                        DateTimeTimeZone  `json:"end"`
	Location                   map[string]any    `json:"location"`
	Locations                  []map[string]any  `json:"locations"`
	Recurrence                 *Recurrence       `json:"recurrence"`
	Attendees                  []Attendee        `json:"attendees"`
	Organizer                  Recipient         `json:"organizer"`
	OnlineMeeting              map[string]string `json:"onlineMeeting"`
	startUTC, endUTC           time.Time
}

var eventType = entityType{
	name: "microsoft.graph.event", maxTop: 1000, defTop: 10, skipName: "$skip",
	props: setOf("subject", "start/datetime", "end/datetime", "isallday", "type", "showas", "categories",
		"importance", "sensitivity", "organizer/emailaddress/address", "iscancelled", "createddatetime",
		"lastmodifieddatetime"),
}

var calendarType = entityType{
	name: "microsoft.graph.calendar", maxTop: 1000, defTop: 10, skipName: "$skip",
	props: setOf("name", "isdefaultcalendar", "color"),
}

func (e *eventJSON) field(path string) any {
	switch path {
	case "subject":
		return e.Subject
	case "start/datetime":
		return e.startUTC
	case "end/datetime":
		return e.endUTC
	case "isallday":
		return e.IsAllDay
	case "type":
		return e.Type
	case "showas":
		return e.ShowAs
	case "categories":
		return e.Categories
	case "importance":
		return e.Importance
	case "sensitivity":
		return e.Sensitivity
	case "organizer/emailaddress/address":
		return e.Organizer.EmailAddress.Address
	case "iscancelled":
		return e.IsCancelled
	case "createddatetime":
		return e.CreatedDateTime
	case "lastmodifieddatetime":
		return e.LastModifiedDateTime
	}
	return nil
}

func (c *Calendar) field(path string) any {
	switch path {
	case "name":
		return c.Name
	case "isdefaultcalendar":
		return c.IsDefaultCalendar
	case "color":
		return c.Color
	}
	return nil
}

// Seeding API.

// DefaultCalendar returns the mailbox's default calendar.
func (mb *Mailbox) DefaultCalendar() *Calendar { return mb.calendars[0] }

// AddCalendar adds a secondary calendar with a stable id.
func (mb *Mailbox) AddCalendar(name, color string) *Calendar {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	c := &Calendar{ID: StableID("AAMkAD", mb.Owner.ObjectID, "calendar", name), Name: name, Color: color,
		CanEdit: true, CanShare: true, CanViewPrivateItems: true, IsRemovable: true, ChangeKey: newChangeKey(),
		Owner: EmailAddress{Name: mb.Owner.DisplayName, Address: mb.Owner.UPN}}
	mb.calendars = append(mb.calendars, c)
	return c
}

// Events returns every event, for tests and tools.
func (mb *Mailbox) Events() []*Event {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	out := make([]*Event, 0, len(mb.events))
	for _, e := range mb.events {
		out = append(out, e)
	}
	return out
}

// AddEvent stores an event.
func (mb *Mailbox) AddEvent(e *Event) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if e.ID == "" {
		e.ID = newID("AAMkAD")
	}
	if e.CalendarID == "" {
		e.CalendarID = mb.calendars[0].ID
	}
	if e.Body.ContentType == "" {
		e.Body.ContentType = "html"
	}
	mb.events[e.ID] = e
}

// zoneLocation resolves an event's zone, falling back to UTC.
func zoneLocation(name string) *time.Location {
	if loc, ok := directory.Location(name); ok {
		return loc
	}
	return time.UTC
}

// occurrence is one instance to serve: a single event, or one occurrence of
// a series (type occurrence or exception).
type occurrence struct {
	ev           *Event
	kind         string // singleInstance, occurrence, exception, seriesMaster
	originalDate string // yyyy-mm-dd for occurrences
	start, end   time.Time
	subject      string
}

// expand lists the instances of e that overlap [from, to).
func (e *Event) expand(from, to time.Time) []occurrence {
	if e.Recurrence == nil {
		if e.Start.Before(to) && e.End.After(from) {
			return []occurrence{{ev: e, kind: "singleInstance", start: e.Start, end: e.End, subject: e.Subject}}
		}
		return nil
	}
	loc := zoneLocation(e.Zone)
	startLocal := e.Start.In(loc)
	dur := e.End.Sub(e.Start)
	p, rg := e.Recurrence.Pattern, e.Recurrence.Range
	first, err := time.ParseInLocation("2006-01-02", rg.StartDate, loc)
	if err != nil {
		return nil
	}
	var last time.Time
	if rg.Type == "endDate" {
		if last, err = time.ParseInLocation("2006-01-02", rg.EndDate, loc); err != nil {
			return nil
		}
	}
	interval := max(p.Interval, 1)
	var out []occurrence
	count := 0
	// Walk day by day in the series' zone so the wall-clock time stays put
	// across daylight-saving changes, as Outlook's expansion does.
	for d := first; ; d = d.AddDate(0, 0, 1) {
		if rg.Type == "endDate" && d.After(last) || rg.Type == "numbered" && count >= rg.NumberOfOccurrences {
			break
		}
		if !d.Before(to.Add(24*time.Hour)) || d.Sub(first) > 10*366*24*time.Hour {
			break
		}
		if !patternMatches(p, interval, first, d) {
			continue
		}
		count++
		s := time.Date(d.Year(), d.Month(), d.Day(), startLocal.Hour(), startLocal.Minute(), startLocal.Second(), 0, loc)
		o := occurrence{ev: e, kind: "occurrence", originalDate: d.Format("2006-01-02"), start: s, end: s.Add(dur), subject: e.Subject}
		if e.IsAllDay {
			o.end = s.AddDate(0, 0, int(dur.Hours()/24+0.5))
		}
		if ex := e.Exceptions[o.originalDate]; ex != nil {
			if ex.Cancelled {
				continue
			}
			o.kind = "exception"
			if ex.Subject != "" {
				o.subject = ex.Subject
			}
			if !ex.Start.IsZero() {
				o.start, o.end = ex.Start, ex.End
			}
		}
		if o.start.Before(to) && o.end.After(from) {
			out = append(out, o)
		}
	}
	return out
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

func patternMatches(p RecurrencePattern, interval int, first, d time.Time) bool {
	days := int(d.Sub(first).Hours()/24 + 0.5)
	months := (d.Year()-first.Year())*12 + int(d.Month()-first.Month())
	onDay := func() bool {
		for _, n := range p.DaysOfWeek {
			if weekdays[strings.ToLower(n)] == d.Weekday() {
				return true
			}
		}
		return false
	}
	switch p.Type {
	case "daily":
		return days%interval == 0
	case "weekly":
		fdw := weekdays[strings.ToLower(p.FirstDayOfWeek)]
		weekStart := func(t time.Time) time.Time {
			return t.AddDate(0, 0, -((int(t.Weekday()) - int(fdw) + 7) % 7))
		}
		weeks := int(weekStart(d).Sub(weekStart(first)).Hours()/24+0.5) / 7
		return weeks%interval == 0 && onDay()
	case "absoluteMonthly":
		return months%interval == 0 && d.Day() == p.DayOfMonth
	case "relativeMonthly":
		return months%interval == 0 && onDay() && weekIndexMatches(p.Index, d)
	case "absoluteYearly":
		return (d.Year()-first.Year())%interval == 0 && int(d.Month()) == p.Month && d.Day() == p.DayOfMonth
	case "relativeYearly":
		return (d.Year()-first.Year())%interval == 0 && int(d.Month()) == p.Month && onDay() && weekIndexMatches(p.Index, d)
	}
	return false
}

func weekIndexMatches(index string, d time.Time) bool {
	n := (d.Day()-1)/7 + 1
	switch index {
	case "first", "":
		return n == 1
	case "second":
		return n == 2
	case "third":
		return n == 3
	case "fourth":
		return n == 4
	case "last":
		return d.AddDate(0, 0, 7).Month() != d.Month()
	}
	return false
}

// occurrenceID encodes a series master and an original date: occurrences
// have ids of their own on Graph, distinct from the master's.
func occurrenceID(masterID, date string) string {
	return "AAMkADocc" + base64.RawURLEncoding.EncodeToString([]byte(masterID+"|"+date))
}

func parseOccurrenceID(id string) (masterID, date string, ok bool) {
	rest, ok := strings.CutPrefix(id, "AAMkADocc")
	if !ok {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", false
	}
	masterID, date, ok = strings.Cut(string(b), "|")
	return masterID, date, ok
}

// timeView renders times in the zone the client asked for with
// Prefer: outlook.timezone (UTC by default).
type timeView struct {
	name string
	loc  *time.Location
}

func requestedZone(w http.ResponseWriter, r *http.Request) timeView {
	_, tz := preferences(r)
	if tz != "" {
		if loc, ok := directory.Location(tz); ok {
			w.Header().Set("Preference-Applied", `outlook.timezone="`+tz+`"`)
			return timeView{name: tz, loc: loc}
		}
	}
	return timeView{name: "UTC", loc: time.UTC}
}

func (tv timeView) format(t time.Time, allDay bool) DateTimeTimeZone {
	if !allDay {
		t = t.In(tv.loc)
	}
	// All-day events float: midnight to midnight whatever the zone.
	return DateTimeTimeZone{DateTime: t.Format("2006-01-02T15:04:05.0000000"), TimeZone: tv.name}
}

func (mb *Mailbox) render(o occurrence, tv timeView) *eventJSON {
	e := o.ev
	id := e.ID
	var master *string
	switch o.kind {
	case "occurrence", "exception":
		id = occurrenceID(e.ID, o.originalDate)
		master = &e.ID
	}
	loc := map[string]any{"displayName": e.Location, "locationType": "default", "uniqueIdType": "unknown",
		"address": map[string]any{}, "coordinates": map[string]any{}}
	locs := []map[string]any{}
	if e.Location != "" {
		locs = append(locs, map[string]any{"displayName": e.Location, "locationType": "default", "uniqueIdType": "unknown"})
	}
	j := &eventJSON{
		ID: id, CreatedDateTime: e.Created, LastModifiedDateTime: e.Created, ChangeKey: StableID("", e.ID, "ck", strconv.Itoa(e.Version))[:24],
		Categories: nonNil(e.Categories), OriginalStartTimeZone: e.Zone, OriginalEndTimeZone: e.Zone,
		ICalUID: StableID("040000008200E00074C5B7101A82E008", orDefault(e.UID, e.ID)), ReminderMinutesBeforeStart: 15,
		IsReminderOn: !e.IsAllDay, Subject: o.subject, BodyPreview: preview(e.Body), Importance: orDefault(e.Importance, "normal"),
		Sensitivity: orDefault(e.Sensitivity, "normal"), IsAllDay: e.IsAllDay,
		IsOrganizer: strings.EqualFold(e.Organizer.EmailAddress.Address, mb.Owner.UPN), ResponseRequested: true,
		SeriesMasterID: master, ShowAs: orDefault(e.ShowAs, "busy"), Type: o.kind,
		WebLink:               "https://outlook.office365.com/owa/?itemid=" + id + "&exvsurl=1&path=/calendar/item",
		IsOnlineMeeting:       e.IsOnlineMeeting,
		OnlineMeetingProvider: "unknown",
		AllowNewTimeProposals: !e.NoNewTimes,
		IsCancelled:           e.Cancelled,
		ResponseStatus:        ResponseStatus{Response: "organizer", Time: "0001-01-01T00:00:00Z"},
		Body:                  e.Body,
		Start:                 tv.format(o.start, e.IsAllDay),
		End:                   tv.format(o.end, e.IsAllDay),
		Location:              loc,
		Locations:             locs,
		Attendees:             nonNilAttendees(e.Attendees),
		Organizer:             e.Organizer,
		startUTC:              o.start.UTC(),
		endUTC:                o.end.UTC(),
	}
	if !j.IsOrganizer {
		j.ResponseStatus = ResponseStatus{Response: orDefault(e.Response, "accepted"), Time: e.Created.Format(time.RFC3339)}
	}
	if !e.Modified.IsZero() {
		j.LastModifiedDateTime = e.Modified
	}
	j.ETag = `W/"` + j.ChangeKey + `"`
	if o.kind == "seriesMaster" {
		j.Recurrence = e.Recurrence
	}
	if e.IsOnlineMeeting {
		j.OnlineMeetingProvider = "teamsForBusiness"
		j.OnlineMeeting = map[string]string{"joinUrl": "https://teams.microsoft.com/l/meetup-join/" + StableID("19%3ameeting_", e.ID)[:40]}
	}
	return j
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilAttendees(s []Attendee) []Attendee {
	if s == nil {
		return []Attendee{}
	}
	return s
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (s *Server) listCalendars(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, calendarType)
	if e != nil {
		e.write(w, r)
		return
	}
	mb.mu.RLock()
	var out []*Calendar
	for _, c := range mb.calendars {
		if lq.filter == nil || lq.filter.eval(c) {
			out = append(out, c)
		}
	}
	mb.mu.RUnlock()
	items, next := page(r, out, lq, calendarType)
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/calendars", items, next, lq.selects, nil)
}

// calendarFor resolves the calendar of a route: the path's {calendar}, or the
// default calendar for /me/calendar, /me/events and /me/calendarView.
func (mb *Mailbox) calendarFor(r *http.Request) (*Calendar, *apiError) {
	id := r.PathValue("calendar")
	if id == "" {
		return mb.calendars[0], nil
	}
	for _, c := range mb.calendars {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, lookupErr(id)
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	c, e := mb.calendarFor(r)
	mb.mu.RUnlock()
	if e != nil {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, project(c, selectParam(r)))
}

// listEvents serves /events: single instances and series masters, not occurrences.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	s.serveEvents(w, r, mb, false)
}

// calendarView serves /calendarView: every instance in a window, series expanded.
func (s *Server) calendarView(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	s.serveEvents(w, r, mb, true)
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request, mb *Mailbox, view bool) {
	lq, e := parseListQuery(r, eventType)
	if e != nil {
		e.write(w, r)
		return
	}
	var from, to time.Time
	if view {
		var ok bool
		if from, to, ok = timeWindow(w, r); !ok {
			return
		}
	}
	tv := requestedZone(w, r)
	mb.mu.RLock()
	cal, e := mb.calendarFor(r)
	if e != nil {
		mb.mu.RUnlock()
		e.write(w, r)
		return
	}
	var out []*eventJSON
	for _, ev := range mb.events {
		if ev.CalendarID != cal.ID {
			continue
		}
		var occs []occurrence
		switch {
		case view:
			occs = ev.expand(from, to)
		case ev.Recurrence != nil:
			occs = []occurrence{{ev: ev, kind: "seriesMaster", start: ev.Start, end: ev.End, subject: ev.Subject}}
		default:
			occs = []occurrence{{ev: ev, kind: "singleInstance", start: ev.Start, end: ev.End, subject: ev.Subject}}
		}
		for _, o := range occs {
			j := mb.render(o, tv)
			if lq.filter == nil || lq.filter.eval(j) {
				out = append(out, j)
			}
		}
	}
	mb.mu.RUnlock()
	sortEvents(out, lq.orderby)
	items, next := page(r, out, lq, eventType)
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/events", items, next, lq.selects, nil)
}

func sortEvents(es []*eventJSON, order []orderKey) {
	if len(order) == 0 {
		order = []orderKey{{prop: "start/datetime"}}
	}
	slices.SortFunc(es, func(a, b *eventJSON) int {
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

// timeWindow reads calendarView's required startDateTime and endDateTime.
func timeWindow(w http.ResponseWriter, r *http.Request) (from, to time.Time, ok bool) {
	q := r.URL.Query()
	get := func(name string) string {
		for k, v := range q {
			if strings.EqualFold(k, name) {
				return v[0]
			}
		}
		return ""
	}
	fs, ts := get("startDateTime"), get("endDateTime")
	if fs == "" || ts == "" {
		badRequest("ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.").write(w, r)
		return from, to, false
	}
	var err1, err2 error
	from, err1 = parseDateTime(fs)
	to, err2 = parseDateTime(ts)
	if err1 != nil || err2 != nil {
		badRequest("ErrorInvalidParameter", "The value '%s' of parameter 'StartDateTime' or 'EndDateTime' is invalid.", fs+"/"+ts).write(w, r)
		return from, to, false
	}
	if !to.After(from) {
		badRequest("ErrorInvalidParameter", "The parameter 'EndDateTime' must be later than 'StartDateTime'.").write(w, r)
		return from, to, false
	}
	return from, to, true
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	tv := requestedZone(w, r)
	id := r.PathValue("id")
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	if masterID, date, ok := parseOccurrenceID(id); ok {
		if ev, found := mb.events[masterID]; found && ev.Recurrence != nil {
			day, err := time.ParseInLocation("2006-01-02", date, zoneLocation(ev.Zone))
			if err == nil {
				for _, o := range ev.expand(day.Add(-48*time.Hour), day.Add(72*time.Hour)) {
					if o.originalDate == date {
						writeJSON(w, http.StatusOK, project(mb.render(o, tv), selectParam(r)))
						return
					}
				}
			}
		}
		errNotFound.write(w, r)
		return
	}
	ev, ok := mb.events[id]
	if !ok {
		lookupErr(id).write(w, r)
		return
	}
	kind := "singleInstance"
	if ev.Recurrence != nil {
		kind = "seriesMaster"
	}
	writeJSON(w, http.StatusOK, project(mb.render(occurrence{ev: ev, kind: kind, start: ev.Start, end: ev.End, subject: ev.Subject}, tv), selectParam(r)))
}

// eventInstances serves /events/{id}/instances: a series' occurrences in a window.
func (s *Server) eventInstances(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, eventType)
	if e != nil {
		e.write(w, r)
		return
	}
	from, to, ok := timeWindow(w, r)
	if !ok {
		return
	}
	tv := requestedZone(w, r)
	mb.mu.RLock()
	ev, found := mb.events[r.PathValue("id")]
	if !found {
		mb.mu.RUnlock()
		lookupErr(r.PathValue("id")).write(w, r)
		return
	}
	var out []*eventJSON
	for _, o := range ev.expand(from, to) {
		out = append(out, mb.render(o, tv))
	}
	mb.mu.RUnlock()
	sortEvents(out, lq.orderby)
	items, next := page(r, out, lq, eventType)
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/events", items, next, lq.selects, nil)
}
