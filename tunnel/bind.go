package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.zx2c4.com/wireguard/conn"
)

// udpBind is a WireGuard conn.Bind on one IPv4 address. conn.NewDefaultBind
// listens on every address of the host; the gateway listens on loopback
// only, so nothing outside this machine can reach it. Packets are read and
// written in batches (recvmmsg/sendmmsg).
type udpBind struct {
	addr netip.Addr

	mu sync.Mutex
	uc *net.UDPConn
	pc *ipv4.PacketConn
}

const bindBatch = 64

var _ conn.Bind = (*udpBind)(nil)

func newBind(addr netip.Addr) *udpBind { return &udpBind{addr: addr} }

// endpoint is a peer's UDP address.
type endpoint struct{ ap netip.AddrPort }

func (e endpoint) ClearSrc()           {}
func (e endpoint) SrcToString() string { return "" }
func (e endpoint) DstToString() string { return e.ap.String() }
func (e endpoint) DstToBytes() []byte  { b, _ := e.ap.MarshalBinary(); return b }
func (e endpoint) DstIP() netip.Addr   { return e.ap.Addr() }
func (e endpoint) SrcIP() netip.Addr   { return netip.Addr{} }

func (b *udpBind) Open(port uint16) ([]conn.ReceiveFunc, uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uc != nil {
		return nil, 0, conn.ErrBindAlreadyOpen
	}
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(b.addr, port)))
	if err != nil {
		return nil, 0, fmt.Errorf("wireguard listen %s: %w", netip.AddrPortFrom(b.addr, port), err)
	}
	b.uc, b.pc = uc, ipv4.NewPacketConn(uc)
	actual := uint16(uc.LocalAddr().(*net.UDPAddr).Port)
	return []conn.ReceiveFunc{b.receiver(b.pc)}, actual, nil
}

// receiver reads up to len(packets) datagrams in one call. WireGuard
// calls each receive function from one goroutine, so msgs is reused.
func (b *udpBind) receiver(pc *ipv4.PacketConn) conn.ReceiveFunc {
	msgs := make([]ipv4.Message, bindBatch)
	for i := range msgs {
		msgs[i].Buffers = make([][]byte, 1)
	}
	return func(packets [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		msgs := msgs[:min(len(packets), len(msgs))]
		for i := range msgs {
			msgs[i].Buffers[0] = packets[i]
			msgs[i].N, msgs[i].Addr = 0, nil
		}
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			return 0, err
		}
		for i := 0; i < n; i++ {
			sizes[i] = msgs[i].N
			ap := msgs[i].Addr.(*net.UDPAddr).AddrPort()
			eps[i] = endpoint{netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}
		}
		return n, nil
	}
}

func (b *udpBind) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uc == nil {
		return nil
	}
	err := b.uc.Close()
	b.uc, b.pc = nil, nil
	return err
}

func (b *udpBind) SetMark(uint32) error { return nil }
func (b *udpBind) BatchSize() int       { return bindBatch }

func (b *udpBind) ParseEndpoint(s string) (conn.Endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, fmt.Errorf("wireguard endpoint %q: %w", s, err)
	}
	return endpoint{netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, nil
}

func (b *udpBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	b.mu.Lock()
	pc := b.pc
	b.mu.Unlock()
	if pc == nil {
		return net.ErrClosed
	}
	e, ok := ep.(endpoint)
	if !ok {
		return conn.ErrWrongEndpointType
	}
	if !e.ap.Addr().Is4() {
		return errors.New("wireguard: this bind sends to IPv4 endpoints only")
	}
	dst := net.UDPAddrFromAddrPort(e.ap)
	msgs := make([]ipv4.Message, len(bufs))
	for i := range bufs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{bufs[i]}, Addr: dst}
	}
	for len(msgs) > 0 {
		n, err := pc.WriteBatch(msgs, 0)
		if err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}
