package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
	"github.com/spf13/cobra"
)

// machinePGPort is where every machine's postgres listens, beside the
// proxy on 5432 (the seed's "PG Port").
const machinePGPort = 5433

func newPostgresConnect(d *deps) *cobra.Command {
	var app, machine, database, user, password string
	cmd := &cobra.Command{
		Use:   "connect -a NAME [--machine ID] [--database D] [--user U] [--password P]",
		Short: "Run psql on a cluster's leader through the WireGuard tunnel",
		Long: `Run your psql against NAME.internal:5432 (the leader) through the WireGuard
tunnel, as the superuser unless --user is given. With --machine, psql reaches
that machine's own postgres on ID.vm.NAME.internal:5433, bypassing the proxy
(a replica answers read-only). On a terminal psql is interactive; otherwise it
runs the SQL on standard input and stops at the first error. pgtui exits with
psql's status.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPostgresConnect(cmd.Context(), d, app, machine, database, user, password)
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	cmd.Flags().StringVar(&machine, "machine", "", "a machine ID: psql on its own postgres (:5433) instead of the leader")
	cmd.Flags().StringVarP(&database, "database", "d", "postgres", "database to connect to")
	cmd.Flags().StringVarP(&user, "user", "u", "", "user (default: the superuser postgres)")
	cmd.Flags().StringVarP(&password, "password", "p", "", "password of --user")
	return cmd
}

func runPostgresConnect(ctx context.Context, d *deps, app, machine, database, user, password string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	if machine != "" {
		// A local machine id, or the member name of an external cluster.
		if err := backend.ValidateMachineID(machine); err != nil && validateMemberName(machine) != nil {
			return fmt.Errorf("--machine: %w: see `pgtui machine list -a %s`", err, app)
		}
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		return errors.New("psql not found: install it with apt-get install postgresql-client")
	}
	if direct, err := directTarget(ctx, d, app, machine); err != nil || direct != nil {
		if err != nil {
			return err
		}
		return runPSQLDirect(d, psql, direct, database, user, password)
	}
	tc, ci, err := openAppTunnel(ctx, d, app)
	if err != nil {
		return err
	}
	defer tc.Close()
	host, port := ci.Host, ci.Port
	if machine != "" {
		host, port = machine+".vm."+ci.Host, machinePGPort
	}
	if _, err := tc.Resolve(ctx, host); err != nil {
		if machine != "" {
			return fmt.Errorf("no machine %s in %s: see `pgtui machine list -a %s`", machine, app, app)
		}
		return fmt.Errorf("%s: %w", app, err)
	}
	if user == "" {
		user, password = ci.User, ci.Password
	}
	ln, err := listenLocal(0)
	if err != nil {
		return err
	}
	// The forward outlives a Ctrl-C (which cancels ctx): psql handles it.
	fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() {
		done <- tc.Forward(fctx, ln, net.JoinHostPort(host, strconv.Itoa(port)), func(err error) {
			_, _ = fmt.Fprintf(d.Err, "connect: %v\n", err)
		})
	}()
	defer func() { stop(); <-done }()
	local := ln.Addr().(*net.TCPAddr).Port
	ssl, cleanup, err := tunnelSSL(ctx, d, app)
	if err != nil {
		return err
	}
	defer cleanup()
	// host names the server as its certificate does; hostaddr is the
	// forward's end on this machine.
	conninfo := fmt.Sprintf("host=%s hostaddr=127.0.0.1 port=%d user=%s dbname=%s %s",
		quoteConninfo(host), local, quoteConninfo(user), quoteConninfo(database), ssl)
	return runPSQL(d, psql, []string{conninfo}, "PGPASSWORD="+password)
}

// tunnelSSL is the TLS part of a conninfo for the cluster: verify-full
// against its CA (written to a private temporary file for psql), require
// where the cluster has no CA, disable where it turned TLS off.
func tunnelSSL(ctx context.Context, d *deps, app string) (string, func(), error) {
	none := func() {}
	b, err := d.backend()
	if err != nil {
		return "", none, err
	}
	c, err := b.ClusterConfig(ctx, app)
	if err != nil {
		return "", none, fmt.Errorf("TLS settings of %s: %w", app, err)
	}
	switch {
	case !c.SSL:
		return "sslmode=disable", none, nil
	case c.CA == "":
		return "sslmode=require", none, nil
	}
	f, err := os.CreateTemp("", "pgtui-ca-*.crt")
	if err != nil {
		return "", none, fmt.Errorf("write the CA of %s: %w", app, err)
	}
	cleanup := func() { _ = os.Remove(f.Name()) }
	_, err = f.WriteString(c.CA)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", none, fmt.Errorf("write the CA of %s: %w", app, err)
	}
	return "sslmode=verify-full sslrootcert=" + quoteConninfo(f.Name()), cleanup, nil
}

// runPSQL runs psql on the terminal with env added (the password goes
// there, never on the command line) and passes its exit status through.
func runPSQL(d *deps, psql string, args []string, env ...string) error {
	if !d.IsTTY {
		args = append(args, "-v", "ON_ERROR_STOP=1")
	}
	// Not CommandContext: on Ctrl-C the terminal signals psql too, which
	// cancels its query and goes on; killing it would lose the session.
	c := exec.Command(psql, args...)
	c.Stdin, c.Stdout, c.Stderr = d.In, d.Out, d.Err
	c.Env = append(append(os.Environ(), env...), "PGAPPNAME=pgtui-connect")
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{code: exitCode(ee)}
	}
	if err != nil {
		return fmt.Errorf("run psql: %w", err)
	}
	return nil
}

// directConnector is a platform whose nodes this machine reaches without
// the tunnel (external clusters); nil, nil for a cluster it does not hold.
type directConnector interface {
	DirectConnect(ctx context.Context, cluster, machine string) (*external.Direct, error)
}

func directTarget(ctx context.Context, d *deps, app, machine string) (*external.Direct, error) {
	b, err := d.backend()
	if err != nil {
		return nil, err
	}
	dc, ok := b.(directConnector)
	if !ok {
		return nil, nil
	}
	t, err := dc.DirectConnect(ctx, app, machine)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", app, err)
	}
	return t, nil
}

// runPSQLDirect runs psql on the nodes' proxies (any of them reaches the
// leader; libpq tries them in turn and keeps a read-write session) over
// TLS, the password in the environment only.
func runPSQLDirect(d *deps, psql string, t *external.Direct, database, user, password string) error {
	if user == "" {
		user, password = t.User, t.Password
	}
	var hosts, ports []string
	for _, hp := range t.Hosts {
		h, p, err := net.SplitHostPort(hp)
		if err != nil {
			return fmt.Errorf("node address %q: %w", hp, err)
		}
		hosts, ports = append(hosts, h), append(ports, p)
	}
	conninfo := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=%s target_session_attrs=any connect_timeout=5",
		strings.Join(hosts, ","), strings.Join(ports, ","), quoteConninfo(user), quoteConninfo(database), t.SSLMode)
	return runPSQL(d, psql, []string{conninfo}, "PGPASSWORD="+password)
}

// quoteConninfo quotes a libpq keyword value.
func quoteConninfo(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
