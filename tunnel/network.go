// Package tunnel is the platform's private network over userspace
// WireGuard: the gateway the agent runs (a WireGuard device on a gVisor
// netstack in forward mode that serves every machine's private address and
// the .internal DNS) and the client that pgtui commands run to reach
// <app>.internal through it. It also reads and writes wg-quick configs, so
// a kernel WireGuard peer can join the same network.
//
// Each org has its own IPv6 unique local /48 (RFC 4193):
//
//	P:0::1      the gateway
//	P:0::3      the DNS server (as fdaa::3 on Fly)
//	P:1::/64    machines, the interface id derived from the machine id
//	P:2::/64    WireGuard peers, numbered
package tunnel

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Subnets of an org's /48.
const (
	subnetInfra   = 0
	subnetMachine = 1
	subnetPeer    = 2
)

// DNSPort is where the gateway answers DNS on the network's DNS address.
const DNSPort = 53

// Network is one org's private network.
type Network struct {
	Prefix netip.Prefix // a /48 in fd00::/8
}

// NewNetwork draws a random unique local /48: fd, then 40 random bits.
func NewNetwork() (Network, error) {
	var b [16]byte
	b[0] = 0xfd
	if _, err := rand.Read(b[1:6]); err != nil {
		return Network{}, fmt.Errorf("random network prefix: %w", err)
	}
	return Network{Prefix: netip.PrefixFrom(netip.AddrFrom16(b), 48)}, nil
}

// ParseNetwork reads a prefix written by Network.String.
func ParseNetwork(s string) (Network, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Network{}, fmt.Errorf("private network %q: %w", s, err)
	}
	if !p.Addr().Is6() || p.Bits() != 48 || p.Addr().As16()[0] != 0xfd || p.Masked() != p {
		return Network{}, fmt.Errorf("private network %q: want a unique local /48 (fdXX:XXXX:XXXX::/48)", s)
	}
	return Network{Prefix: p}, nil
}

func (n Network) String() string { return n.Prefix.String() }

// addr builds P:subnet::iid.
func (n Network) addr(subnet uint16, iid uint64) netip.Addr {
	b := n.Prefix.Addr().As16()
	binary.BigEndian.PutUint16(b[6:8], subnet)
	binary.BigEndian.PutUint64(b[8:16], iid)
	return netip.AddrFrom16(b)
}

// Gateway is the gateway's own address.
func (n Network) Gateway() netip.Addr { return n.addr(subnetInfra, 1) }

// DNS is the DNS server's address.
func (n Network) DNS() netip.Addr { return n.addr(subnetInfra, 3) }

// Machine is a machine's private address, stable for its id.
func (n Network) Machine(id string) netip.Addr {
	sum := sha256.Sum256([]byte("pgtui machine " + id))
	return n.addr(subnetMachine, binary.BigEndian.Uint64(sum[:8]))
}

// Peer is the address of the peer with number i (from 1).
func (n Network) Peer(i uint64) netip.Addr { return n.addr(subnetPeer, i) }

// Contains says whether a is in this network.
func (n Network) Contains(a netip.Addr) bool { return n.Prefix.Contains(a) }
