package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newClusters is `pgtui clusters add|list|remove`: clusters that run
// anywhere (nodes started by Docker, Podman or systemd on real hosts),
// registered so that every command and the cockpit operate them.
func newClusters(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "Register existing pgtui clusters that run on external hosts",
		Long: `A cluster whose nodes run elsewhere (the node image under Docker, Podman or
systemd, against your own etcd) is registered once with ` + "`clusters add`" + `; from then
on status, checks, logs, metrics, users, db, attach, failover, connect and the
cockpit work on it as on a local one. Its nodes stay owned by the engine that
started them: create, scale, destroy and machine actions are refused.`,
	}
	cmd.AddCommand(newClustersAdd(d), newClustersList(d), newClustersRemove(d))
	return cmd
}

type clustersAddOpts struct {
	endpoints []string
	tls       etcdtls.Files
	credsFile string
}

func newClustersAdd(d *deps) *cobra.Command {
	var o clustersAddOpts
	cmd := &cobra.Command{
		Use:   "add NAME --etcd-endpoints URL[,URL...] [--etcd-cacert F --etcd-cert F --etcd-key F] [--credentials-file F]",
		Short: "Register an existing cluster by its etcd",
		Long: `Register the cluster NAME whose nodes use the etcd at --etcd-endpoints. With
--etcd-cacert, --etcd-cert and --etcd-key pgtui talks to etcd over TLS with a
client certificate. The admin credentials come from --credentials-file
(KEY=VALUE lines as in the nodes' secrets file: PGTUI_ADMIN_PASSWORD, and
optionally PGTUI_SUPERUSER_PASSWORD for ` + "`postgres connect`" + `), or are asked for on a
terminal. They are stored mode 0600 under $PGTUI_HOME/external/NAME and never
shown. Nothing is saved unless the etcd answers and holds NAME.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClustersAdd(cmd.Context(), d, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.endpoints, "etcd-endpoints", nil, "etcd client URLs of the cluster's store, comma separated")
	f.StringVar(&o.tls.CACert, "etcd-cacert", "", "CA certificate (PEM) that signed the etcd members' certificates")
	f.StringVar(&o.tls.Cert, "etcd-cert", "", "client certificate (PEM) to present to etcd")
	f.StringVar(&o.tls.Key, "etcd-key", "", "key (PEM) of --etcd-cert")
	f.StringVar(&o.credsFile, "credentials-file", "", "file with PGTUI_ADMIN_PASSWORD=... (mode 0600)")
	return cmd
}

func runClustersAdd(ctx context.Context, d *deps, name string, o clustersAddOpts) error {
	if err := backend.ValidateName(name); err != nil {
		return fmt.Errorf("cluster %w", err)
	}
	if len(o.endpoints) == 0 {
		return errors.New("--etcd-endpoints is required: the etcd client URLs the nodes use, e.g. https://10.0.0.1:2379")
	}
	reg, err := d.registry()
	if err != nil {
		return err
	}
	if d.LocalCluster != nil && d.LocalCluster(ctx, name) {
		return fmt.Errorf("register %s: the local platform already has a cluster named %s: register it under another name", name, name)
	}
	creds, err := d.clusterCredentials(name, o.credsFile)
	if err != nil {
		return err
	}
	req := external.AddRequest{Name: name, Endpoints: o.endpoints, TLS: o.tls, Credentials: creds}
	if err := reg.Add(ctx, req); err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	d.printf("Cluster %s registered (etcd %s). Try `pgtui status -a %s`.\n", name, strings.Join(o.endpoints, ","), name)
	return nil
}

// clusterCredentials reads the credentials file (refusing one others can
// read) or, on a terminal, asks for the admin password without echo.
func (d *deps) clusterCredentials(name, file string) (external.Credentials, error) {
	if file != "" {
		b, err := readPrivateFile(file, "credentials file")
		if err != nil {
			return external.Credentials{}, err
		}
		c, err := external.ParseCredentials(b)
		if err != nil {
			return external.Credentials{}, fmt.Errorf("credentials file %s: %w", file, err)
		}
		return c, nil
	}
	if !d.IsTTY {
		return external.Credentials{}, nonInteractive("--credentials-file", "a file with "+external.EnvAdmin+"=...")
	}
	pw, err := d.askSecret(fmt.Sprintf("Admin password of %s (%s)", name, external.EnvAdmin))
	if err != nil {
		return external.Credentials{}, err
	}
	if pw == "" {
		return external.Credentials{}, errors.New("no admin password given")
	}
	return external.Credentials{AdminPassword: pw}, nil
}

// askSecret asks without echo when the terminal allows it.
func (d *deps) askSecret(question string) (string, error) {
	if d.ReadSecret != nil {
		_, _ = fmt.Fprintf(d.Err, "? %s: ", question)
		s, err := d.ReadSecret()
		_, _ = fmt.Fprintln(d.Err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return strings.TrimSpace(s), nil
	}
	return d.readLine(question)
}

func newClustersList(d *deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the registered external clusters",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runClustersList(d, asJSON)
		},
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

// clusterEntry is a row of `clusters list` (never the credentials).
type clusterEntry struct {
	Name      string    `json:"name"`
	Platform  string    `json:"platform"`
	Endpoints []string  `json:"etcd_endpoints"`
	TLS       bool      `json:"etcd_tls"`
	Added     time.Time `json:"added"`
}

func runClustersList(d *deps, asJSON bool) error {
	reg, err := d.registry()
	if err != nil {
		return err
	}
	names, err := reg.Names()
	if err != nil {
		return err
	}
	out := []clusterEntry{}
	for _, n := range names {
		e, err := reg.Get(n)
		if err != nil {
			return err
		}
		out = append(out, clusterEntry{Name: e.Name, Platform: external.Platform, Endpoints: e.Endpoints,
			TLS: e.TLS.Cert != "" || e.TLS.CACert != "", Added: e.Added})
	}
	if asJSON {
		return render.JSON(d.Out, out)
	}
	if len(out) == 0 {
		d.printf("No external clusters registered: add one with `pgtui clusters add NAME --etcd-endpoints ...`.\n")
		return nil
	}
	rows := make([][]string, len(out))
	for i, e := range out {
		tls := "no"
		if e.TLS {
			tls = "yes"
		}
		rows[i] = []string{e.Name, e.Platform, strings.Join(e.Endpoints, ","), tls, e.Added.UTC().Format(time.RFC3339)}
	}
	return render.Table(d.Out, "", rows, "Name", "Platform", "Etcd", "TLS", "Added")
}

func newClustersRemove(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Forget a registered cluster (its nodes and data are untouched)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := backend.ValidateName(name); err != nil {
				return fmt.Errorf("cluster %w", err)
			}
			reg, err := d.registry()
			if err != nil {
				return err
			}
			if err := reg.Remove(name); err != nil {
				return err
			}
			d.printf("Cluster %s is no longer registered; its nodes keep running.\n", name)
			return nil
		},
	}
}
