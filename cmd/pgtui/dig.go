package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

func newDig(d *deps) *cobra.Command {
	var (
		app, org, qtype string
		short, asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "dig NAME",
		Short: "Look a name up in the private network's DNS, through the tunnel",
		Long: `Ask the private network's DNS server about NAME, as a machine in the network
would: <app>.internal, <region>.<app>.internal, <id>.vm.<app>.internal,
leader.<app>.internal. A NAME without a dot means NAME.internal. The network is
the org of -a APP, else of the app NAME names, else --org (default personal).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDig(cmd.Context(), d, digOpts{name: args[0], app: app, org: org, qtype: qtype, short: short, asJSON: asJSON})
		},
	}
	addAppFlag(cmd, &app, "an app of the network to ask in")
	cmd.Flags().StringVar(&org, "org", "", "the org whose network to ask in")
	cmd.Flags().StringVarP(&qtype, "type", "t", "AAAA", "record type: AAAA, A, TXT, ANY")
	cmd.Flags().BoolVarP(&short, "short", "s", false, "print only the addresses")
	addJSONFlag(cmd, &asJSON)
	return cmd
}

type digOpts struct {
	name, app, org, qtype string
	short, asJSON         bool
}

// digAnswer is one record of `dig --json`.
type digAnswer struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"`
}

func runDig(ctx context.Context, d *deps, o digOpts) error {
	if err := checkHost(o.name); err != nil {
		return err
	}
	qt, ok := dns.StringToType[strings.ToUpper(o.qtype)]
	if !ok {
		return fmt.Errorf("--type %q is not a DNS record type", o.qtype)
	}
	if o.app != "" {
		if err := requireApp(o.app); err != nil {
			return err
		}
	}
	if o.org != "" {
		if err := backend.ValidateName(o.org); err != nil {
			return fmt.Errorf("--org: %w", err)
		}
	}
	name := internalName(o.name)
	tb, err := d.tunnels()
	if err != nil {
		return err
	}
	org, err := digOrg(ctx, tb, o.app, o.org, name)
	if err != nil {
		return err
	}
	tc, err := tb.OpenTunnel(ctx, org, quietLog())
	if err != nil {
		return fmt.Errorf("open the tunnel to %s: %w", org, err)
	}
	defer tc.Close()
	r, err := tc.Query(ctx, name, qt)
	if err != nil {
		return err
	}
	return printDig(d, r, o)
}

// digOrg picks the network to ask in.
func digOrg(ctx context.Context, tb tunnelBackend, app, org, name string) (string, error) {
	if org != "" {
		return org, nil
	}
	if app != "" {
		ci, err := clusterInfo(ctx, tb, app)
		if err != nil {
			return "", err
		}
		return ci.Org, nil
	}
	labels := strings.Split(strings.TrimSuffix(name, ".internal"), ".")
	if strings.HasSuffix(name, ".internal") && backend.ValidateName(labels[len(labels)-1]) == nil {
		if ci, err := tb.ConnectInfo(ctx, labels[len(labels)-1]); err == nil {
			return ci.Org, nil
		}
	}
	return "personal", nil
}

func printDig(d *deps, r *dns.Msg, o digOpts) error {
	switch {
	case o.asJSON:
		out := []digAnswer{}
		for _, rr := range r.Answer {
			h := rr.Header()
			out = append(out, digAnswer{Name: h.Name, Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl, Data: strings.TrimPrefix(rr.String(), h.String())})
		}
		if err := render.JSON(d.Out, out); err != nil {
			return err
		}
	case o.short:
		for _, rr := range r.Answer {
			d.printf("%s\n", strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
	default:
		d.printf("%s\n", r.String())
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("%s: %s", strings.TrimSuffix(r.Question[0].Name, "."), dnsStatus(r.Rcode))
	}
	return nil
}

func dnsStatus(rcode int) string {
	if rcode == dns.RcodeNameError {
		return "no such name (NXDOMAIN)"
	}
	return dns.RcodeToString[rcode]
}
