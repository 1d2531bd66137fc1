package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newPostgresConfig is `pgtui postgres config show|update`: TLS and the
// read-only protection of a nearly full volume (the seed's "SSL disable"
// and "read-write and read-only mode").
func newPostgresConfig(d *deps) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show or change a cluster's settings (TLS, read-only threshold, max lag)"}
	var app string
	var asJSON, ca bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the cluster's settings, or with --ca its CA certificate",
		Long: `Show the cluster's settings. With --ca, print the cluster's CA certificate
(PEM) instead: clients verify the servers against it with
sslmode=verify-full sslrootcert=FILE, e.g.
  pgtui postgres config show -a NAME --ca > NAME-ca.crt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ca {
				return runConfigCA(cmd.Context(), d, app)
			}
			return runConfig(cmd.Context(), d, app, asJSON, nil)
		},
	}
	addAppFlag(show, &app, "the cluster")
	addJSONFlag(show, &asJSON)
	show.Flags().BoolVar(&ca, "ca", false, "print the cluster's CA certificate (PEM)")
	var ssl bool
	var ro float64
	var maxLag int64
	var yes, readOnly, readWrite bool
	update := &cobra.Command{
		Use:   "update",
		Short: "Change settings: --read-only/--read-write, --ssl=false, --read-only-below PCT (0 = off), --max-lag BYTES",
		Long: `Change the cluster's settings.
  --read-only    the leader refuses writes until --read-write (reads go on)
  --read-write   undo --read-only; the leader still turns read-only by
                 itself while its volume has less free space than
                 --read-only-below
The leader enforces read-only mode: default_transaction_read_only is on
in its server configuration, and a session that overrides it with SET and
writes is ended (see docs/ARCHITECTURE.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var u backend.ConfigUpdate
			f := cmd.Flags()
			if f.Changed("ssl") {
				if !ssl {
					if err := d.confirmSSLOff(app, yes); err != nil {
						return err
					}
				}
				u.SSL = &ssl
			}
			if f.Changed("read-only-below") {
				u.ReadOnlyBelowPct = &ro
			}
			if f.Changed("max-lag") {
				u.MaxLagBytes = &maxLag
			}
			switch {
			case readOnly && readWrite:
				return errors.New("--read-only and --read-write contradict each other: pass one")
			case readOnly:
				u.ReadOnly = &readOnly
			case readWrite:
				u.ReadOnly = new(bool)
			}
			if u == (backend.ConfigUpdate{}) {
				return errors.New("nothing to change: pass --read-only, --read-write, --ssl, --read-only-below or --max-lag")
			}
			return runConfig(cmd.Context(), d, app, asJSON, &u)
		},
	}
	addAppFlag(update, &app, "the cluster")
	addJSONFlag(update, &asJSON)
	update.Flags().BoolVar(&ssl, "ssl", true, "serve TLS with a certificate signed by the cluster's CA (--ssl=false asks first)")
	update.Flags().BoolVarP(&yes, "yes", "y", false, "turn TLS off without asking")
	update.Flags().BoolVar(&readOnly, "read-only", false, "switch the cluster to read-only until --read-write")
	update.Flags().BoolVar(&readWrite, "read-write", false, "switch the cluster back to read-write")
	update.Flags().Float64Var(&ro, "read-only-below", 10, "turn the leader read-only below this much free volume space, in percent (0 = never)")
	update.Flags().Int64Var(&maxLag, "max-lag", 1<<20, "never promote a replica more than this many bytes behind")
	cmd.AddCommand(show, update)
	return cmd
}

func runConfig(ctx context.Context, d *deps, app string, asJSON bool, u *backend.ConfigUpdate) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	var c *backend.ClusterConfig
	if u != nil {
		c, err = b.UpdateConfig(ctx, app, *u)
	} else {
		c, err = b.ClusterConfig(ctx, app)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return render.JSON(d.Out, c)
	}
	mode := "read-write"
	switch {
	case c.ReadOnly && c.ReadOnlyReason != "":
		mode = "read-only, " + c.ReadOnlyReason
	case c.ReadOnly:
		mode = fmt.Sprintf("read-only (volume %.1f%% free, below %.0f%%)", c.FreePct, c.ReadOnlyBelowPct)
	case c.ReadOnlyByHand:
		mode = "read-only by hand (the leader is applying it)"
	}
	threshold := "never"
	if c.ReadOnlyBelowPct > 0 {
		threshold = fmt.Sprintf("below %.0f%% free volume space", c.ReadOnlyBelowPct)
	}
	return render.VerticalTable(d.Out, "Config for "+app, [][2]string{
		{"SSL", onOff(c.SSL)}, {"Mode", mode}, {"Read-only", threshold},
		{"Sync mode", onOff(c.SyncMode)}, {"Max lag", fmt.Sprintf("%d bytes", c.MaxLagBytes)},
	})
}

// runConfigCA prints the cluster's CA certificate.
func runConfigCA(ctx context.Context, d *deps, app string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	c, err := b.ClusterConfig(ctx, app)
	if err != nil {
		return err
	}
	if c.CA == "" {
		return fmt.Errorf("cluster %s has no CA: its nodes serve self-signed certificates, so connect with sslmode=require", app)
	}
	d.printf("%s", c.CA)
	return nil
}

// confirmSSLOff explains what turning TLS off means and asks on a
// terminal; without one, --yes is required.
func (d *deps) confirmSSLOff(app string, yes bool) error {
	if yes {
		return nil
	}
	if !d.IsTTY {
		return fmt.Errorf("--yes is required to turn TLS off for %s when not running interactively", app)
	}
	_, _ = fmt.Fprintf(d.Err, `Turning TLS off for %s:
  why one would: the network already encrypts (a WireGuard tunnel, a private
  network), or an old client cannot speak TLS.
  what it costs: passwords and data cross the network in clear, nobody can
  check they reach this cluster's servers, and connection strings with
  sslmode=verify-full or require stop working until TLS is back on.
`, app)
	answer, err := d.readLine("Turn TLS off? (yes/no)")
	if err != nil {
		return err
	}
	if a := strings.ToLower(answer); a != "y" && a != "yes" {
		return errors.New("TLS stays on")
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
