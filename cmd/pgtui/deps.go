package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
	"github.com/spf13/cobra"
)

// deps is everything a command touches outside itself. It is built once
// in main (or by a test) and handed to every constructor explicitly, so
// commands never reach for globals or a context service locator.
type deps struct {
	// Backend returns the platform. It is called only after a command has
	// validated its input: the real one may start the agent.
	Backend func() (backend.Backend, error)
	Out     io.Writer
	Err     io.Writer
	In      io.Reader
	// IsTTY says a person is at the terminal: missing input is prompted
	// for instead of failing.
	IsTTY bool
	// Now is the clock ages are shown against ("14s ago"); nil is
	// time.Now, tests pass a fixed one.
	Now func() time.Time
	// Registry keeps the registered external clusters; nil where a
	// command runs without a home (tests over the fake).
	Registry *external.Registry
	// LocalCluster reports whether the local platform, if its agent is
	// running, has a cluster of this name (without starting the agent);
	// nil knows of none.
	LocalCluster func(ctx context.Context, name string) bool
	// ReadSecret reads a line without echo (a password); nil reads it
	// like any answer.
	ReadSecret func() (string, error)

	lines *bufio.Reader // In, buffered once so consecutive prompts share it
}

func (d *deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *deps) backend() (backend.Backend, error) {
	b, err := d.Backend()
	if err != nil {
		return nil, fmt.Errorf("connect to the platform: %w", err)
	}
	return b, nil
}

func (d *deps) registry() (*external.Registry, error) {
	if d.Registry == nil {
		return nil, errors.New("external clusters are not available here")
	}
	return d.Registry, nil
}

// printf writes command output; a closed stdout is not worth an error
// of its own, the command's result already says what happened.
func (d *deps) printf(format string, a ...any) {
	_, _ = fmt.Fprintf(d.Out, format, a...)
}

// addAppFlag declares -a/--app, flyctl's flag for the app or cluster a
// command acts on.
func addAppFlag(cmd *cobra.Command, app *string, what string) {
	cmd.Flags().StringVarP(app, "app", "a", "", what)
}

func addJSONFlag(cmd *cobra.Command, asJSON *bool) {
	cmd.Flags().BoolVar(asJSON, "json", false, "print as JSON")
}

// requireApp checks the -a value before any backend call.
func requireApp(app string) error {
	if app == "" {
		return errors.New("--app (-a) is required: name the app or cluster, e.g. -a my-postgres")
	}
	if err := backend.ValidateName(app); err != nil {
		return fmt.Errorf("--app: %w", err)
	}
	return nil
}

// nameArg takes a name from the single positional argument or, failing
// that, from -a, so both `destroy NAME` and `destroy -a NAME` work.
func nameArg(args []string, app string) (string, error) {
	switch {
	case len(args) == 1 && app != "" && args[0] != app:
		return "", fmt.Errorf("two names given (%s and -a %s): give one", args[0], app)
	case len(args) == 1:
		app = args[0]
	}
	return app, requireApp(app)
}

// memberRE: local machine ids are 8 hex characters; members of external
// clusters are named by their operator (n1, db-2): DNS-label characters.
var memberRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validateMachineID catches typos before the backend is asked.
func validateMachineID(id string) error {
	if !memberRE.MatchString(id) {
		return fmt.Errorf("machine id %q is not valid: machine ids are 8 hex characters, or an external cluster's member name (see `pgtui status -a NAME`)", id)
	}
	return nil
}

// validateMemberName is validateMachineID for flags naming a member.
func validateMemberName(id string) error { return validateMachineID(id) }

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateEnvName keeps secret names usable as shell variables, since
// `apps env` and `run` export them.
func validateEnvName(name string) error {
	if !envNameRE.MatchString(name) {
		return fmt.Errorf("secret name %q is not valid: use letters, digits and '_', not starting with a digit", name)
	}
	return nil
}
