package graph

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Microsoft To Do: /me/todo/lists and their tasks (Tasks.Read,
// Tasks.ReadWrite; personal accounts too). Exchange keeps them, so ids and
// etags look like Outlook's. A due date is a day: To Do keeps the midnight
// of the zone it was given in, and answers in UTC.

// TaskList is a To Do list.
type TaskList struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	IsOwner           bool   `json:"isOwner"`
	IsShared          bool   `json:"isShared"`
	WellknownListName string `json:"wellknownListName"` // defaultList, none
	tasks             []*Task
}

// Task is a To Do task.
type Task struct {
	ID           string
	Title        string
	Body         ItemBody
	Status       string // notStarted, inProgress, completed, waitingOnOthers, deferred
	Importance   string // low, normal, high
	Created      time.Time
	LastModified time.Time
	Due          time.Time // zero: none
	Completed    time.Time // zero: not completed
	Categories   []string
	changeKey    string
}

var (
	taskStatuses   = []string{"notStarted", "inProgress", "completed", "waitingOnOthers", "deferred"}
	taskImportance = []string{"low", "normal", "high"}
	scopesTaskRead = []string{"Tasks.Read", "Tasks.ReadWrite"}
	scopesTaskRW   = []string{"Tasks.ReadWrite"}
	taskListType   = entityType{name: "microsoft.graph.todoTaskList", props: map[string]bool{"displayname": true, "wellknownlistname": true},
		maxTop: 100, defTop: 100, skipName: "$skiptoken"}
	taskType = entityType{name: "microsoft.graph.todoTask", props: map[string]bool{"status": true, "importance": true, "title": true,
		"createddatetime": true, "lastmodifieddatetime": true, "duedatetime/datetime": true}, maxTop: 100, defTop: 100, skipName: "$skiptoken"}
)

func (l *TaskList) field(path string) any {
	switch path {
	case "displayname":
		return l.DisplayName
	case "wellknownlistname":
		return l.WellknownListName
	}
	return nil
}

func (t *Task) field(path string) any {
	switch path {
	case "status":
		return t.Status
	case "importance":
		return t.Importance
	case "title":
		return t.Title
	case "createddatetime":
		return t.Created
	case "lastmodifieddatetime":
		return t.LastModified
	case "duedatetime/datetime":
		if t.Due.IsZero() {
			return nil
		}
		return t.Due
	}
	return nil
}

// utcDateTime is how To Do answers a date-time: UTC, seven decimals.
func utcDateTime(t time.Time) DateTimeTimeZone {
	return DateTimeTimeZone{DateTime: t.UTC().Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"}
}

func (t *Task) view() map[string]any {
	v := map[string]any{"@odata.etag": `W/"` + t.changeKey + `"`, "id": t.ID, "title": t.Title, "body": t.Body,
		"status": t.Status, "importance": t.Importance, "isReminderOn": false, "hasAttachments": false,
		"categories": t.Categories, "createdDateTime": t.Created.UTC().Format(time.RFC3339Nano),
		"lastModifiedDateTime":     t.LastModified.UTC().Format(time.RFC3339Nano),
		"bodyLastModifiedDateTime": t.LastModified.UTC().Format(time.RFC3339Nano)}
	if !t.Due.IsZero() {
		v["dueDateTime"] = utcDateTime(t.Due)
	}
	if !t.Completed.IsZero() {
		v["completedDateTime"] = utcDateTime(t.Completed)
	}
	return v
}

// AddTaskList adds a list to the person's To Do; the first one a mailbox
// gets is its default list ("Tasks").
func (mb *Mailbox) AddTaskList(name string) *TaskList {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	l := &TaskList{ID: StableID("AAMkAD", mb.Owner.ObjectID, "todo", name), DisplayName: name, IsOwner: true, WellknownListName: "none"}
	if len(mb.taskLists) == 0 {
		l.WellknownListName = "defaultList"
	}
	mb.taskLists = append(mb.taskLists, l)
	return l
}

// TaskLists are the person's To Do lists, the default one first.
func (mb *Mailbox) TaskLists() []*TaskList {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	return slices.Clone(mb.taskLists)
}

// AddTask adds a task to a list, filling what To Do derives.
func (mb *Mailbox) AddTask(l *TaskList, t *Task) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if t.ID == "" {
		t.ID = newID("AAMkAD")
	}
	if t.Status == "" {
		t.Status = "notStarted"
	}
	if t.Importance == "" {
		t.Importance = "normal"
	}
	if t.Body.ContentType == "" {
		t.Body.ContentType = "text"
	}
	if t.LastModified.IsZero() {
		t.LastModified = t.Created
	}
	if t.Categories == nil {
		t.Categories = []string{}
	}
	t.changeKey = newChangeKey()
	l.tasks = append(l.tasks, t)
}

