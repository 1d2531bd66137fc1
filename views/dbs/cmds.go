package dbs

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// list reads the cluster's databases.
func list(b backend.Backend, cluster string) func(ctx context.Context) ([]backend.Database, error) {
	return func(ctx context.Context) ([]backend.Database, error) {
		ds, err := b.ListDatabases(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("databases of %s: %w", cluster, err)
		}
		return ds, nil
	}
}

func create(b backend.Backend, id int, cluster, name string) tea.Cmd {
	return views.RunTask(views.Task{ID: "create-db", PaneID: id,
		Start: fmt.Sprintf("Creating database %s on %s…", name, cluster),
		Done:  fmt.Sprintf("Database %s created on %s", name, cluster),
		Run: func(ctx context.Context) (any, error) {
			if err := b.CreateDatabase(ctx, cluster, name); err != nil {
				return nil, fmt.Errorf("create database %s on %s: %w", name, cluster, err)
			}
			return nil, nil
		}})
}

func drop(b backend.Backend, id int, cluster, name string) tea.Cmd {
	return views.RunTask(views.Task{ID: "drop-db", PaneID: id,
		Start: fmt.Sprintf("Dropping database %s on %s…", name, cluster),
		Done:  fmt.Sprintf("Database %s dropped from %s", name, cluster),
		Run: func(ctx context.Context) (any, error) {
			if err := b.DropDatabase(ctx, cluster, name); err != nil {
				return nil, fmt.Errorf("drop database %s on %s: %w", name, cluster, err)
			}
			return nil, nil
		}})
}
