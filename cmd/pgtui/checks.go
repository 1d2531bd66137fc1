package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

type checksOpts struct {
	app    string
	asJSON bool
}

// newChecks is `pgtui checks`: the machines' health checks.
func newChecks(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "Show the health checks (vm, pg, role) of a cluster's machines",
	}
	var o checksOpts
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List every machine's health checks",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runChecksList(cmd.Context(), d, o)
		},
	}
	addAppFlag(list, &o.app, "the cluster whose checks to list")
	addJSONFlag(list, &o.asJSON)
	cmd.AddCommand(list)
	return cmd
}

// runChecksList prints the seed's `checks list`: one row per check, its
// output flowed into a 30-column OUTPUT cell.
func runChecksList(ctx context.Context, d *deps, o checksOpts) error {
	if err := requireApp(o.app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	cs, err := b.Checks(ctx, o.app)
	if err != nil {
		return fmt.Errorf("health checks of %s: %w", o.app, err)
	}
	if o.asJSON {
		return render.JSON(d.Out, cs)
	}
	now := d.now()
	rows := make([][]string, len(cs))
	for i, c := range cs {
		out := strings.Join(render.Wrap(strings.Join(c.Output, " "), render.CheckOutputWidth), "\n")
		rows[i] = []string{c.Name, c.Status, c.Machine, c.Region, "SCRIPT", lastUpdated(c.Updated, now), out}
	}
	return render.MultilineTable(d.Out, "Health Checks for "+o.app, rows, false,
		"Name", "Status", "Machine", "Region", "Type", "Last Updated", "Output")
}

// lastUpdated is "1m12s ago" within the hour, the time itself after.
func lastUpdated(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if age := now.Sub(t); age >= 0 && age < time.Hour {
		return age.Round(time.Second).String() + " ago"
	}
	return t.UTC().Format(time.RFC3339)
}

// checksBlock is the checks section of the seed's `vm status`: each
// check's output lines under ID SERVICE STATE OUTPUT, a blank line apart.
func checksBlock(w io.Writer, cs []backend.Check) error {
	rows := make([][]string, len(cs))
	for i, c := range cs {
		rows[i] = []string{c.Name, "app", c.Status, strings.Join(c.Output, "\n")}
	}
	return render.MultilineTable(w, "", rows, true, "ID", "Service", "State", "Output")
}
