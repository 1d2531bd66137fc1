package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pgtui/pgtui/backend"
	pwgen "github.com/pgtui/pgtui/internal/password"
	"github.com/spf13/cobra"
)

// newPostgresUsers is `pgtui postgres users list|create|delete`.
func newPostgresUsers(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage a cluster's users",
	}
	cmd.AddCommand(newUsersList(d), newUsersCreate(d), newUsersDelete(d))
	return cmd
}

func newUsersList(d *deps) *cobra.Command {
	return newAppList(d, appList[backend.User]{
		short: "List a cluster's users and the databases they can reach", of: "the cluster", what: "users",
		columns: []string{"Name", "Superuser", "Databases"},
		fetch: func(ctx context.Context, b backend.Backend, app string) ([]backend.User, error) {
			return b.ListUsers(ctx, app)
		},
		row: func(u backend.User) []string {
			return []string{u.Name, strconv.FormatBool(u.Superuser), strings.Join(u.Databases, ",")}
		},
	})
}

type userCreateOpts struct {
	app, password string
	superuser     bool
}

func newUsersCreate(d *deps) *cobra.Command {
	var o userCreateOpts
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a login user; without --password one is generated and shown once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUsersCreate(cmd.Context(), d, o, args[0])
		},
	}
	addAppFlag(cmd, &o.app, "the cluster")
	cmd.Flags().StringVar(&o.password, "password", "", "the user's password (default: 48 random hex characters)")
	cmd.Flags().BoolVar(&o.superuser, "superuser", false, "make the user a superuser")
	return cmd
}

func runUsersCreate(ctx context.Context, d *deps, o userCreateOpts, name string) error {
	if err := requireApp(o.app); err != nil {
		return err
	}
	if err := backend.ValidateIdentifier(name); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	password, generated := o.password, o.password == ""
	if generated {
		var err error
		if password, err = pwgen.Generate(); err != nil {
			return err
		}
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.CreateUser(ctx, o.app, name, password, o.superuser); err != nil {
		return fmt.Errorf("create user %s on %s: %w", name, o.app, err)
	}
	d.printf("User %s created on %s\n", name, o.app)
	if generated {
		d.printf("  Password:    %s\nSave the password in a secure place, you won't be able to see it again!\n", password)
	}
	return nil
}

func newUsersDelete(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user (built-in roles are refused)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUsersDelete(cmd.Context(), d, app, args[0])
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	return cmd
}

func runUsersDelete(ctx context.Context, d *deps, app, name string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	if err := backend.ValidateIdentifier(name); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.DropUser(ctx, app, name); err != nil {
		return fmt.Errorf("delete user %s on %s: %w", name, app, err)
	}
	d.printf("User %s deleted from %s\n", name, app)
	return nil
}
