package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/tunnel"
)

// tunnelBackend is the part of the local platform that tunnel commands
// need beyond backend.Backend: the agent's WireGuard gateway.
type tunnelBackend interface {
	CreatePeer(ctx context.Context, req api.PeerRequest) (*api.NewPeer, error)
	ListPeers(ctx context.Context) ([]api.PeerStatus, error)
	RemovePeer(ctx context.Context, name string) error
	ConnectInfo(ctx context.Context, cluster string) (*api.ConnectInfo, error)
	OpenTunnel(ctx context.Context, org string, log *slog.Logger) (*tunnel.Client, error)
}

func (d *deps) tunnels() (tunnelBackend, error) {
	b, err := d.backend()
	if err != nil {
		return nil, err
	}
	// The router hands tunnels to the local platform, the one with a gateway.
	if r, ok := b.(localRouter); ok {
		if b, err = r.Local(); err != nil {
			return nil, fmt.Errorf("connect to the platform: %w", err)
		}
	}
	tb, ok := b.(tunnelBackend)
	if !ok {
		return nil, errors.New("this platform has no WireGuard gateway")
	}
	return tb, nil
}

// localRouter is a backend that routes clusters to platforms (the
// router) and can hand out the local one.
type localRouter interface {
	Local() (backend.Backend, error)
}

// quietLog keeps WireGuard's own messages off the terminal: commands
// report what went wrong in their one-line errors.
func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// clusterInfo asks for a cluster, saying "unknown app" when it is not one.
func clusterInfo(ctx context.Context, tb tunnelBackend, app string) (*api.ConnectInfo, error) {
	ci, err := tb.ConnectInfo(ctx, app)
	if err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return nil, fmt.Errorf("unknown app %s: no postgres cluster has that name (see `pgtui postgres list`)", app)
		}
		return nil, fmt.Errorf("app %s: %w", app, err)
	}
	return ci, nil
}

// openAppTunnel brings up this user's tunnel into the org of app.
func openAppTunnel(ctx context.Context, d *deps, app string) (*tunnel.Client, *api.ConnectInfo, error) {
	tb, err := d.tunnels()
	if err != nil {
		return nil, nil, err
	}
	ci, err := clusterInfo(ctx, tb, app)
	if err != nil {
		return nil, nil, err
	}
	tc, err := tb.OpenTunnel(ctx, ci.Org, quietLog())
	if err != nil {
		return nil, nil, fmt.Errorf("open the tunnel to %s: %w", ci.Org, err)
	}
	return tc, ci, nil
}

// listenLocal binds 127.0.0.1:port, saying clearly when it is taken.
func listenLocal(port int) (net.Listener, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, errAddrInUse) {
			return nil, fmt.Errorf("local port %d is already in use: pick another, e.g. `pgtui proxy 15432:5432`", port)
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// checkHost validates a DNS name or IP address given on the command line.
func checkHost(host string) error {
	if host == "" {
		return errors.New("empty host name")
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return nil
	}
	name := strings.TrimSuffix(host, ".")
	if len(name) > 253 {
		return fmt.Errorf("bad DNS name %q: longer than 253 characters", host)
	}
	for _, l := range strings.Split(name, ".") {
		if !dnsLabelRE.MatchString(l) {
			return fmt.Errorf("bad DNS name %q: label %q must be 1-63 letters, digits, '-' or '_', not starting or ending with '-'", host, l)
		}
	}
	return nil
}

// internalName completes a bare name to <name>.internal.
func internalName(host string) string {
	if net.ParseIP(strings.Trim(host, "[]")) != nil || strings.Contains(strings.TrimSuffix(host, "."), ".") {
		return strings.TrimSuffix(host, ".")
	}
	return strings.TrimSuffix(host, ".") + ".internal"
}
