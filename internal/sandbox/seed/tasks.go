package seed

import (
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

// tasks gives every person To Do's default Tasks list, and alex and jo
// lists with tasks in them: open and done, due soon, overdue and undated,
// some with notes. Due dates are midnights of the person's own zone, as
// To Do keeps them.
func (g *gen) tasks() {
	main := g.mb.AddTaskList("Tasks")
	loc, ok := directory.Location(g.p.TimeZone)
	if !ok {
		loc = time.UTC
	}
	local := g.anchor.In(loc)
	day := func(offset int) time.Time {
		return time.Date(local.Year(), local.Month(), local.Day()+offset, 0, 0, 0, 0, loc)
	}
	add := func(l *graph.TaskList, t graph.Task, createdDaysAgo int) {
		t.ID = g.id("task")
		t.Created = g.anchor.AddDate(0, 0, -createdDaysAgo)
		if t.Status == "completed" {
			t.Completed = g.anchor.AddDate(0, 0, -createdDaysAgo/2)
		}
		g.mb.AddTask(l, &t)
	}
	note := func(text string) graph.ItemBody { return graph.ItemBody{ContentType: "text", Content: text} }
	switch g.p.UPN {
	case "alex@contoso.test":
		add(main, graph.Task{Title: "Send the Q4 budget to Dana", Importance: "high", Due: day(1),
			Body: note("Numbers from the finance review; Dana wants them before the board meeting.")}, 6)
		add(main, graph.Task{Title: "Book travel for the Seattle offsite", Due: day(7)}, 5)
		add(main, graph.Task{Title: "Review Nina's design doc", Due: day(-2), Status: "inProgress",
			Body: graph.ItemBody{ContentType: "html", Content: "<p>Sections <b>3 and 4</b> still open.</p>"}}, 9)
		add(main, graph.Task{Title: "Renew the parking permit"}, 12)
		add(main, graph.Task{Title: "Submit expense report", Status: "completed", Due: day(-5)}, 20)
		launch := g.mb.AddTaskList("Q1 launch")
		add(launch, graph.Task{Title: "Draft the launch announcement", Due: day(14), Importance: "high"}, 3)
		add(launch, graph.Task{Title: "Line up customer quotes", Due: day(21)}, 3)
		add(launch, graph.Task{Title: "Pick the launch date", Status: "completed"}, 15)
	case "jo@outlook.test":
		add(main, graph.Task{Title: "Call the plumber", Due: day(0), Importance: "high"}, 2)
		add(main, graph.Task{Title: "Pay the electricity bill", Due: day(3)}, 4)
		add(main, graph.Task{Title: "Return library books", Status: "completed"}, 10)
		groceries := g.mb.AddTaskList("Groceries")
		for _, item := range []string{"Oat milk", "Coffee beans", "Lemons", "Bread"} {
			add(groceries, graph.Task{Title: item}, 1)
		}
	}
}
