package proxy

import (
	"context"
	"net"
	"testing"
)

func TestProxySwitchClosesConnections(t *testing.T) {
	a, b := newBackend(t, echo), newBackend(t, echo)
	p := startProxy(t, Target{Generation: 1, Addr: a.addr()})
	c1, c2 := p.connect(t), p.connect(t)
	roundTrip(t, c1, "one")
	roundTrip(t, c2, "two")

	if !p.SetTarget(Target{Generation: 2, Addr: b.addr()}) {
		t.Fatal("SetTarget to a newer generation refused")
	}
	expectClosed(t, c1)
	expectClosed(t, c2)
	waitFor(t, "old backend drained", func() bool { open, _ := a.counts(); return open == 0 })

	c3 := p.connect(t)
	roundTrip(t, c3, "three")
	if _, acc := a.counts(); acc != 2 {
		t.Fatalf("old backend accepted %d, want 2", acc)
	}
	if open, acc := b.counts(); open != 1 || acc != 1 {
		t.Fatalf("new backend open=%d accepted=%d, want 1/1", open, acc)
	}
}

func TestProxySameTargetKeepsConnections(t *testing.T) {
	a, b := newBackend(t, echo), newBackend(t, echo)
	tg := Target{Generation: 3, Addr: a.addr()}
	p := startProxy(t, tg)
	c := p.connect(t)
	roundTrip(t, c, "x")
	// The keeper re-applies the same target every loop (e.g. across a
	// short store outage); that must not drop anyone.
	for range 10 {
		p.SetTarget(tg)
	}
	roundTrip(t, c, "still here")

	// Same generation, new address (leader re-registered elsewhere): close.
	p.SetTarget(Target{Generation: 3, Addr: b.addr()})
	expectClosed(t, c)
	roundTrip(t, p.connect(t), "on b")
	if _, acc := b.counts(); acc != 1 {
		t.Fatalf("b accepted %d, want 1", acc)
	}
}

func TestProxyIgnoresOlderGeneration(t *testing.T) {
	a, b := newBackend(t, echo), newBackend(t, echo)
	p := startProxy(t, Target{Generation: 5, Addr: a.addr()})
	c := p.connect(t)
	roundTrip(t, c, "x")
	if p.SetTarget(Target{Generation: 4, Addr: b.addr()}) {
		t.Fatal("older generation accepted")
	}
	if got := p.Current(); got != (Target{Generation: 5, Addr: a.addr()}) {
		t.Fatalf("Current = %+v after stale SetTarget", got)
	}
	roundTrip(t, c, "still open")
	roundTrip(t, p.connect(t), "new conn still to a")
	if _, acc := b.counts(); acc != 0 {
		t.Fatalf("stale backend got %d connections", acc)
	}
}

func TestProxyRefusesWithoutLeader(t *testing.T) {
	a := newBackend(t, echo)
	p := startProxy(t, Target{})
	expectClosed(t, p.connect(t)) // nothing installed yet

	p.SetTarget(Target{Generation: 1, Addr: a.addr()})
	c := p.connect(t)
	roundTrip(t, c, "x")
	// Leader lost at the same generation: existing and new are closed.
	p.SetTarget(Target{Generation: 1})
	expectClosed(t, c)
	expectClosed(t, p.connect(t))
	if _, acc := a.counts(); acc != 1 {
		t.Fatalf("backend accepted %d, want 1", acc)
	}
	if s := p.Stats(); s.Refused != 2 {
		t.Fatalf("refused = %d, want 2", s.Refused)
	}
}

func TestProxyFence(t *testing.T) {
	a := newBackend(t, echo)
	tg := Target{Generation: 7, Addr: a.addr()}
	p := startProxy(t, tg)
	c := p.connect(t)
	roundTrip(t, c, "x")

	p.Fence("lost the store")
	expectClosed(t, c)
	expectClosed(t, p.connect(t))
	p.Fence("again") // idempotent
	if p.Current() != tg {
		t.Fatalf("Fence changed the target: %+v", p.Current())
	}
	// An empty address does not lift the fence.
	p.SetTarget(Target{Generation: 8})
	expectClosed(t, p.connect(t))
	if p.SetTarget(tg) {
		t.Fatal("generation 7 accepted after 8")
	}
	expectClosed(t, p.connect(t))

	p.SetTarget(Target{Generation: 8, Addr: a.addr()})
	roundTrip(t, p.connect(t), "unfenced")
	if _, acc := a.counts(); acc != 2 {
		t.Fatalf("backend accepted %d, want 2", acc)
	}
}

func TestProxyFenceThenSameTargetUnfences(t *testing.T) {
	a := newBackend(t, echo)
	tg := Target{Generation: 2, Addr: a.addr()}
	p := startProxy(t, tg)
	p.Fence("deadline passed")
	expectClosed(t, p.connect(t))
	p.SetTarget(tg) // state confirmed again, nothing changed
	roundTrip(t, p.connect(t), "back")
}

// A switch while a connection is still dialing the old leader must not
// let that connection through.
func TestProxySwitchDuringDial(t *testing.T) {
	a, b := newBackend(t, echo), newBackend(t, echo)
	entered, release := make(chan string), make(chan struct{})
	p := startProxy(t, Target{}, func(p *Proxy) {
		real := p.dial
		p.dial = func(_ context.Context, network, addr string) (net.Conn, error) {
			entered <- addr
			<-release
			// Ignore ctx on purpose: the dial "won" the race with the switch.
			return real(context.Background(), network, addr)
		}
	})
	p.SetTarget(Target{Generation: 1, Addr: a.addr()})
	c := p.connect(t)
	if addr := <-entered; addr != a.addr() {
		t.Fatalf("dialed %s, want %s", addr, a.addr())
	}
	p.SetTarget(Target{Generation: 2, Addr: b.addr()})
	close(release)
	expectClosed(t, c)
	waitFor(t, "late upstream closed", func() bool {
		open, acc := a.counts()
		return acc == 1 && open == 0
	})
	waitFor(t, "pair finished", func() bool { return p.Stats().Active == 0 })
}

// A switch cancels a dial in flight instead of waiting for its timeout.
func TestProxySwitchCancelsDial(t *testing.T) {
	entered := make(chan struct{})
	p := startProxy(t, Target{}, func(p *Proxy) {
		p.dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			close(entered)
			<-ctx.Done()
			return nil, ctx.Err()
		}
	})
	p.SetTarget(Target{Generation: 1, Addr: "192.0.2.1:5433"})
	c := p.connect(t)
	<-entered
	p.SetTarget(Target{Generation: 2, Addr: "192.0.2.2:5433"})
	expectClosed(t, c)
	waitFor(t, "dial abandoned", func() bool { return p.Stats().Active == 0 })
}
