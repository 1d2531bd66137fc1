package status

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// fetch reads the cluster's status.
func fetch(b backend.Backend, cluster string) func(ctx context.Context) (*backend.ClusterStatus, error) {
	return func(ctx context.Context) (*backend.ClusterStatus, error) {
		st, err := b.Status(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", cluster, err)
		}
		return st, nil
	}
}

// Task ids: the pane reacts to a finished destroy by closing.
const (
	taskDestroy = "destroy"
	taskOther   = "action"
)

func restart(b backend.Backend, id int, cluster string) tea.Cmd {
	return views.RunTask(views.Task{ID: taskOther, PaneID: id,
		Start: "Restarting " + cluster + "…", Done: "Restarted " + cluster,
		Run: func(ctx context.Context) (any, error) {
			return nil, wrap("restart "+cluster, b.Restart(ctx, cluster))
		}})
}

func scale(b backend.Backend, id int, cluster string, count int) tea.Cmd {
	return views.RunTask(views.Task{ID: taskOther, PaneID: id,
		Start: fmt.Sprintf("Scaling %s to %d machines…", cluster, count),
		Done:  fmt.Sprintf("Scaled %s to %d machines", cluster, count),
		Run: func(ctx context.Context) (any, error) {
			return nil, wrap(fmt.Sprintf("scale %s to %d", cluster, count), b.ScaleCount(ctx, cluster, count, ""))
		}})
}

func machineAction(b backend.Backend, id int, cluster, machine string, act backend.MachineAction) tea.Cmd {
	what := fmt.Sprintf("%s machine %s", act, machine)
	return views.RunTask(views.Task{ID: taskOther, PaneID: id,
		Start: fmt.Sprintf("Sending %s to machine %s…", act, machine),
		Done:  fmt.Sprintf("Machine %s: %s done", machine, act),
		Run: func(ctx context.Context) (any, error) {
			return nil, wrap(what, b.MachineAction(ctx, cluster, machine, act))
		}})
}

func destroy(b backend.Backend, id int, cluster string) tea.Cmd {
	return views.RunTask(views.Task{ID: taskDestroy, PaneID: id,
		Start: "Destroying " + cluster + "…", Done: "Destroyed " + cluster,
		Run: func(ctx context.Context) (any, error) {
			return nil, wrap("destroy "+cluster, b.DestroyCluster(ctx, cluster))
		}})
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
