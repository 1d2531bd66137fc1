package proxy

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

func TestProxyServeStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	a := newBackend(t, echo) // +1 goroutine: its accept loop
	dialing := make(chan struct{}, 1)
	p := startProxy(t, Target{Generation: 1, Addr: a.addr()}, func(p *Proxy) {
		real := p.dial
		p.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == "stall" {
				dialing <- struct{}{}
				<-ctx.Done() // Serve's end must abort this dial
				return nil, ctx.Err()
			}
			return real(ctx, network, addr)
		}
	})
	var clients []net.Conn
	for range 3 {
		c := p.connect(t)
		roundTrip(t, c, "x")
		clients = append(clients, c)
	}
	// One more connection stuck dialing a leader that never answers.
	p.SetTarget(Target{Generation: 2, Addr: "stall"})
	for _, c := range clients {
		expectClosed(t, c)
	}
	stuck := p.connect(t)
	<-dialing
	waitFor(t, "stalled conn active", func() bool { return p.Stats().Active == 1 })

	p.stop(t) // fails unless Serve's end aborts the stalled dial
	expectClosed(t, stuck)
	if s := p.Stats(); s.Active != 0 {
		t.Fatalf("active = %d after Serve returned", s.Active)
	}
	if _, err := net.DialTimeout("tcp", p.Addr().String(), time.Second); err == nil {
		t.Fatal("listener still accepting after Serve returned")
	}
	waitFor(t, "goroutines gone", func() bool { return runtime.NumGoroutine() <= before+1 })
	if err := p.Serve(t.Context()); err == nil {
		t.Fatal("second Serve should fail")
	}
}

func TestProxyServeReturnsOnCanceledContext(t *testing.T) {
	p := New("127.0.0.1:0", testLogger())
	if err := p.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Serve(ctx); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}
