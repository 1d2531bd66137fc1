package proxy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
)

func TestProxyForwardsBothWays(t *testing.T) {
	b := newBackend(t, echo)
	p := startProxy(t, Target{Generation: 1, Addr: b.addr()})
	c := p.connect(t)
	roundTrip(t, c, "hello")
	roundTrip(t, c, "world")

	// A payload larger than the socket buffers, written while reading, so
	// both directions are busy at once.
	big := make([]byte, 4<<20)
	_, _ = rand.Read(big)
	errc := make(chan error, 1)
	go func() { _, err := c.Write(big); errc <- err }()
	got := make([]byte, len(big))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("echoed payload differs")
	}
	// The bulk moved both directions from buffered copies to splice:
	// small messages, a half-close and the byte counts still work.
	roundTrip(t, c, "after bulk")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Fatalf("after half-close: %q, %v; want EOF", rest, err)
	}
	waitFor(t, "connection finished", func() bool { return p.Stats().Active == 0 })
	want := uint64(len("hello") + len("world") + len(big) + len("after bulk"))
	if s := p.Stats(); s.BytesIn != want || s.BytesOut != want {
		t.Fatalf("bytes in %d, out %d; want %d each way", s.BytesIn, s.BytesOut, want)
	}
}

func TestProxyHalfClose(t *testing.T) {
	// The server answers only after it has read the client's EOF.
	b := newBackend(t, func(c net.Conn) {
		req, err := io.ReadAll(c)
		if err != nil {
			return
		}
		_, _ = c.Write([]byte("got:" + strings.ToUpper(string(req))))
	})
	p := startProxy(t, Target{Generation: 1, Addr: b.addr()})
	c := p.connect(t)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read reply after half-close: %v", err)
	}
	if string(reply) != "got:PING" {
		t.Fatalf("reply = %q, want %q", reply, "got:PING")
	}
	waitFor(t, "connection finished", func() bool { return p.Stats().Active == 0 })
}

func TestProxyServerHalfClose(t *testing.T) {
	// The server says hello, shuts its write side and still reads.
	got := make(chan string, 1)
	b := newBackend(t, func(c net.Conn) {
		_, _ = c.Write([]byte("banner"))
		_ = c.(*net.TCPConn).CloseWrite()
		req, _ := io.ReadAll(c)
		got <- string(req)
	})
	p := startProxy(t, Target{Generation: 1, Addr: b.addr()})
	c := p.connect(t)
	banner, err := io.ReadAll(c)
	if err != nil || string(banner) != "banner" {
		t.Fatalf("banner = %q, %v", banner, err)
	}
	if _, err := c.Write([]byte("after")); err != nil {
		t.Fatalf("write after server half-close: %v", err)
	}
	_ = c.CloseWrite()
	if s := <-got; s != "after" {
		t.Fatalf("server read %q, want %q", s, "after")
	}
}

func TestProxyDialFailureClosesClient(t *testing.T) {
	p := startProxy(t, Target{Generation: 1, Addr: closedPort(t)})
	c := p.connect(t)
	expectClosed(t, c)
	waitFor(t, "failed connection finished", func() bool {
		s := p.Stats()
		return s.Active == 0 && s.Closed == 1
	})
}

func TestProxyStats(t *testing.T) {
	b := newBackend(t, echo)
	p := startProxy(t, Target{Generation: 1, Addr: b.addr()})
	c1, c2 := p.connect(t), p.connect(t)
	roundTrip(t, c1, "12345")
	roundTrip(t, c2, "1234567890")
	waitFor(t, "two active", func() bool { return p.Stats().Active == 2 })
	c1.Close()
	c2.Close()
	waitFor(t, "all finished", func() bool { return p.Stats().Active == 0 })
	s := p.Stats()
	want := Stats{Active: 0, Accepted: 2, BytesIn: 15, BytesOut: 15, Closed: 2}
	if s != want {
		t.Fatalf("stats = %+v, want %+v", s, want)
	}
}

func TestProxyListenErrors(t *testing.T) {
	p := New("127.0.0.1:0", testLogger())
	if p.Addr() != nil {
		t.Fatal("Addr before Listen should be nil")
	}
	if err := p.Serve(t.Context()); err == nil {
		t.Fatal("Serve before Listen should fail")
	}
	if err := p.Listen(); err != nil {
		t.Fatal(err)
	}
	defer p.ln.Close()
	if err := p.Listen(); err == nil {
		t.Fatal("second Listen should fail")
	}
	q := New(p.Addr().String(), testLogger())
	err := q.Listen()
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a taken port: %v", err)
	}
	if !strings.Contains(err.Error(), p.Addr().String()) {
		t.Fatalf("error lacks the address: %v", err)
	}
}
