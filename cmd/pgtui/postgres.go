package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newPostgres is `pgtui postgres` (alias pg); its subcommands are wired
// as data, as flyctl's postgres.go does.
func newPostgres(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "postgres",
		Aliases: []string{"pg"},
		Short:   "Create and operate highly available PostgreSQL clusters",
	}
	for _, f := range []func(*deps) *cobra.Command{
		newPostgresCreate, newPostgresList, newPostgresStatus, newPostgresUsers, newPostgresDB,
		newPostgresAttach, newPostgresDetach, newPostgresFailover, newPostgresRestart, newPostgresDestroy, newPostgresConfig, newPostgresMetrics, newPostgresConnect,
		newPostgresBackup, newPostgresRestore,
	} {
		cmd.AddCommand(f(d))
	}
	return cmd
}

func newPostgresStatus(d *deps) *cobra.Command {
	return statusCommand(d, "Show a cluster's deployment and machines (same as `pgtui status`)")
}

func newPostgresList(d *deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List PostgreSQL clusters",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPostgresList(cmd.Context(), d, asJSON)
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func runPostgresList(ctx context.Context, d *deps, asJSON bool) error {
	b, err := d.backend()
	if err != nil {
		return err
	}
	cs, err := b.ListClusters(ctx)
	if err != nil {
		return fmt.Errorf("list clusters: %w", err)
	}
	if asJSON {
		return render.JSON(d.Out, cs)
	}
	rows := make([][]string, len(cs))
	for i, c := range cs {
		rows[i] = []string{c.Name, c.Org, c.Region, c.State, c.Leader, fmt.Sprintf("%d/%d", c.Healthy, c.Machines)}
	}
	return render.Table(d.Out, "", rows, "Name", "Owner", "Region", "Status", "Leader", "Healthy")
}

func newPostgresFailover(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "failover",
		Short: "Hand leadership to a replica that holds every acknowledged commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFailover(cmd.Context(), d, app)
		},
	}
	addAppFlag(cmd, &app, "the cluster to fail over")
	return cmd
}

func runFailover(ctx context.Context, d *deps, app string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	d.printf("Performing a failover of %s\n", app)
	res, err := b.Failover(ctx, app)
	if err != nil {
		return fmt.Errorf("failover of %s: %w", app, err)
	}
	d.printf("Failover complete: %s is the new leader (was %s), took %s\n", res.NewLeader, res.OldLeader, res.Took.Round(time.Millisecond))
	return nil
}

func newPostgresRestart(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "restart",
		Short: "Restart every machine, replicas first and the leader after a failover",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestart(cmd.Context(), d, app)
		},
	}
	addAppFlag(cmd, &app, "the cluster to restart")
	return cmd
}

func runRestart(ctx context.Context, d *deps, app string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	d.printf("Restarting %s\n", app)
	if err := b.Restart(ctx, app); err != nil {
		return fmt.Errorf("restart %s: %w", app, err)
	}
	d.printf("Cluster %s restarted\n", app)
	return nil
}

func newPostgresDestroy(d *deps) *cobra.Command {
	var (
		app string
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "destroy [NAME]",
		Short: "Destroy a cluster with its machines and volumes",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, app)
			if err != nil {
				return err
			}
			return runPostgresDestroy(cmd.Context(), d, name, yes)
		},
	}
	addAppFlag(cmd, &app, "the cluster to destroy")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "destroy without asking")
	return cmd
}

func runPostgresDestroy(ctx context.Context, d *deps, name string, yes bool) error {
	if err := d.confirmDestroy("postgres cluster", name, yes); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.DestroyCluster(ctx, name); err != nil {
		return fmt.Errorf("destroy %s: %w", name, err)
	}
	d.printf("Destroyed postgres cluster %s\n", name)
	return nil
}
