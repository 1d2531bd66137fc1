package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Defaults used when a flag is not given and nobody is prompted.
const (
	defaultOrg         = "personal"
	defaultRegion      = "iad"
	defaultVMSize      = "shared-cpu-1x"
	defaultVolumeGB    = 10
	defaultClusterSize = 2
)

type createOpts struct {
	req    backend.CreateRequest
	detach bool
}

func newPostgresCreate(d *deps) *cobra.Command {
	var o createOpts
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a new PostgreSQL cluster",
		Long: `Create a new highly available PostgreSQL cluster. Flags that are not given are
prompted for at a terminal; without one, --name and --region are required and
the other flags take their defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveCreate(d, cmd.Flags(), &o.req); err != nil {
				return err
			}
			return runCreate(cmd.Context(), d, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.req.Name, "name", "n", "", "the name of your Postgres app")
	f.StringVarP(&o.req.Org, "org", "o", defaultOrg, "the organization to create it in")
	f.StringVarP(&o.req.Region, "region", "r", "", "the region to place it in, e.g. "+defaultRegion)
	f.StringVar(&o.req.VMSize, "vm-size", defaultVMSize, "the VM size of each machine")
	f.IntVar(&o.req.VolumeGB, "volume-size", defaultVolumeGB, "the volume size of each machine, in GB")
	f.IntVar(&o.req.InitialClusterSize, "initial-cluster-size", defaultClusterSize, "the number of machines (leader and replicas)")
	f.BoolVar(&o.detach, "detach", false, "return once the credentials are shown; the deployment continues")
	return cmd
}

func regionCodes() string {
	codes := make([]string, len(backend.Regions()))
	for i, r := range backend.Regions() {
		codes[i] = r.Code
	}
	return strings.Join(codes, ", ")
}

// resolveCreate fills in what the flags left out: prompts at a terminal,
// an error naming the flag otherwise. Flags that were given are never
// prompted for, so `create` with every flag runs unattended.
func resolveCreate(d *deps, fs *pflag.FlagSet, req *backend.CreateRequest) error {
	if !d.IsTTY {
		if !fs.Changed("name") {
			return nonInteractive("--name", "")
		}
		if !fs.Changed("region") {
			return nonInteractive("--region", "one of "+regionCodes())
		}
		return nil
	}
	steps := []struct {
		flag string
		ask  func() error
	}{
		{"name", func() (err error) { req.Name, err = d.askText("App name", "", backend.ValidateName); return }},
		{"org", func() (err error) {
			req.Org, err = d.askText("Select organization", defaultOrg, backend.ValidateName)
			return
		}},
		{"region", func() (err error) {
			req.Region, err = d.askChoice("Select region", defaultRegion, regionChoices(), lookupRegion)
			return
		}},
		{"vm-size", func() (err error) {
			req.VMSize, err = d.askChoice("Select VM size", defaultVMSize, sizeChoices(), lookupVMSize)
			return
		}},
		{"volume-size", func() (err error) {
			req.VolumeGB, err = d.askInt("Volume size (GB)", defaultVolumeGB, backend.ValidateVolume)
			return
		}},
		{"initial-cluster-size", func() (err error) {
			req.InitialClusterSize, err = d.askInt("Initial cluster size", defaultClusterSize, backend.ValidateClusterSize)
			return
		}},
	}
	for _, s := range steps {
		if fs.Changed(s.flag) {
			continue
		}
		if err := s.ask(); err != nil {
			return fmt.Errorf("--%s: %w", s.flag, err)
		}
	}
	return nil
}

func lookupRegion(code string) error { _, err := backend.LookupRegion(code); return err }
func lookupVMSize(name string) error { _, err := backend.LookupVMSize(name); return err }

func regionChoices() [][2]string {
	out := make([][2]string, len(backend.Regions()))
	for i, r := range backend.Regions() {
		out[i] = [2]string{r.Code, r.Name}
	}
	return out
}

// sizeChoices lists sizes as the seed's prompt does: "shared-cpu-1x - 256".
func sizeChoices() [][2]string {
	out := make([][2]string, len(backend.VMSizes()))
	for i, s := range backend.VMSizes() {
		out[i] = [2]string{fmt.Sprintf("%s - %d", s.Name, s.MemoryMB), ""}
	}
	return out
}

// runCreate validates, then streams the deployment in the seed's words.
func runCreate(ctx context.Context, d *deps, o createOpts) error {
	req := o.req
	if err := req.Validate(); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	d.printf("Creating postgres cluster %s in organization %s\n\n", req.Name, req.Org)
	// Cancelling our stream (on --detach or return) leaves the deployment
	// running: the agent owns it, not this process.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := b.CreateCluster(ctx, req)
	if err != nil {
		return fmt.Errorf("create %s: %w", req.Name, err)
	}
	m := &monitor{d: d, name: req.Name, org: req.Org, detach: o.detach}
	for ev := range events {
		if done, err := m.handle(ev); err != nil || done {
			return err
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped watching %s: the deployment continues; see `pgtui status -a %s`", req.Name, req.Name)
	}
	return errors.New("the deployment stream of " + req.Name + " ended before it was deployed: see `pgtui status -a " + req.Name + "`")
}

// monitor prints the deployment as flyctl does: the credentials once,
// a monitor line whenever the counts change, then the result.
type monitor struct {
	d         *deps
	name, org string
	detach    bool
	creds     *backend.Credentials
	started   bool
	last      string
}

// handle prints one event and says whether the command is finished.
func (m *monitor) handle(ev backend.CreateEvent) (bool, error) {
	if ev.Credentials != nil && m.creds == nil {
		m.creds = ev.Credentials
		if err := render.Credentials(m.d.Out, m.name, *ev.Credentials); err != nil {
			return true, err
		}
		if m.detach {
			m.d.printf("\nThe deployment continues in the background: see `pgtui status -a %s`\n", m.name)
			return true, nil
		}
	}
	if ev.Error != "" {
		return true, fmt.Errorf("deployment of %s failed: %s", m.name, ev.Error)
	}
	// Per-machine step events carry no counts; only cluster-wide ones do.
	if ev.Machine == "" && ev.Desired > 0 {
		if line := render.MonitorLine(ev); line != m.last {
			if !m.started {
				m.started = true
				m.d.printf("\nMonitoring Deployment\nYou can detach the terminal anytime without stopping the deployment\n\n")
			}
			m.last = line
			m.d.printf("%s\n", line)
		}
	}
	if !ev.Done {
		return false, nil
	}
	m.d.printf("%s\n", render.DeployedLine(ev))
	if m.creds == nil {
		return true, nil
	}
	m.d.printf("\n")
	return true, render.Connect(m.d.Out, m.org, *m.creds)
}
