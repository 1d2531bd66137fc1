package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pgtui/pgtui/backend"
	"github.com/spf13/cobra"
)

type attachOpts struct {
	req         backend.AttachRequest
	postgresApp string // the seed's --postgres-app, beside the positional PGAPP
}

func newPostgresAttach(d *deps) *cobra.Command {
	var o attachOpts
	cmd := &cobra.Command{
		Use:   "attach PGAPP",
		Short: "Give an app its own user and database on a cluster, as the secret DATABASE_URL",
		Long: `Attach creates a user and a database named after the app (dashes become
underscores) on the postgres cluster PGAPP, and stores the connection string
as a secret of the app (DATABASE_URL unless --variable-name says otherwise).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cluster, err := postgresAppArg(args, o.postgresApp)
			if err != nil {
				return err
			}
			o.req.Cluster = cluster
			return runAttach(cmd.Context(), d, o.req)
		},
	}
	addAppFlag(cmd, &o.req.App, "the app to attach")
	f := cmd.Flags()
	f.StringVar(&o.postgresApp, "postgres-app", "", "the postgres cluster (instead of PGAPP)")
	f.StringVar(&o.req.DatabaseName, "database-name", "", "the database to use (default: the app's name)")
	f.StringVar(&o.req.DatabaseUser, "database-user", "", "the user to create (default: the app's name)")
	f.StringVar(&o.req.VariableName, "variable-name", "", "the secret to store the URL in (default: DATABASE_URL)")
	return cmd
}

// postgresAppArg takes the cluster from PGAPP or --postgres-app.
func postgresAppArg(args []string, flag string) (string, error) {
	name := flag
	if len(args) == 1 {
		if flag != "" && flag != args[0] {
			return "", fmt.Errorf("two postgres clusters given (%s and --postgres-app %s): give one", args[0], flag)
		}
		name = args[0]
	}
	if name == "" {
		return "", errors.New("name the postgres cluster: PGAPP or --postgres-app")
	}
	if err := backend.ValidateName(name); err != nil {
		return "", fmt.Errorf("postgres cluster: %w", err)
	}
	return name, nil
}

// validateAttach checks every name before the backend sees the request.
func validateAttach(req backend.AttachRequest) error {
	if err := requireApp(req.App); err != nil {
		return err
	}
	for _, id := range []struct{ flag, v string }{{"--database-name", req.DatabaseName}, {"--database-user", req.DatabaseUser}} {
		if id.v == "" {
			continue
		}
		if err := backend.ValidateIdentifier(id.v); err != nil {
			return fmt.Errorf("%s: %w", id.flag, err)
		}
	}
	if req.VariableName != "" {
		if err := validateEnvName(req.VariableName); err != nil {
			return fmt.Errorf("--variable-name: %w", err)
		}
	}
	return nil
}

func runAttach(ctx context.Context, d *deps, req backend.AttachRequest) error {
	if err := validateAttach(req); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	att, err := b.Attach(ctx, req)
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", req.App, req.Cluster, err)
	}
	d.printf("Postgres cluster %s is now attached to %s\n", att.Cluster, att.App)
	d.printf("The following secret was added to %s:\n  %s=%s\n", att.App, att.VariableName, att.URL)
	return nil
}

func newPostgresDetach(d *deps) *cobra.Command {
	var app, postgresApp string
	cmd := &cobra.Command{
		Use:   "detach PGAPP",
		Short: "Remove an app's user and secret from a cluster (its database is kept)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cluster, err := postgresAppArg(args, postgresApp)
			if err != nil {
				return err
			}
			return runDetach(cmd.Context(), d, cluster, app)
		},
	}
	addAppFlag(cmd, &app, "the app to detach")
	cmd.Flags().StringVar(&postgresApp, "postgres-app", "", "the postgres cluster (instead of PGAPP)")
	return cmd
}

func runDetach(ctx context.Context, d *deps, cluster, app string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.Detach(ctx, cluster, app); err != nil {
		return fmt.Errorf("detach %s from %s: %w", app, cluster, err)
	}
	d.printf("Postgres cluster %s is now detached from %s\n", cluster, app)
	d.printf("Its user and secret were removed from %s; the database was kept.\n", app)
	return nil
}
