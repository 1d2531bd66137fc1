// Package proxy forwards client connections to the leader of the newest
// generation. On a generation change it closes every open connection at
// once, so no client keeps talking to a demoted leader.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Target is where new connections go.
type Target struct {
	Generation int64
	Addr       string // leader's postgres host:port; "" refuses
}

// Stats are the proxy's counters, for metrics.
type Stats struct {
	Active            int64
	Accepted          uint64
	BytesIn, BytesOut uint64
	Closed            uint64
}

// Proxy is a TCP proxy to the current leader.
type Proxy struct {
	addr string
	log  *slog.Logger
	ln   net.Listener

	mu     sync.Mutex
	target Target
	fenced bool
	conns  map[*pair]struct{}

	wg                                  sync.WaitGroup
	active                              atomic.Int64
	accepted, bytesIn, bytesOut, closed atomic.Uint64
}

// pair is one client connection and its upstream.
type pair struct {
	client, upstream net.Conn
	gen              int64
	once             sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		p.client.Close()
		if p.upstream != nil {
			p.upstream.Close()
		}
	})
}

// New makes a proxy for listenAddr; Listen binds it.
func New(listenAddr string, logger *slog.Logger) *Proxy {
	if logger == nil {
		logger = slog.Default()
	}
	return &Proxy{addr: listenAddr, log: logger, conns: map[*pair]struct{}{}}
}

// Listen binds the socket, so bind errors surface synchronously.
func (p *Proxy) Listen() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("proxy listen %s: %w", p.addr, err)
	}
	p.ln = ln
	return nil
}

// Addr is the bound address.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Serve accepts until ctx ends, then closes everything and waits for every
// connection goroutine.
func (p *Proxy) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { p.ln.Close() })
	defer stop()
	defer p.wg.Wait()
	defer p.closeAll()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			p.log.Warn("accept", "err", err)
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: do not spin
			continue
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.handle(c)
	}
}

// register records a new client for the current target, or refuses it.
func (p *Proxy) register(c net.Conn) (*pair, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fenced || p.target.Addr == "" {
		return nil, ""
	}
	pr := &pair{client: c, gen: p.target.Generation}
	p.conns[pr] = struct{}{}
	return pr, p.target.Addr
}

func (p *Proxy) unregister(pr *pair) {
	p.mu.Lock()
	delete(p.conns, pr)
	p.mu.Unlock()
	pr.close()
}

func (p *Proxy) handle(c net.Conn) {
	defer p.wg.Done()
	pr, addr := p.register(c)
	if pr == nil {
		c.Close()
		return
	}
	p.active.Add(1)
	defer func() { p.active.Add(-1); p.closed.Add(1); p.unregister(pr) }()
	up, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		p.log.Debug("dial leader", "addr", addr, "err", err)
		return
	}
	// The target may have moved on while we dialed; closeAll may already
	// have closed the client. Attach the upstream under the lock so a
	// concurrent switch always closes both.
	p.mu.Lock()
	_, live := p.conns[pr]
	if live && pr.gen == p.target.Generation && !p.fenced {
		pr.upstream = up
	}
	p.mu.Unlock()
	if pr.upstream == nil {
		up.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		p.bytesOut.Add(uint64(pipe(up, c)))
		close(done)
	}()
	p.bytesIn.Add(uint64(pipe(c, up)))
	<-done
}

// pipe copies src to dst (splice(2) between TCP sockets on Linux) and
// half-closes dst when src ends.
func pipe(dst, src net.Conn) int64 {
	n, _ := io.Copy(dst, src)
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		dst.Close()
	}
	return n
}

// SetTarget installs the leader for a generation; any change closes every
// open connection first. Older generations are ignored.
func (p *Proxy) SetTarget(t Target) bool {
	p.mu.Lock()
	if t.Generation < p.target.Generation {
		p.mu.Unlock()
		return false
	}
	changed := t != p.target
	unfence := p.fenced && t.Addr != ""
	p.target = t
	if unfence {
		p.fenced = false
	}
	var n int
	if changed {
		n = p.closeAllLocked()
	}
	p.mu.Unlock()
	if changed {
		p.log.Info("proxy switched", "generation", t.Generation, "addr", t.Addr, "closed", n)
	} else if unfence {
		p.log.Info("proxy unfenced", "generation", t.Generation, "addr", t.Addr)
	}
	return true
}

// Current returns the installed target.
func (p *Proxy) Current() Target {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// Fence closes every connection and refuses new ones until a SetTarget
// with an address.
func (p *Proxy) Fence(reason string) {
	p.mu.Lock()
	was := p.fenced
	p.fenced = true
	n := p.closeAllLocked()
	p.mu.Unlock()
	if !was {
		p.log.Warn("proxy fenced", "reason", reason, "closed", n)
	}
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	p.closeAllLocked()
	p.mu.Unlock()
}

func (p *Proxy) closeAllLocked() int {
	n := len(p.conns)
	for pr := range p.conns {
		pr.close()
		delete(p.conns, pr)
	}
	return n
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	return Stats{Active: p.active.Load(), Accepted: p.accepted.Load(), BytesIn: p.bytesIn.Load(), BytesOut: p.bytesOut.Load(), Closed: p.closed.Load()}
}
