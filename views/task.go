package views

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// TaskTimeout bounds one mutation (a failover or destroy included).
const TaskTimeout = 5 * time.Minute

// TaskStartMsg shows a running task (with a spinner) in the status line.
// Cancel, when set, ends the task's context: the shell's cancel key
// calls it.
type TaskStartMsg struct {
	ID, Text string
	Cancel   context.CancelFunc
}

// TaskDoneMsg ends a task: the status line shows Text, or Err when it
// failed. Result, when set, is then routed to the pane that started it.
type TaskDoneMsg struct {
	ID, Text string
	Err      error
	Result   tea.Msg
}

// TaskResult is what a task's pane receives (inside a ResultMsg) when
// the task ends.
type TaskResult struct {
	ID    string
	Value any
	Err   error
}

// Task is a mutation with the words the user sees while it runs and
// after (gh-dash's tasks). Run does the backend call.
type Task struct {
	ID     string
	Start  string
	Done   string
	PaneID int
	Run    func(ctx context.Context) (any, error)
}

// RunTask announces the task, runs it off the update loop and reports
// how it ended; the user may cancel it meanwhile.
func RunTask(t Task) tea.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), TaskTimeout)
	start := func() tea.Msg { return TaskStartMsg{ID: t.ID, Text: t.Start, Cancel: cancel} }
	run := func() tea.Msg {
		defer cancel()
		v, err := t.Run(ctx)
		if err != nil && errors.Is(ctx.Err(), context.Canceled) {
			err = fmt.Errorf("cancelled: %w", err)
		}
		done := TaskDoneMsg{ID: t.ID, Text: t.Done, Err: err}
		if t.PaneID != 0 {
			done.Result = ResultMsg{PaneID: t.PaneID, Msg: TaskResult{ID: t.ID, Value: v, Err: err}}
		}
		return done
	}
	return tea.Sequence(start, run)
}
