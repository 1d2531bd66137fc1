package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
)

const waitLimit = 10 * time.Second

// backend is a local TCP server that records its open connections.
type backend struct {
	ln      net.Listener
	handler func(net.Conn)
	wg      sync.WaitGroup

	mu       sync.Mutex
	open     map[net.Conn]struct{}
	accepted int
}

func echo(c net.Conn) { _, _ = io.Copy(c, c) }

func newBackend(tb testing.TB, handler func(net.Conn)) *backend {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("backend listen: %v", err)
	}
	b := &backend{ln: ln, handler: handler, open: map[net.Conn]struct{}{}}
	b.wg.Go(b.serve)
	tb.Cleanup(b.stop)
	return b
}

func (b *backend) addr() string { return b.ln.Addr().String() }

func (b *backend) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.open[c] = struct{}{}
		b.accepted++
		b.mu.Unlock()
		b.wg.Go(func() {
			b.handler(c)
			b.mu.Lock()
			delete(b.open, c)
			b.mu.Unlock()
			c.Close()
		})
	}
}

func (b *backend) stop() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.open {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *backend) counts() (open, accepted int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.open), b.accepted
}

// runningProxy is a Proxy serving on 127.0.0.1:0 until the test ends.
type runningProxy struct {
	*Proxy
	cancel context.CancelFunc
	done   chan error
}

func testLogger() *slog.Logger {
	if testing.Verbose() && os.Getenv("PROXY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startProxy serves with target t; setup runs before Serve starts.
func startProxy(tb testing.TB, t Target, setup ...func(*Proxy)) *runningProxy {
	tb.Helper()
	p := New("127.0.0.1:0", testLogger())
	if err := p.Listen(); err != nil {
		tb.Fatal(err)
	}
	for _, f := range setup {
		f(p)
	}
	if t != (Target{}) {
		p.SetTarget(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rp := &runningProxy{Proxy: p, cancel: cancel, done: make(chan error, 1)}
	go func() { rp.done <- p.Serve(ctx) }()
	tb.Cleanup(func() { rp.stop(tb) })
	return rp
}

// stop cancels Serve and waits for it; safe to call twice.
func (rp *runningProxy) stop(tb testing.TB) {
	tb.Helper()
	rp.cancel()
	select {
	case err, ok := <-rp.done:
		if ok && err != nil {
			tb.Errorf("Serve: %v", err)
		}
		if ok {
			close(rp.done)
		}
	case <-time.After(waitLimit):
		tb.Fatal("Serve did not return after cancel")
	}
}

func dial(tb testing.TB, addr string) *net.TCPConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func (rp *runningProxy) connect(tb testing.TB) *net.TCPConn {
	tb.Helper()
	return dial(tb, rp.Addr().String())
}

// roundTrip writes msg and expects it echoed back.
func roundTrip(tb testing.TB, c net.Conn, msg string) {
	tb.Helper()
	if err := tryRoundTrip(c, []byte(msg)); err != nil {
		tb.Fatalf("round trip %q: %v", msg, err)
	}
}

func tryRoundTrip(c net.Conn, msg []byte) error {
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo mismatch")
	}
	return nil
}

// expectClosed waits for the peer to close c: EOF, or a reset when the
// proxy closed with unread data.
func expectClosed(tb testing.TB, c net.Conn) {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	var buf [64]byte
	for {
		if _, err := c.Read(buf[:]); err == nil {
			continue // data in flight before the close is fine
		} else if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			tb.Fatal("connection still open")
		}
		return
	}
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // poll interval, not synchronisation
	}
}

// closedPort returns an address nothing listens on: a free port on a
// loopback address of its own, so no other test's socket can take it.
func closedPort(tb testing.TB) string {
	tb.Helper()
	host := freeport.Loopback()
	ps, err := freeport.TCP(host, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return net.JoinHostPort(host, strconv.Itoa(ps[0]))
}
