package proxy

import (
	"io"
	"net"
	"testing"
)

// BenchmarkProxyThroughput echoes 1 MiB writes directly and through the
// proxy, to show what the extra hop costs in bulk.
func BenchmarkProxyThroughput(b *testing.B) {
	be := newBackend(b, echo)
	p := startProxy(b, Target{Generation: 1, Addr: be.addr()})
	b.Run("direct", func(b *testing.B) { benchEcho(b, dial(b, be.addr()), 1<<20) })
	b.Run("proxied", func(b *testing.B) { benchEcho(b, p.connect(b), 1<<20) })
}

// BenchmarkProxyPingPong is one small request and reply per op, like a
// select-only pgbench transaction: latency, not bandwidth.
func BenchmarkProxyPingPong(b *testing.B) {
	be := newBackend(b, echo)
	p := startProxy(b, Target{Generation: 1, Addr: be.addr()})
	b.Run("direct", func(b *testing.B) { benchPingPong(b, dial(b, be.addr())) })
	b.Run("proxied", func(b *testing.B) { benchPingPong(b, p.connect(b)) })
}

// benchEcho writes size bytes per op while reading the echo back
// concurrently, so large writes cannot deadlock on full socket buffers.
func benchEcho(b *testing.B, c net.Conn, size int) {
	msg, got := make([]byte, size), make([]byte, size)
	errc := make(chan error, 1)
	b.SetBytes(int64(size))
	b.ResetTimer()
	go func() {
		for range b.N {
			if _, err := c.Write(msg); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		if _, err := io.ReadFull(c, got); err != nil {
			b.Fatalf("read echo: %v", err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatalf("write: %v", err)
	}
}

// benchPingPong waits for each 64-byte reply before the next request.
func benchPingPong(b *testing.B, c net.Conn) {
	msg := make([]byte, 64)
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatalf("write: %v", err)
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			b.Fatalf("read echo: %v", err)
		}
	}
}

// BenchmarkProxyConnect is a connection per op (connect, one small round
// trip, close), like pgbench -C: what setting up a hop costs.
func BenchmarkProxyConnect(b *testing.B) {
	be := newBackend(b, echo)
	p := startProxy(b, Target{Generation: 1, Addr: be.addr()})
	b.Run("direct", func(b *testing.B) { benchConnect(b, be.addr()) })
	b.Run("proxied", func(b *testing.B) { benchConnect(b, p.Addr().String()) })
}

func benchConnect(b *testing.B, addr string) {
	msg := make([]byte, 64)
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatalf("dial %s: %v", addr, err)
		}
		if _, err := c.Write(msg); err != nil {
			b.Fatalf("write: %v", err)
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			b.Fatalf("read echo: %v", err)
		}
		c.Close()
	}
}
