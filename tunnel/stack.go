package tunnel

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"golang.zx2c4.com/wireguard/tun"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// MTU of the tunnel's interfaces, wg-quick's default.
const MTU = 1420

const nicID tcpip.NICID = 1

// TCP buffer bounds of the userspace stacks: large enough that one
// connection fills a loopback WireGuard path.
const (
	tcpBufMin     = 4 << 10
	tcpRcvBufDef  = 1 << 20
	tcpSndBufDef  = 1 << 20
	tcpRcvBufMax  = 8 << 20
	tcpSndBufMax  = 6 << 20
	packetBacklog = 1024
)

// stackDevice is a tun.Device whose other side is a gVisor network stack
// in this process: WireGuard writes decrypted packets into the stack and
// reads the stack's outgoing packets to encrypt. Unlike netstack.Net it
// exposes the stack, so the gateway can accept connections to any address
// (forward mode).
type stackDevice struct {
	ep     *channel.Endpoint
	stack  *stack.Stack
	events chan tun.Event

	ctx    context.Context // ends on Close, unblocking Read
	cancel context.CancelFunc
	once   sync.Once
}

// newStackDevice builds a stack with addrs on its one interface and a
// default route through it. forward turns on promiscuous mode and
// spoofing: the stack accepts packets for any destination and may answer
// from any source, which is how the gateway serves every private address.
func newStackDevice(addrs []netip.Addr, forward bool) (*stackDevice, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol6, icmp.NewProtocol4},
		// HandleLocal in promiscuous mode silently drops packets, so the
		// gateway must run without it.
		HandleLocal: !forward,
	})
	ctx, cancel := context.WithCancel(context.Background())
	d := &stackDevice{ep: channel.New(packetBacklog, MTU, ""), stack: s, events: make(chan tun.Event, 1), ctx: ctx, cancel: cancel}
	if err := tuneTCP(s); err != nil {
		d.Close()
		return nil, err
	}
	if e := s.CreateNIC(nicID, d.ep); e != nil {
		d.Close()
		return nil, fmt.Errorf("netstack: create interface: %v", e)
	}
	if forward {
		if e := s.SetPromiscuousMode(nicID, true); e != nil {
			d.Close()
			return nil, fmt.Errorf("netstack: promiscuous mode: %v", e)
		}
		if e := s.SetSpoofing(nicID, true); e != nil {
			d.Close()
			return nil, fmt.Errorf("netstack: spoofing: %v", e)
		}
	}
	for _, a := range addrs {
		if err := d.addAddr(a); err != nil {
			d.Close()
			return nil, err
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: header.IPv4EmptySubnet, NIC: nicID},
		{Destination: header.IPv6EmptySubnet, NIC: nicID},
	})
	d.events <- tun.EventUp
	return d, nil
}

func tuneTCP(s *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(true)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: tcpBufMin, Default: tcpRcvBufDef, Max: tcpRcvBufMax}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: tcpBufMin, Default: tcpSndBufDef, Max: tcpSndBufMax}
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &rcv, &snd, &moderate} {
		if e := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); e != nil {
			return fmt.Errorf("netstack: tcp option %T: %v", opt, e)
		}
	}
	return nil
}

// addAddr assigns an address to the interface.
func (d *stackDevice) addAddr(a netip.Addr) error {
	proto := ipv6.ProtocolNumber
	if a.Is4() {
		proto = ipv4.ProtocolNumber
	}
	pa := tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: tcpip.AddrFromSlice(a.AsSlice()).WithPrefix()}
	if e := d.stack.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); e != nil {
		return fmt.Errorf("netstack: add address %s: %v", a, e)
	}
	return nil
}

func (d *stackDevice) Name() (string, error)    { return "pgtui", nil }
func (d *stackDevice) File() *os.File           { return nil }
func (d *stackDevice) Events() <-chan tun.Event { return d.events }
func (d *stackDevice) MTU() (int, error)        { return MTU, nil }
func (d *stackDevice) BatchSize() int           { return 64 }

// Read hands WireGuard the stack's outgoing packets: it blocks for the
// first, then takes whatever else is queued, up to len(bufs).
func (d *stackDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	pkt := d.ep.ReadContext(d.ctx)
	if pkt == nil {
		return 0, os.ErrClosed
	}
	n := 0
	for pkt != nil {
		view := pkt.ToView()
		pkt.DecRef()
		m, err := view.Read(bufs[n][offset:])
		view.Release()
		if err != nil {
			return n, fmt.Errorf("netstack: read packet: %w", err)
		}
		sizes[n] = m
		n++
		if n == len(bufs) {
			break
		}
		pkt = d.ep.Read()
	}
	return n, nil
}

// Write injects decrypted packets into the stack.
func (d *stackDevice) Write(bufs [][]byte, offset int) (int, error) {
	for _, b := range bufs {
		p := b[offset:]
		if len(p) == 0 {
			continue
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(p)})
		switch p[0] >> 4 {
		case 4:
			d.ep.InjectInbound(header.IPv4ProtocolNumber, pkt)
		case 6:
			d.ep.InjectInbound(header.IPv6ProtocolNumber, pkt)
		default:
			pkt.DecRef()
			return 0, syscall.EAFNOSUPPORT
		}
		pkt.DecRef()
	}
	return len(bufs), nil
}

// Close tears the stack down; WireGuard's device calls it on its Close.
func (d *stackDevice) Close() error {
	d.once.Do(func() {
		d.cancel()
		d.stack.RemoveNIC(nicID)
		d.stack.Close()
		d.ep.Close()
		close(d.events)
	})
	return nil
}
