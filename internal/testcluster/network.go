package testcluster

// Exported access to the test network (netns.go) for harnesses that run
// more than a node in a namespace, such as internal/hosts: one bridge,
// namespaces joined to it by veth pairs, stale networks of dead runs swept
// by their name prefix and owner pid.

import (
	"context"
	"net"
)

// Network is a bridge in the root namespace on a free 10.r.s.0/24, with
// namespaces added by AddHost. Close removes everything it made and kills
// whatever still runs in its namespaces.
type Network struct{ nw *network }

// NewNetwork creates the bridge (sweeping networks of dead runs first).
// On error the returned Network, if not nil, must still be closed.
func NewNetwork() (*Network, error) {
	nw, err := newNetwork()
	if nw == nil {
		return nil, err
	}
	return &Network{nw: nw}, err
}

// AddHost creates namespace i (1-based, at most 9) with loopback up and
// eth0 at <prefix>.<i+1>/24 on the bridge; veth is the root-side end.
func (n *Network) AddHost(i int) (ns, veth, addr string, err error) { return n.nw.addNode(i) }

// BridgeAddr is the root namespace's address on the bridge.
func (n *Network) BridgeAddr() string { return n.nw.bridgeHost() }

// Bridge is the bridge's name.
func (n *Network) Bridge() string { return n.nw.bridge }

// Close kills every process left in the namespaces and removes veths,
// namespaces and bridge. It may run again.
func (n *Network) Close() error { return n.nw.teardown() }

// KillNamespace SIGKILLs every process in ns and waits until none is left.
func KillNamespace(ns string) error { return killNamespace(ns) }

// LinkDown and LinkUp take a root-side veth down and up: a partition
// that stalls open connections (nothing is reset) and its heal.
func LinkDown(veth string) error { return ip("link", "set", veth, "down") }

// LinkUp: see LinkDown.
func LinkUp(veth string) error { return ip("link", "set", veth, "up") }

// DialInNetns returns a dialer whose connections start inside namespace
// ns: a client on that host's side of a partition.
func DialInNetns(ns string) DialFunc {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := inNetns(ns, func() error {
			var err error
			conn, err = d.DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
}
