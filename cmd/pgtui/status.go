package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

type statusOpts struct {
	app    string
	asJSON bool
}

// newStatus is `pgtui status -a NAME`.
func newStatus(d *deps) *cobra.Command {
	return statusCommand(d, "Show a cluster's deployment and machines")
}

// statusCommand builds `status`; `postgres status` is the same command
// under the postgres group, as in flyctl.
func statusCommand(d *deps, short string) *cobra.Command {
	var o statusOpts
	cmd := &cobra.Command{
		Use:   "status",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), d, o)
		},
	}
	addAppFlag(cmd, &o.app, "the cluster to show")
	addJSONFlag(cmd, &o.asJSON)
	return cmd
}

func runStatus(ctx context.Context, d *deps, o statusOpts) error {
	if err := requireApp(o.app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	st, err := b.Status(ctx, o.app)
	if err != nil {
		return fmt.Errorf("status of %s: %w", o.app, err)
	}
	if o.asJSON {
		return render.JSON(d.Out, st)
	}
	return printStatus(d.Out, st)
}

// printStatus is the seed's `flyctl status`: the app block, the
// deployment block, then one row per machine.
func printStatus(w io.Writer, st *backend.ClusterStatus) error {
	rows := [][2]string{
		{"Name", st.Name}, {"Owner", st.Org}, {"Version", strconv.Itoa(st.Version)},
		{"Status", st.Status}, {"Hostname", st.Hostname},
	}
	if st.ReadOnly {
		rows = append(rows, [2]string{"Mode", "read-only, " + st.ReadOnlyReason})
	}
	err := render.VerticalTable(w, "", rows)
	if err != nil {
		return err
	}
	dep := st.Deployment
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	err = render.VerticalTable(w, "Deployment Status", [][2]string{
		{"Version", "v" + strconv.Itoa(dep.Version)}, {"Status", dep.Status},
		{"Description", dep.Description}, {"Instances", render.Instances(dep)},
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	if st.Platform == "hosts" {
		return hostTable(w, st.Machines)
	}
	return machineTable(w, st.Machines)
}

// hostTable is the machine rows of a cluster on external hosts: each
// member's address instead of a region, no restarts or creation time
// (the engine that runs the nodes keeps those).
func hostTable(w io.Writer, ms []backend.MachineStatus) error {
	rows := make([][]string, len(ms))
	for i, m := range ms {
		role := m.Role
		if role == "" {
			role = "-"
		}
		rows[i] = []string{m.ID, strconv.Itoa(m.Version), m.PrivateIP, role, m.State, render.HealthChecks(m.Checks)}
	}
	return render.Table(w, "", rows, "ID", "Version", "Address", "Role", "Status", "Health Checks")
}

// machineTable is the seed's machine rows, with flyctl's headers.
func machineTable(w io.Writer, ms []backend.MachineStatus) error {
	rows := make([][]string, len(ms))
	for i, m := range ms {
		rows[i] = []string{m.ID, strconv.Itoa(m.Version), m.Region, m.Desired, render.MachineState(m),
			render.HealthChecks(m.Checks), strconv.Itoa(m.Restarts), m.Created.UTC().Format(time.RFC3339)}
	}
	return render.Table(w, "", rows, "ID", "Version", "Region", "Desired", "Status", "Health Checks", "Restarts", "Created")
}

// createdText is a machine's creation time, "-" when the platform does
// not know it (members of external clusters).
func createdText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
