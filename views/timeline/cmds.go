package timeline

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// statusMsg is a poll: the status and when it was answered.
type statusMsg struct {
	st  *backend.ClusterStatus
	at  time.Time
	err error
}

func fetch(b backend.Backend, cluster string, clock func() time.Time) func() tea.Msg {
	return views.Call(func(ctx context.Context) tea.Msg {
		st, err := b.Status(ctx, cluster)
		if err != nil {
			err = fmt.Errorf("status of %s: %w", cluster, err)
		}
		return statusMsg{st: st, at: clock(), err: err}
	})
}

// switched is a finished switchover with when it ended.
type switched struct {
	res *backend.FailoverResult
	at  time.Time
}

func switchover(b backend.Backend, id int, cluster string, clock func() time.Time) tea.Cmd {
	return views.RunTask(views.Task{ID: "switchover", PaneID: id,
		Start: "Switching over " + cluster + "…", Done: "Switchover of " + cluster + " done",
		Run: func(ctx context.Context) (any, error) {
			res, err := b.Failover(ctx, cluster)
			if err != nil {
				return nil, fmt.Errorf("switchover of %s: %w", cluster, err)
			}
			return switched{res: res, at: clock()}, nil
		}})
}

// drainMax bounds how many queued lines one message carries.
const drainMax = 256

// replayLines is how many past lines per machine the stream asks for.
// The pane keeps only those not older than its opening, but a few cover
// the lines logged between that moment and the backend's reading of the
// files (0 would ask for the backend's default of 100).
const replayLines = 20

// openLogs follows every machine's log lines until ctx ends.
func openLogs(b backend.Backend, cluster string) func(ctx context.Context) (<-chan backend.LogLine, error) {
	return func(ctx context.Context) (<-chan backend.LogLine, error) {
		ch, err := b.Logs(ctx, cluster, backend.LogFilter{Follow: true, Lines: replayLines})
		if err != nil {
			return nil, fmt.Errorf("logs of %s: %w", cluster, err)
		}
		return ch, nil
	}
}
