package backups

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

func list(b backend.Backend, cluster string) func(ctx context.Context) (*backend.BackupList, error) {
	return func(ctx context.Context) (*backend.BackupList, error) {
		l, err := b.ListBackups(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("backups of %s: %w", cluster, err)
		}
		return l, nil
	}
}

// backup takes a backup; the task ends with the backup's id.
func backup(b backend.Backend, id int, cluster, typ string) tea.Cmd {
	return views.RunTask(views.Task{ID: "backup", PaneID: id,
		Start: fmt.Sprintf("Taking a %s backup of %s…", typ, cluster),
		Done:  fmt.Sprintf("%s backup of %s done", typ, cluster),
		Run: func(ctx context.Context) (any, error) {
			events, err := b.CreateBackup(ctx, cluster, typ)
			if err != nil {
				return nil, fmt.Errorf("backup of %s: %w", cluster, err)
			}
			for ev := range events {
				if ev.Error != "" {
					return nil, fmt.Errorf("backup of %s: %s", cluster, ev.Error)
				}
				if ev.Done {
					return ev.ID, nil
				}
			}
			return nil, errors.New("backup of " + cluster + ": the stream ended early")
		}})
}

// restore deploys the new cluster and waits until it is deployed.
func restore(b backend.Backend, id int, req backend.RestoreRequest) tea.Cmd {
	return views.RunTask(views.Task{ID: "restore", PaneID: id,
		Start: fmt.Sprintf("Restoring %s into %s…", req.Source, req.Target),
		Done:  fmt.Sprintf("%s restored into %s", req.Source, req.Target),
		Run: func(ctx context.Context) (any, error) {
			events, err := b.Restore(ctx, req)
			if err != nil {
				return nil, fmt.Errorf("restore into %s: %w", req.Target, err)
			}
			for ev := range events {
				if ev.Error != "" {
					return nil, fmt.Errorf("restore into %s: %s", req.Target, ev.Error)
				}
				if ev.Done {
					return nil, nil
				}
			}
			return nil, errors.New("restore into " + req.Target + ": the deployment stream ended early")
		}})
}