// Tasks are a list's tasks.
func (mb *Mailbox) Tasks(l *TaskList) []*Task {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	return slices.Clone(l.tasks)
}

func (mb *Mailbox) taskListLocked(id string) (*TaskList, *apiError) {
	for _, l := range mb.taskLists {
		if l.ID == id {
			return l, nil
		}
	}
	return nil, &apiError{status: http.StatusNotFound, code: "ErrorItemNotFound", message: "The specified object was not found in the store."}
}

func (l *TaskList) taskLocked(id string) (*Task, *apiError) {
	for _, t := range l.tasks {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, &apiError{status: http.StatusNotFound, code: "ErrorItemNotFound", message: "The specified object was not found in the store."}
}

func (s *Server) listTaskLists(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, taskListType)
	if e != nil {
		e.write(w, r)
		return
	}
	mb.mu.RLock()
	var lists []*TaskList
	for _, l := range mb.taskLists {
		if lq.filter == nil || lq.filter.eval(l) {
			lists = append(lists, l)
		}
	}
	mb.mu.RUnlock()
	items, next := page(r, lists, lq, taskListType)
	writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/todo/lists", items, next, lq.selects, nil)
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	lq, e := parseListQuery(r, taskType)
	if e != nil {
		e.write(w, r)
		return
	}
	mb.mu.RLock()
	l, e := mb.taskListLocked(r.PathValue("list"))
	var views []map[string]any
	if e == nil {
		var tasks []*Task
		for _, t := range l.tasks {
			if lq.filter == nil || lq.filter.eval(t) {
				tasks = append(tasks, t)
			}
		}
		sortTasks(tasks, lq.orderby)
		tasks, next := page(r, tasks, lq, taskType)
		for _, t := range tasks {
			views = append(views, t.view())
		}
		mb.mu.RUnlock()
		writeCollection(w, r, "users('"+mb.Owner.ObjectID+"')/todo/lists('"+l.ID+"')/tasks", views, next, lq.selects, nil)
		return
	}
	mb.mu.RUnlock()
	e.write(w, r)
}

// sortTasks orders tasks as asked, else as To Do lists them: newest first.
func sortTasks(tasks []*Task, order []orderKey) {
	if len(order) == 0 {
		order = []orderKey{{prop: "createddatetime", desc: true}}
	}
	slices.SortStableFunc(tasks, func(a, b *Task) int {
		for _, k := range order {
			c, ok := compare(a.field(k.prop), b.field(k.prop))
			if !ok || c == 0 {
				continue
			}
			if k.desc {
				return -c
			}
			return c
		}
		return 0
	})
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	l, e := mb.taskListLocked(r.PathValue("list"))
	var t *Task
	if e == nil {
		t, e = l.taskLocked(r.PathValue("task"))
	}
	if e != nil {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, t.view())
}

// taskChange is a POST or PATCH body: what is present changes.
type taskChange struct {
	Title             *string                    `json:"title"`
	Body              *ItemBody                  `json:"body"`
	Status            *string                    `json:"status"`
	Importance        *string                    `json:"importance"`
	Categories        []string                   `json:"categories"`
	DueDateTime       optional[DateTimeTimeZone] `json:"dueDateTime"`
	CompletedDateTime optional[DateTimeTimeZone] `json:"completedDateTime"`
}

