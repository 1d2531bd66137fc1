package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/spf13/cobra"
)

// newSecrets is `pgtui secrets list|set|unset -a APP`.
func newSecrets(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage an app's secrets",
	}
	cmd.AddCommand(newSecretsList(d), newSecretsSet(d), newSecretsUnset(d))
	return cmd
}

func newSecretsList(d *deps) *cobra.Command {
	return newAppList(d, appList[backend.Secret]{
		short: "List an app's secrets by name and digest (never their values)", of: "the app", what: "secrets",
		columns: []string{"Name", "Digest", "Created At"},
		fetch: func(ctx context.Context, b backend.Backend, app string) ([]backend.Secret, error) {
			return b.ListSecrets(ctx, app)
		},
		row: func(s backend.Secret) []string {
			return []string{s.Name, s.Digest, s.Created.UTC().Format(time.RFC3339)}
		},
	})
}

func newSecretsSet(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Set secrets on an app",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsSet(cmd.Context(), d, app, args)
		},
	}
	addAppFlag(cmd, &app, "the app")
	return cmd
}

// parseAssignments reads KEY=VALUE arguments; a key given twice is
// refused rather than silently keeping one of them.
func parseAssignments(args []string) (map[string]string, error) {
	values := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KEY=VALUE", a)
		}
		if err := validateEnvName(k); err != nil {
			return nil, err
		}
		if _, dup := values[k]; dup {
			return nil, fmt.Errorf("secret %s is given twice", k)
		}
		values[k] = v
	}
	return values, nil
}

func runSecretsSet(ctx context.Context, d *deps, app string, args []string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	values, err := parseAssignments(args)
	if err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.SetSecrets(ctx, app, values); err != nil {
		return fmt.Errorf("set secrets on %s: %w", app, err)
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	d.printf("Secrets set on %s: %s\n", app, strings.Join(names, ", "))
	return nil
}

func newSecretsUnset(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "unset KEY...",
		Short: "Remove secrets from an app",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretsUnset(cmd.Context(), d, app, args)
		},
	}
	addAppFlag(cmd, &app, "the app")
	return cmd
}

func runSecretsUnset(ctx context.Context, d *deps, app string, names []string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	// Names are not checked here: one set before the rules tightened must
	// still be removable, and the backend reports unknown names.
	b, err := d.backend()
	if err != nil {
		return err
	}
	if err := b.UnsetSecrets(ctx, app, names); err != nil {
		return fmt.Errorf("unset secrets on %s: %w", app, err)
	}
	d.printf("Secrets unset on %s: %s\n", app, strings.Join(names, ", "))
	return nil
}
