package mcpserver_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"graphgate/internal/apptest"
	"graphgate/internal/sandbox"
	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

type taskJSON struct {
	ID, Title, Status, Importance, Due, Completed, Note string
}

type tasksJSON struct {
	ListID     string `json:"list_id"`
	Tasks      []taskJSON
	NextCursor string `json:"next_cursor"`
}

// The tasks capability: To Do lists and tasks, for work and personal
// accounts, due dates as days in the person's zone.
func TestTasks(t *testing.T) { onEachDatabase(t, testTasks) }

func testTasks(t *testing.T, env map[string]string) {
	l := apptest.StartWithSandbox(t, env, sandbox.Options{})
	alex := l.SignInAndLink(t, "alex@contoso.test")
	token := agentToken(t, l, alex, false)
	if res := call(t, connect(t, l, token, ""), "list_tasks", nil, nil); !res.IsError || !strings.Contains(errorText(res), "tasks capability") {
		t.Fatalf("list_tasks while off: %s", errorText(res))
	}
	setCapabilities(t, l, "tasks")
	l.AllowMore(t, signedIn(t, l, "alex@contoso.test"), "alex@contoso.test", "accept")
	s := connect(t, l, token, "")
	for _, name := range []string{"list_task_lists", "list_tasks", "create_task", "update_task"} {
		if !slices.Contains(toolNames(t, s), name) {
			t.Fatalf("%s not listed once granted", name)
		}
	}
	mb := sandboxMailbox(t, l, "alex@contoso.test")
	berlin, _ := directory.Location("W. Europe Standard Time")
	today := time.Now().In(berlin)
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format(time.DateOnly) }

	var lists struct {
		Lists []struct {
			ID, Name string
			Default  bool
		}
	}
	mustCall(t, s, "list_task_lists", nil, &lists)
	if len(lists.Lists) != 2 || lists.Lists[0].Name != "Tasks" || !lists.Lists[0].Default || lists.Lists[1].Name != "Q1 launch" || lists.Lists[1].Default {
		t.Fatalf("alex's lists: %+v", lists)
	}

	// Open tasks of the main list, newest first; the due date is the day in
	// alex's zone (To Do answers with 23:00 UTC the day before).
	var open tasksJSON
	res := mustCall(t, s, "list_tasks", nil, &open)
	if len(open.Tasks) != 4 || open.ListID != lists.Lists[0].ID || slices.ContainsFunc(open.Tasks, func(x taskJSON) bool { return x.Status == "completed" }) {
		t.Fatalf("open tasks: %+v", open)
	}
	budget := open.Tasks[slices.IndexFunc(open.Tasks, func(x taskJSON) bool { return strings.HasPrefix(x.Title, "Send the Q4 budget") })]
	if budget.Due != day(1) || budget.Importance != "high" || !strings.Contains(budget.Note, "board meeting") {
		t.Fatalf("the budget task: %+v (tomorrow is %s)", budget, day(1))
	}
	review := open.Tasks[slices.IndexFunc(open.Tasks, func(x taskJSON) bool { return strings.HasPrefix(x.Title, "Review") })]
	if review.Note != "Sections **3 and 4** still open." || review.Due != day(-2) {
		t.Fatalf("an HTML note as Markdown: %+v", review)
	}
	if text := errorText(res); !strings.Contains(text, "| due "+day(1)+" | high") || strings.Contains(text, `"title"`) {
		t.Fatalf("the text rendering:\n%s", text)
	}
	var done tasksJSON
	mustCall(t, s, "list_tasks", map[string]any{"status": "completed", "list_id": lists.Lists[1].ID}, &done)
	if len(done.Tasks) != 1 || done.Tasks[0].Title != "Pick the launch date" {
		t.Fatalf("completed tasks in Q1 launch: %+v", done)
	}

	// A new task with a due date: To Do keeps alex's midnight.
	var created struct {
		ListID string `json:"list_id"`
		Task   taskJSON
	}
	mustCall(t, s, "create_task", map[string]any{"title": "Order the cake", "due_date": "2027-01-15", "importance": "high",
		"note": "Chocolate, <b>not</b> lemon\nfor 12 people"}, &created)
	if created.Task.Due != "2027-01-15" || created.Task.Importance != "high" || created.Task.Status != "notStarted" ||
		!strings.Contains(created.Task.Note, "Chocolate, <b>not</b> lemon") {
		t.Fatalf("created: %+v", created)
	}
	stored := findTask(t, mb, created.Task.ID)
	if due := stored.Due.In(berlin); due.Format(time.DateOnly) != "2027-01-15" || due.Hour() != 0 ||
		stored.Body.Content != "Chocolate, &lt;b&gt;not&lt;/b&gt; lemon<br>for 12 people" {
		t.Fatalf("stored: due %v, body %q", stored.Due, stored.Body.Content)
	}

	// Completed, reopened, undated.
	var updated struct{ Task taskJSON }
	mustCall(t, s, "update_task", map[string]any{"id": created.Task.ID, "completed": true}, &updated)
	if updated.Task.Status != "completed" || updated.Task.Completed != day(0) {
		t.Fatalf("completed: %+v", updated.Task)
	}
	var reopened struct{ Task taskJSON }
	mustCall(t, s, "update_task", map[string]any{"id": created.Task.ID, "completed": false, "due_date": "none", "title": "Order the birthday cake"}, &reopened)
	if updated = reopened; updated.Task.Status != "notStarted" || updated.Task.Completed != "" || updated.Task.Due != "" || updated.Task.Title != "Order the birthday cake" {
		t.Fatalf("reopened: %+v", updated.Task)
	}

	// Bad input changes nothing and says what is wrong; Microsoft's
	// refusals come through in words.
	for _, tc := range []struct {
		tool string
		args map[string]any
		says string
	}{
		{"list_tasks", map[string]any{"status": "later"}, "status must be"},
		{"list_tasks", map[string]any{"list_id": "../../me/messages"}, "list_id must be"},
		{"list_tasks", map[string]any{"list_id": "AAMkADnotalist"}, "not found"},
		{"create_task", map[string]any{"title": " "}, "title"},
		{"create_task", map[string]any{"title": "x", "due_date": "tomorrow"}, "YYYY-MM-DD"},
		{"create_task", map[string]any{"title": "two\nlines"}, "one line"},
		{"create_task", map[string]any{"title": "x", "importance": "urgent"}, "importance"},
		{"update_task", map[string]any{"id": created.Task.ID}, "at least one"},
		{"update_task", map[string]any{"id": "a/b", "title": "x"}, "task id"},
		{"update_task", map[string]any{"id": "AAMkADnotatask", "title": "x"}, "not found"},
	} {
		if res := call(t, s, tc.tool, tc.args, nil); !res.IsError || !strings.Contains(errorText(res), tc.says) {
			t.Errorf("%s %v: %s", tc.tool, tc.args, errorText(res))
		}
	}
	if got := findTask(t, mb, created.Task.ID); got.Title != "Order the birthday cake" {
		t.Errorf("a refused update changed the task: %+v", got)
	}

	// A personal account has To Do too (linking now, it is asked for it at
	// once); its cursors are its own.
	jo := l.SignInAndLink(t, "jo@outlook.test")
	js := connect(t, l, agentToken(t, l, jo, false), "")
	mustCall(t, js, "list_task_lists", nil, &lists)
	groceries := lists.Lists[slices.IndexFunc(lists.Lists, func(x struct {
		ID, Name string
		Default  bool
	}) bool {
		return x.Name == "Groceries"
	})].ID
	var page1, page2 tasksJSON
	mustCall(t, js, "list_tasks", map[string]any{"list_id": groceries, "page_size": 3}, &page1)
	if len(page1.Tasks) != 3 || page1.NextCursor == "" {
		t.Fatalf("jo's groceries, page 1: %+v", page1)
	}
	if res := call(t, s, "list_tasks", map[string]any{"cursor": page1.NextCursor}, nil); !res.IsError {
		t.Error("alex continued jo's listing")
	}
	mustCall(t, js, "list_tasks", map[string]any{"cursor": page1.NextCursor}, &page2)
	if len(page2.Tasks) != 1 || page2.ListID != groceries || page2.NextCursor != "" {
		t.Fatalf("jo's groceries, page 2: %+v", page2)
	}
	sydney, _ := directory.Location("AUS Eastern Standard Time")
	var joTasks tasksJSON
	mustCall(t, js, "list_tasks", nil, &joTasks)
	if i := slices.IndexFunc(joTasks.Tasks, func(x taskJSON) bool { return x.Title == "Call the plumber" }); i < 0 ||
		joTasks.Tasks[i].Due != time.Now().In(sydney).Format(time.DateOnly) {
		t.Fatalf("jo's plumber is due today in Sydney: %+v", joTasks)
	}
}

func findTask(t *testing.T, mb *graph.Mailbox, id string) *graph.Task {
	t.Helper()
	for _, l := range mb.TaskLists() {
		for _, task := range mb.Tasks(l) {
			if task.ID == id {
				return task
			}
		}
	}
	t.Fatalf("no task %s in the sandbox", id)
	return nil
}
