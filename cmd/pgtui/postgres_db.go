package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgtui/pgtui/backend"
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
	return newAppList(d, appList[backend.Database]{
		short: "List a cluster's databases and the users that can reach them", of: "the cluster", what: "databases",
		columns: []string{"Name", "Users"},
		fetch: func(ctx context.Context, b backend.Backend, app string) ([]backend.Database, error) {
			return b.ListDatabases(ctx, app)
		},
		row: func(db backend.Database) []string { return []string{db.Name, strings.Join(db.Users, ",")} },
	})
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
