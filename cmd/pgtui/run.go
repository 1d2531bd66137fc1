package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a child's exit status to main, which exits with it
// and prints nothing: the child already said what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRun(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "run -a APP -- CMD [ARGS...]",
		Short: "Run a command with an app's secrets in its environment",
		Long: `Run CMD with the app's secrets added to the environment, connection strings
rewritten to reach the cluster from this machine, e.g.
  pgtui run -a myapp -- sh -c 'psql "$DATABASE_URL"'
(single quotes, so your shell does not expand $DATABASE_URL before pgtui runs).
Standard input, output and error pass through, and pgtui exits with CMD's status.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), d, app, args)
		},
	}
	// Flags after CMD belong to CMD, so `run -a x psql -c ...` needs no `--`.
	cmd.Flags().SetInterspersed(false)
	addAppFlag(cmd, &app, "the app whose secrets to use")
	return cmd
}

func runRun(ctx context.Context, d *deps, app string, args []string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	env, err := b.AppEnv(ctx, app)
	if err != nil {
		return fmt.Errorf("environment of %s: %w", app, err)
	}
	// Not CommandContext: on Ctrl-C the terminal signals the child too, and
	// it should get to exit on its own terms rather than be killed.
	c := exec.Command(args[0], args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = d.In, d.Out, d.Err
	c.Env = os.Environ()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.Env = append(c.Env, k+"="+env[k])
	}
	err = c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{code: exitCode(ee)}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", args[0], err)
	}
	return nil
}

// exitCode is the child's status, or 128+signal as shells report it.
func exitCode(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}
