package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pgtui/pgtui/backend"
	"github.com/spf13/cobra"
)

// newScale is `pgtui scale vm|count`.
func newScale(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scale",
		Short: "Change a cluster's VM size or machine count",
	}
	cmd.AddCommand(newScaleVM(d), newScaleCount(d))
	return cmd
}

func newScaleVM(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "vm SIZE",
		Short: "Change the VM size of every machine (rolling, leader last)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScaleVM(cmd.Context(), d, app, args[0])
		},
	}
	addAppFlag(cmd, &app, "the cluster to scale")
	return cmd
}

func runScaleVM(ctx context.Context, d *deps, app, size string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	vm, err := backend.LookupVMSize(size)
	if err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.ScaleVM(ctx, app, size); err != nil {
		return fmt.Errorf("scale %s to %s: %w", app, size, err)
	}
	d.printf("Scaled VM Type to %s\n%15s: %d\n%15s: %s\n", vm.Name, "CPU Cores", vm.CPUs, "Memory", memory(vm.MemoryMB))
	return nil
}

// memory prints MB the way flyctl does: "2 GB", "256 MB".
func memory(mb int) string {
	switch {
	case mb >= 1024 && mb%1024 == 0:
		return fmt.Sprintf("%d GB", mb/1024)
	case mb >= 1024:
		return fmt.Sprintf("%.1f GB", float64(mb)/1024)
	}
	return fmt.Sprintf("%d MB", mb)
}

func newScaleCount(d *deps) *cobra.Command {
	var app, region string
	cmd := &cobra.Command{
		Use:   "count K",
		Short: "Change the number of machines (adds replicas or removes them, never the leader)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScaleCount(cmd.Context(), d, app, args[0], region)
		},
	}
	addAppFlag(cmd, &app, "the cluster to scale")
	cmd.Flags().StringVarP(&region, "region", "r", "", "the region of new machines (default: the cluster's)")
	return cmd
}

func runScaleCount(ctx context.Context, d *deps, app, arg, region string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	count, err := strconv.Atoi(arg)
	if err != nil {
		return fmt.Errorf("count %q is not a whole number", arg)
	}
	// Zero machines would be a cluster with no leader and no data: that is
	// `postgres destroy`, not scaling.
	if count < 1 {
		return fmt.Errorf("count %d refused: a cluster needs at least 1 machine (to remove it, use `pgtui postgres destroy %s`)", count, app)
	}
	if err := backend.ValidateClusterSize(count); err != nil {
		return err
	}
	if region != "" {
		if _, err := backend.LookupRegion(region); err != nil {
			return err
		}
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.ScaleCount(ctx, app, count, region); err != nil {
		return fmt.Errorf("scale %s to %d machines: %w", app, count, err)
	}
	d.printf("Count changed to %d\n", count)
	return nil
}