// optional tells a property that is absent from one set to null.
type optional[T any] struct {
	Set   bool
	Value *T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		return nil
	}
	o.Value = new(T)
	return json.Unmarshal(b, o.Value)
}

// apply checks a change and makes it, all or nothing.
func (c taskChange) apply(t *Task, now time.Time, patch bool) *apiError {
	invalid := func(msg string) *apiError { return badRequest("invalidRequest", "%s", msg) }
	next := *t
	if c.Title != nil {
		next.Title = *c.Title
	}
	if c.Body != nil {
		ct := strings.ToLower(c.Body.ContentType)
		switch {
		case ct == "":
			ct = "text"
		case ct != "text" && ct != "html":
			return invalid("Invalid value for body contentType.")
		}
		if patch && ct != "html" {
			// To Do updates bodies in HTML only.
			return invalid("Only HTML body content is supported for update.")
		}
		next.Body = ItemBody{ContentType: ct, Content: c.Body.Content}
	}
	if c.Importance != nil {
		if !slices.Contains(taskImportance, *c.Importance) {
			return invalid("Invalid value '" + *c.Importance + "' for importance.")
		}
		next.Importance = *c.Importance
	}
	if c.Status != nil {
		if !slices.Contains(taskStatuses, *c.Status) {
			return invalid("Invalid value '" + *c.Status + "' for status.")
		}
		next.Status = *c.Status
		if next.Status == "completed" && t.Status != "completed" {
			next.Completed = now
		} else if next.Status != "completed" {
			next.Completed = time.Time{}
		}
	}
	if c.Categories != nil {
		next.Categories = c.Categories
	}
	if c.DueDateTime.Set {
		next.Due = time.Time{}
		if v := c.DueDateTime.Value; v != nil {
			at, err := parseZoned(*v)
			if err != nil {
				return invalid("Invalid dueDateTime: " + err.Error() + ".")
			}
			// A due date is a day: the midnight of the zone it came in.
			next.Due = time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, at.Location())
		}
	}
	if c.CompletedDateTime.Set && c.CompletedDateTime.Value != nil {
		at, err := parseZoned(*c.CompletedDateTime.Value)
		if err != nil {
			return invalid("Invalid completedDateTime: " + err.Error() + ".")
		}
		next.Completed = at
	}
	if strings.TrimSpace(next.Title) == "" {
		return invalid("The task needs a title.")
	}
	next.LastModified = now
	next.changeKey = newChangeKey()
	*t = next
	return nil
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var c taskChange
	if !decodeBody(w, r, &c) {
		return
	}
	now := s.now().UTC()
	mb.mu.Lock()
	l, e := mb.taskListLocked(r.PathValue("list"))
	t := &Task{ID: newID("AAMkAD"), Status: "notStarted", Importance: "normal", Body: ItemBody{ContentType: "text"},
		Created: now, Categories: []string{}}
	if e == nil {
		if e = c.apply(t, now, false); e == nil {
			l.tasks = append(l.tasks, t)
		}
	}
	mb.mu.Unlock()
	if e != nil {
		e.write(w, r)
		return
	}
	w.Header().Set("Location", baseURL(r)+r.URL.Path+"/"+t.ID)
	writeJSON(w, http.StatusCreated, t.view())
}

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, mb *Mailbox) {
	var c taskChange
	if !decodeBody(w, r, &c) {
		return
	}
	mb.mu.Lock()
	l, e := mb.taskListLocked(r.PathValue("list"))
	var t *Task
	if e == nil {
		t, e = l.taskLocked(r.PathValue("task"))
	}
	if e == nil {
		if m := r.Header.Get("If-Match"); m != "" && m != `W/"`+t.changeKey+`"` {
			e = &apiError{status: http.StatusPreconditionFailed, code: "ErrorIrresolvableConflict",
				message: "The change key passed in the request does not match the current change key for the item."}
		} else {
			e = c.apply(t, s.now().UTC(), true)
		}
	}
	var v map[string]any
	if e == nil {
		v = t.view()
	}
	mb.mu.Unlock()
	if e != nil {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
