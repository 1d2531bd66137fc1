package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newPostgresDB is `pgtui postgres db list|create|delete` (alias databases).
func newPostgresDB(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "db",
		Aliases: []string{"databases"},
		Short:   "Manage a cluster's databases",
	}
	cmd.AddCommand(newDBList(d), newDBCreate(d), newDBDelete(d))
	return cmd
}

func newDBList(d *deps) *cobra.Command {
	var (
		app    string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List a cluster's databases and the users that can reach them",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBList(cmd.Context(), d, app, asJSON)
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func runDBList(ctx context.Context, d *deps, app string, asJSON bool) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	dbs, err := b.ListDatabases(ctx, app)
	if err != nil {
		return fmt.Errorf("databases of %s: %w", app, err)
	}
	if asJSON {
		return render.JSON(d.Out, dbs)
	}
	rows := make([][]string, len(dbs))
	for i, db := range dbs {
		rows[i] = []string{db.Name, strings.Join(db.Users, ",")}
	}
	return render.Table(d.Out, "", rows, "Name", "Users")
}

func newDBCreate(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a database",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDBCreate(cmd.Context(), d, app, args[0])
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	return cmd
}

func runDBCreate(ctx context.Context, d *deps, app, name string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	if err := backend.ValidateIdentifier(name); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.CreateDatabase(ctx, app, name); err != nil {
		return fmt.Errorf("create database %s on %s: %w", name, app, err)
	}
	d.printf("Database %s created on %s\n", name, app)
	return nil
}

func newDBDelete(d *deps) *cobra.Command {
	var (
		app string
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a database and all its data",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDBDelete(cmd.Context(), d, app, args[0], yes)
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// runDBDelete drops data for good, so it asks like `destroy` does.
func runDBDelete(ctx context.Context, d *deps, app, name string, yes bool) error {
	if err := requireApp(app); err != nil {
		return err
	}
	if err := backend.ValidateIdentifier(name); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := d.confirmDestroy("database", name, yes); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.DropDatabase(ctx, app, name); err != nil {
		return fmt.Errorf("delete database %s on %s: %w", name, app, err)
	}
	d.printf("Database %s deleted from %s\n", name, app)
	return nil
}
