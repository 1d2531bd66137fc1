package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// forward serves one TCP connection that a peer opens to any address: to
// a machine's private address it is spliced to the machine's real address
// and the same port; anything else is refused at once with a reset.
func (g *Gateway) forward(r *tcp.ForwarderRequest) {
	id := r.ID()
	src, _ := netip.AddrFromSlice(id.RemoteAddress.AsSlice())
	dst, _ := netip.AddrFromSlice(id.LocalAddress.AsSlice())
	target, ok := g.target(src, dst, id.LocalPort)
	if !ok {
		r.Complete(true)
		return
	}
	ctx, cancel := context.WithTimeout(g.ctx, DialTimeout)
	var d net.Dialer
	out, err := d.DialContext(ctx, "tcp", target.String())
	cancel()
	if err != nil {
		g.log.Debug("forward refused", "to", target, "err", err)
		r.Complete(true)
		return
	}
	var wq waiter.Queue
	ep, e := r.CreateEndpoint(&wq)
	if e != nil {
		g.log.Debug("forward: accept", "to", target, "err", e)
		r.Complete(true)
		out.Close()
		return
	}
	r.Complete(false)
	ep.SocketOptions().SetKeepAlive(true)
	in := gonet.NewTCPConn(&wq, ep)
	s := &splice{a: in, b: out.(*net.TCPConn)}
	if !g.track(s, true) {
		s.close()
		return
	}
	defer g.track(s, false)
	s.run()
}

// target maps a private destination to a machine's real address. The
// source must be in the same org's network: orgs cannot reach each other.
func (g *Gateway) target(src, dst netip.Addr, port uint16) (netip.AddrPort, bool) {
	g.mu.Lock()
	var org string
	var n Network
	found := false
	for o, nw := range g.networks {
		if nw.Contains(dst) {
			org, n, found = o, nw, true
		}
	}
	g.mu.Unlock()
	if !found || !n.Contains(src) {
		return netip.AddrPort{}, false
	}
	for _, m := range g.cfg.Directory.Machines() {
		if m.Org == org && n.Machine(m.ID) == dst {
			return netip.AddrPortFrom(m.Addr, port), true
		}
	}
	return netip.AddrPort{}, false
}

// track adds (or removes) a live connection, so Close can end it; it
// refuses new ones once the gateway is closed.
func (g *Gateway) track(s *splice, add bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !add {
		delete(g.conns, s)
		return true
	}
	if g.closed {
		return false
	}
	g.conns[s] = struct{}{}
	return true
}

// halfCloser is a connection whose write side can be closed alone.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// splice copies both ways between two connections, passing half-closes
// on, and closes both when both directions are done.
type splice struct {
	a, b halfCloser
	once sync.Once
}

var _ halfCloser = (*gonet.TCPConn)(nil)

func (s *splice) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(s.b, s.a) }()
	go func() { defer wg.Done(); pipe(s.a, s.b) }()
	wg.Wait()
	s.close()
}

func (s *splice) close() {
	s.once.Do(func() {
		s.a.Close()
		s.b.Close()
	})
}

const copyBuf = 256 << 10

// pipe copies src to dst until EOF, then half-closes dst; on an error it
// closes both, so the other direction ends too.
func pipe(dst, src halfCloser) {
	buf := make([]byte, copyBuf)
	_, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		dst.Close()
		src.Close()
		return
	}
	_ = dst.CloseWrite()
}

// tcpipAddr converts an address for the stack.
func tcpipAddr(a netip.Addr) tcpip.Address { return tcpip.AddrFromSlice(a.AsSlice()) }
