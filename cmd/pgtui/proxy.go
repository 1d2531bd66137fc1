package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

var (
	errAddrInUse = syscall.EADDRINUSE
	dnsLabelRE   = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`)
)

func newProxy(d *deps) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "proxy LOCAL[:REMOTE] [HOST] -a NAME",
		Short: "Forward a local port to a machine of the private network",
		Long: `Listen on 127.0.0.1:LOCAL and forward every connection through the WireGuard
tunnel to HOST:REMOTE (default: NAME.internal:5432, the cluster's leader proxy), e.g.
  pgtui proxy 15432 -a my-postgres
  pgtui proxy 15433:5433 6b97fa06.vm.my-postgres.internal -a my-postgres
  psql postgres://postgres:PASSWORD@localhost:15432
Stops with Ctrl-C.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := ""
			if len(args) == 2 {
				host = args[1]
			}
			return runProxy(cmd.Context(), d, app, args[0], host)
		},
	}
	addAppFlag(cmd, &app, "the cluster whose private network to reach")
	return cmd
}

// defaultRemotePort is the clusters' leader proxy.
const defaultRemotePort = 5432

// parsePorts reads LOCAL[:REMOTE]; REMOTE defaults to the leader proxy.
func parsePorts(s string) (local, remote int, err error) {
	l, r, both := strings.Cut(s, ":")
	if local, err = parsePort(l, true); err != nil {
		return 0, 0, err
	}
	remote = defaultRemotePort
	if both {
		if remote, err = parsePort(r, false); err != nil {
			return 0, 0, err
		}
	}
	return local, remote, nil
}

func parsePort(s string, zeroOK bool) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 || (p == 0 && !zeroOK) {
		return 0, fmt.Errorf("port %q is not valid: use a number from 1 to 65535", s)
	}
	return p, nil
}

func runProxy(ctx context.Context, d *deps, app, ports, host string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	local, remote, err := parsePorts(ports)
	if err != nil {
		return err
	}
	if host == "" {
		host = app + ".internal"
	} else if err := checkHost(host); err != nil {
		return err
	}
	host = internalName(host)
	ln, err := listenLocal(local)
	if err != nil {
		return err
	}
	defer ln.Close()
	tc, _, err := openAppTunnel(ctx, d, app)
	if err != nil {
		return err
	}
	defer tc.Close()
	if net.ParseIP(strings.Trim(host, "[]")) == nil {
		if _, err := tc.Resolve(ctx, host); err != nil {
			return fmt.Errorf("resolve %s through the tunnel: %w", host, err)
		}
	}
	target := net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(remote))
	d.printf("Proxying local port %d to remote [%s]:%d\n", ln.Addr().(*net.TCPAddr).Port, host, remote)
	return tc.Forward(ctx, ln, target, func(err error) {
		_, _ = fmt.Fprintf(d.Err, "proxy: %v\n", err)
	})
}
