package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newMachine is `pgtui machine` (alias vm): one cluster's machines.
func newMachine(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "machine",
		Aliases: []string{"vm"},
		Short:   "List, inspect, start, stop, restart and kill machines",
	}
	cmd.AddCommand(newMachineList(d), newMachineStatus(d))
	// The lifecycle verbs differ only in their words, so they are data.
	for _, a := range []struct {
		act         backend.MachineAction
		short, done string
	}{
		{backend.ActionStart, "Start a stopped machine", "started"},
		{backend.ActionStop, "Stop a machine (a stopped leader hands over first)", "stopped"},
		{backend.ActionRestart, "Restart a machine's processes", "restarted"},
		{backend.ActionKill, "Kill a machine's processes; its supervisor restarts them", "killed"},
	} {
		cmd.AddCommand(newMachineAction(d, a.act, a.short, a.done))
	}
	return cmd
}

type machineOpts struct {
	app    string
	asJSON bool
}

func newMachineList(d *deps) *cobra.Command {
	var o machineOpts
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List a cluster's machines",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMachineList(cmd.Context(), d, o)
		},
	}
	addAppFlag(cmd, &o.app, "the cluster whose machines to list")
	addJSONFlag(cmd, &o.asJSON)
	return cmd
}

func runMachineList(ctx context.Context, d *deps, o machineOpts) error {
	if err := requireApp(o.app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	st, err := b.Status(ctx, o.app)
	if err != nil {
		return fmt.Errorf("machines of %s: %w", o.app, err)
	}
	if o.asJSON {
		return render.JSON(d.Out, st.Machines)
	}
	rows := make([][]string, len(st.Machines))
	for i, m := range st.Machines {
		rows[i] = []string{m.ID, render.MachineState(m), m.Region, m.VMSize, m.PrivateIP,
			render.HealthChecks(m.Checks), strconv.Itoa(m.Restarts), createdText(m.Created)}
	}
	return render.Table(d.Out, "", rows, "ID", "Status", "Region", "VM Size", "Private IP", "Health Checks", "Restarts", "Created")
}

func newMachineStatus(d *deps) *cobra.Command {
	var o machineOpts
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a machine and its recent events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMachineStatus(cmd.Context(), d, o, args[0])
		},
	}
	addAppFlag(cmd, &o.app, "the cluster the machine belongs to")
	addJSONFlag(cmd, &o.asJSON)
	return cmd
}

// runMachineStatus prints the seed's `vm status` block, event table and
// health checks.
func runMachineStatus(ctx context.Context, d *deps, o machineOpts, id string) error {
	if err := requireApp(o.app); err != nil {
		return err
	}
	if err := validateMachineID(id); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	m, err := b.MachineStatus(ctx, o.app, id)
	if err != nil {
		return fmt.Errorf("machine %s of %s: %w", id, o.app, err)
	}
	all, err := b.Checks(ctx, o.app)
	if err != nil {
		return fmt.Errorf("health checks of machine %s of %s: %w", id, o.app, err)
	}
	cs := []backend.Check{}
	for _, c := range all {
		if c.Machine == id {
			cs = append(cs, c)
		}
	}
	if o.asJSON {
		return render.JSON(d.Out, struct {
			*backend.MachineDetail
			HealthChecks []backend.Check `json:"health_checks"`
		}{m, cs})
	}
	err = render.VerticalTable(d.Out, "", [][2]string{
		{"ID", m.ID}, {"Version", strconv.Itoa(m.Version)}, {"Region", m.Region}, {"Desired", m.Desired},
		{"Status", render.MachineState(m.MachineStatus)}, {"Health Checks", render.HealthChecks(m.Checks)},
		{"Restarts", strconv.Itoa(m.Restarts)}, {"Created", createdText(m.Created)},
	})
	if err != nil {
		return err
	}
	rows := make([][]string, len(m.Events))
	for i, e := range m.Events {
		rows[i] = []string{e.Time.UTC().Format(time.RFC3339), e.Type, e.Message}
	}
	d.printf("\n")
	if err := render.Table(d.Out, "Recent Events", rows, "Timestamp", "Type", "Message"); err != nil || len(cs) == 0 {
		return err
	}
	d.printf("\n")
	return checksBlock(d.Out, cs)
}

func newMachineAction(d *deps, act backend.MachineAction, short, done string) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   string(act) + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMachineAction(cmd.Context(), d, app, args[0], act, done)
		},
	}
	addAppFlag(cmd, &app, "the cluster the machine belongs to")
	return cmd
}

func runMachineAction(ctx context.Context, d *deps, app, id string, act backend.MachineAction, done string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	if err := validateMachineID(id); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.MachineAction(ctx, app, id, act); err != nil {
		return fmt.Errorf("%s machine %s of %s: %w", act, id, app, err)
	}
	d.printf("Machine %s %s\n", id, done)
	return nil
}
