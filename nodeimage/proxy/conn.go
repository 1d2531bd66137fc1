package proxy

import (
	"context"
	"io"
	"net"
	"sync"
)

// pair is one client connection and, once dialed, its upstream.
type pair struct {
	client   net.Conn
	upstream net.Conn // set under Proxy.mu by attach
	gen      int64
	addr     string
	cancel   context.CancelFunc // aborts a dial still in flight
	once     sync.Once
}

// close tears down both sockets; safe from any goroutine, any number of times.
func (pr *pair) close() {
	pr.once.Do(func() {
		pr.cancel()
		pr.client.Close()
		if pr.upstream != nil {
			pr.upstream.Close()
		}
	})
}

// handle runs one client: register, dial, then copy both ways.
func (p *Proxy) handle(ctx context.Context, c net.Conn) {
	pr, dctx := p.register(ctx, c)
	if pr == nil {
		p.log.Debug("proxy refused", "client", c.RemoteAddr())
		p.stats.refused.Add(1)
		c.Close()
		return
	}
	defer p.finish(pr)
	up, err := p.dial(dctx, "tcp", pr.addr)
	if err != nil {
		p.log.Debug("proxy dial leader", "addr", pr.addr, "generation", pr.gen, "err", err)
		return
	}
	if !p.attach(pr, up) {
		up.Close()
		return
	}
	p.log.Debug("proxy conn", "client", c.RemoteAddr(), "addr", pr.addr, "generation", pr.gen)
	p.copyBoth(pr)
}

// register records c under the current target before dialing, so a
// SetTarget or Fence racing with the dial always sees (and closes) it.
func (p *Proxy) register(ctx context.Context, c net.Conn) (*pair, context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || p.fenced || p.target.Addr == "" {
		return nil, nil
	}
	dctx, cancel := context.WithCancel(ctx)
	pr := &pair{client: c, gen: p.target.Generation, addr: p.target.Addr, cancel: cancel}
	p.conns[pr] = struct{}{}
	p.stats.active.Add(1)
	return pr, dctx
}

// attach lets the upstream through only if nothing closed the pair while
// it dialed: a pair still registered has seen no target change or fence.
func (p *Proxy) attach(pr *pair, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, live := p.conns[pr]; !live || pr.gen != p.target.Generation || p.fenced {
		return false
	}
	pr.upstream = up
	return true
}

func (p *Proxy) finish(pr *pair) {
	p.mu.Lock()
	delete(p.conns, pr)
	p.mu.Unlock()
	pr.close()
	p.stats.active.Add(-1)
	p.stats.closed.Add(1)
}

// copyBoth pumps both directions, one on a second goroutine, and returns
// when both are done.
func (p *Proxy) copyBoth(pr *pair) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.stats.bytesOut.Add(uint64(p.pipe(pr, pr.client, pr.upstream)))
	}()
	p.stats.bytesIn.Add(uint64(p.pipe(pr, pr.upstream, pr.client)))
	<-done
}

// copyBufSize is one direction's copy buffer, held while the connection
// lives (so 32 KiB per idle client, HAProxy's default size). A read that
// fills it means a bulk transfer (COPY, a large result), and the
// direction moves to splice(2).
const copyBufSize = 16 << 10

// pipe copies src to dst. Postgres traffic is mostly small messages, and
// for those a plain read and write through a pooled buffer is cheaper
// than splice(2) into a pipe and out again (no pipe per connection,
// fewer syscalls' worth of work: BenchmarkProxyPingPong and
// BenchmarkProxyConnect); for bulk transfers splice moves about twice
// the bytes per CPU second (BenchmarkProxyThroughput). So a direction
// starts buffered and switches to io.Copy, which splices between TCP
// connections, once a read fills the buffer.
// A clean EOF is passed on as a half-close, so the peer can still answer
// (e.g. a client's shutdown(WR)). Any error tears down both directions:
// the other one would otherwise wait on a peer that is gone.
func (p *Proxy) pipe(pr *pair, dst, src net.Conn) int64 {
	n, bulk, err := p.copyMessages(dst, src)
	if bulk {
		var m int64
		m, err = io.Copy(dst, src)
		n += m
	}
	if err != nil {
		pr.close()
		return n
	}
	cw, ok := dst.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		pr.close()
	}
	return n
}

// copyMessages copies with read and write through a pooled buffer until
// EOF (nil error), an error, or a read that fills the buffer (bulk).
func (p *Proxy) copyMessages(dst, src net.Conn) (n int64, bulk bool, err error) {
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	buf := *bp
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, false, werr
			}
			if nr == len(buf) {
				return n, true, nil
			}
		}
		switch {
		case rerr == io.EOF:
			return n, false, nil
		case rerr != nil:
			return n, false, rerr
		}
	}
}
