package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newApps is `pgtui apps create|list|destroy|env`: apps hold secrets
// and are what clusters get attached to.
func newApps(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Manage apps (and see postgres clusters among them)",
	}
	cmd.AddCommand(newAppsCreate(d), newAppsList(d), newAppsDestroy(d), newAppsEnv(d))
	return cmd
}

func newAppsCreate(d *deps) *cobra.Command {
	var org string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an app",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAppsCreate(cmd.Context(), d, args[0], org)
		},
	}
	cmd.Flags().StringVarP(&org, "org", "o", defaultOrg, "the organization to create it in")
	return cmd
}

func runAppsCreate(ctx context.Context, d *deps, name, org string) error {
	if err := backend.ValidateName(name); err != nil {
		return err
	}
	if err := backend.ValidateName(org); err != nil {
		return fmt.Errorf("--org: %w", err)
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.CreateApp(ctx, name, org); err != nil {
		return fmt.Errorf("create app %s: %w", name, err)
	}
	d.printf("New app created: %s\n", name)
	return nil
}

func newAppsList(d *deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List apps and postgres clusters",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAppsList(cmd.Context(), d, asJSON)
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func runAppsList(ctx context.Context, d *deps, asJSON bool) error {
	b, err := d.backend()
	if err != nil {
		return err
	}
	apps, err := b.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("list apps: %w", err)
	}
	if asJSON {
		return render.JSON(d.Out, apps)
	}
	rows := make([][]string, len(apps))
	for i, a := range apps {
		kind := "app"
		if a.Postgres {
			kind = "postgres"
		}
		rows[i] = []string{a.Name, a.Org, kind, a.Created.UTC().Format(time.RFC3339)}
	}
	return render.Table(d.Out, "", rows, "Name", "Owner", "Type", "Created")
}

func newAppsDestroy(d *deps) *cobra.Command {
	var (
		app string
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "destroy [NAME]",
		Short: "Destroy an app (detaching it first) or a postgres cluster",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, app)
			if err != nil {
				return err
			}
			return runAppsDestroy(cmd.Context(), d, name, yes)
		},
	}
	addAppFlag(cmd, &app, "the app to destroy")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "destroy without asking")
	return cmd
}

func runAppsDestroy(ctx context.Context, d *deps, name string, yes bool) error {
	if err := d.confirmDestroy("app", name, yes); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.DestroyApp(ctx, name); err != nil {
		return fmt.Errorf("destroy %s: %w", name, err)
	}
	d.printf("Destroyed app %s\n", name)
	return nil
}

func newAppsEnv(d *deps) *cobra.Command {
	var (
		app    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "env [APP]",
		Short: "Print an app's secrets as shell exports, with hosts reachable from this machine",
		Long: `Print the app's secrets as export lines for a shell, e.g.
  eval "$(pgtui apps env myapp)"
Connection strings naming <cluster>.internal are rewritten to an address that
works from this machine.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, app)
			if err != nil {
				return err
			}
			return runAppsEnv(cmd.Context(), d, name, asJSON)
		},
	}
	addAppFlag(cmd, &app, "the app")
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func runAppsEnv(ctx context.Context, d *deps, app string, asJSON bool) error {
	b, err := d.backend()
	if err != nil {
		return err
	}
	env, err := b.AppEnv(ctx, app)
	if err != nil {
		return fmt.Errorf("environment of %s: %w", app, err)
	}
	if asJSON {
		return render.JSON(d.Out, env)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.printf("export %s=%s\n", k, shellQuote(env[k]))
	}
	return nil
}

// shellQuote single-quotes v for POSIX shells; a quote inside is closed,
// escaped and reopened.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
