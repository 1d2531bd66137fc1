package wireguard

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/views"
)

// errNoGateway: the cockpit was built without a way to the gateway.
var errNoGateway = errors.New("this cockpit has no WireGuard gateway (the local platform runs it)")

// gateway resolves the gateway each call: connecting is cheap once the
// platform runs, and the pane holds no connection.
type gateway func() (api.WireGuard, error)

func (g gateway) get() (api.WireGuard, error) {
	if g == nil {
		return nil, errNoGateway
	}
	return g()
}

// list reads the peers with their handshakes and traffic.
func list(g gateway) func(ctx context.Context) ([]api.PeerStatus, error) {
	return func(ctx context.Context) ([]api.PeerStatus, error) {
		wg, err := g.get()
		if err != nil {
			return nil, err
		}
		ps, err := wg.ListPeers(ctx)
		if err != nil {
			return nil, fmt.Errorf("list wireguard peers: %w", err)
		}
		return ps, nil
	}
}

// created is a create task's value: the new peer's configuration, shown
// once.
type created struct{ name, config string }

func create(g gateway, id int, req api.PeerRequest) tea.Cmd {
	return views.RunTask(views.Task{ID: "create-peer", PaneID: id,
		Start: "Creating WireGuard peer " + req.Name + "…", Done: "WireGuard peer " + req.Name + " created",
		Run: func(ctx context.Context) (any, error) {
			wg, err := g.get()
			if err != nil {
				return nil, err
			}
			np, err := wg.CreatePeer(ctx, req)
			if err != nil {
				return nil, fmt.Errorf("create wireguard peer %s: %w", req.Name, err)
			}
			return created{name: req.Name, config: np.Config}, nil
		}})
}

func remove(g gateway, id int, name string) tea.Cmd {
	return views.RunTask(views.Task{ID: "remove-peer", PaneID: id,
		Start: "Removing WireGuard peer " + name + "…", Done: "WireGuard peer " + name + " removed",
		Run: func(ctx context.Context) (any, error) {
			wg, err := g.get()
			if err != nil {
				return nil, err
			}
			if err := wg.RemovePeer(ctx, name); err != nil {
				if errors.Is(err, api.ErrNotFound) {
					return nil, fmt.Errorf("unknown wireguard peer %s: it was removed meanwhile", name)
				}
				return nil, fmt.Errorf("remove wireguard peer %s: %w", name, err)
			}
			return nil, nil
		}})
}
