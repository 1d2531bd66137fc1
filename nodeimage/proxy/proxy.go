// Package proxy forwards client connections to the leader of the newest
// generation. On a generation change it closes every open connection at
// once, so no client keeps talking to a demoted leader.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// dialTimeout bounds connecting to the leader; a leader that does not
// answer within it is as good as gone, and the client should retry.
const dialTimeout = 2 * time.Second

// Target is where new connections go.
type Target struct {
	Generation int64
	Addr       string // leader's postgres host:port; "" refuses
}

// dialFunc connects to the leader; a field so tests can stall a dial.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Proxy is a TCP proxy to the current leader.
type Proxy struct {
	addr string
	log  *slog.Logger
	dial dialFunc

	mu       sync.Mutex
	ln       net.Listener
	served   bool
	stopping bool // Serve is shutting down: refuse everything
	target   Target
	fenced   bool
	conns    map[*pair]struct{}

	wg    sync.WaitGroup // connection goroutines
	stats counters
	bufs  sync.Pool // *[]byte of copyBufSize, reused across connections
}

// New makes a proxy for listenAddr; Listen binds it. logger may be nil.
func New(listenAddr string, logger *slog.Logger) *Proxy {
	if logger == nil {
		logger = slog.Default()
	}
	d := &net.Dialer{Timeout: dialTimeout}
	return &Proxy{addr: listenAddr, log: logger, dial: d.DialContext, conns: map[*pair]struct{}{},
		bufs: sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}}
}

// Listen binds the socket, so bind errors surface synchronously.
func (p *Proxy) Listen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return fmt.Errorf("proxy listen %s: already listening on %s", p.addr, p.ln.Addr())
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("proxy listen %s: %w", p.addr, err)
	}
	p.ln = ln
	return nil
}

// Addr is the bound address, or nil before Listen.
func (p *Proxy) Addr() net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return nil
	}
	return p.ln.Addr()
}

// Serve accepts until ctx ends, then closes the listener and every
// connection, and returns once every connection goroutine has exited.
func (p *Proxy) Serve(ctx context.Context) error {
	ln, err := p.startServing()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	err = p.acceptLoop(ctx, ln)
	ln.Close()
	p.shutdown()
	p.wg.Wait()
	return err
}

func (p *Proxy) startServing() (net.Listener, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.ln == nil:
		return nil, errors.New("proxy serve: Listen was not called")
	case p.served:
		return nil, errors.New("proxy serve: already served")
	}
	p.served = true
	return p.ln, nil
}

// acceptLoop hands each client to its own goroutine, which does the dial,
// so a slow leader never holds up other accepts.
func (p *Proxy) acceptLoop(ctx context.Context, ln net.Listener) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !isTemporary(err) {
				return fmt.Errorf("proxy accept on %s: %w", ln.Addr(), err)
			}
			// e.g. EMFILE: back off rather than spin, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("proxy accept", "err", err, "retry_in", backoff)
			if !sleepCtx(ctx, backoff) {
				return nil
			}
			continue
		}
		backoff = 0
		p.stats.accepted.Add(1)
		p.wg.Go(func() { p.handle(ctx, c) })
	}
}

// isTemporary uses the deprecated Temporary method on purpose: it is still
// how the net package marks EMFILE/ENFILE, which a server should outlive.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// shutdown refuses further registrations and closes every connection.
func (p *Proxy) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopping = true
	p.closeAllLocked()
}
