package main

import (
	"context"
	"fmt"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// appList is a `list` subcommand of one app's things (databases, users,
// secrets): -a APP, --json, else a flyctl table.
type appList[T any] struct {
	short   string // the help line
	of      string // what -a names: "the cluster", "the app"
	what    string // for errors: "<what> of APP"
	columns []string
	fetch   func(ctx context.Context, b backend.Backend, app string) ([]T, error)
	row     func(T) []string
}

func newAppList[T any](d *deps, l appList[T]) *cobra.Command {
	var (
		app    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   l.short,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return l.run(cmd.Context(), d, app, asJSON)
		},
	}
	addAppFlag(cmd, &app, l.of)
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func (l appList[T]) run(ctx context.Context, d *deps, app string, asJSON bool) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	items, err := l.fetch(ctx, b, app)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", l.what, app, err)
	}
	if asJSON {
		return render.JSON(d.Out, items)
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = l.row(it)
	}
	return render.Table(d.Out, "", rows, l.columns...)
}
