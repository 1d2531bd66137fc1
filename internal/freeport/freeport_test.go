package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPickRange(t *testing.T) {
	for _, tc := range []struct {
		elo, ehi int
		lo, hi   int
		fails    bool
	}{
		{elo: 32768, ehi: 60999, lo: Floor, hi: 32767}, // Linux default
		{elo: 49152, ehi: 65535, lo: Floor, hi: 49151}, // IANA
		{elo: 10500, ehi: 30000, lo: 30001, hi: 65535}, // too little room below: above it
		{elo: 1024, ehi: 65000, fails: true},           // no room anywhere
		{elo: Floor + minSpan, ehi: 65535, lo: Floor, hi: Floor + minSpan - 1},
	} {
		lo, hi, err := pickRange(tc.elo, tc.ehi)
		if tc.fails {
			if err == nil {
				t.Errorf("ephemeral %d-%d: got %d-%d, want an error", tc.elo, tc.ehi, lo, hi)
			}
			continue
		}
		if err != nil || lo != tc.lo || hi != tc.hi {
			t.Errorf("ephemeral %d-%d: got %d-%d (%v), want %d-%d", tc.elo, tc.ehi, lo, hi, err, tc.lo, tc.hi)
		}
	}
}

func TestParseRange(t *testing.T) {
	for in, want := range map[string][2]int{
		"32768\t60999\n": {32768, 60999},
		"1024 65535":     {1024, 65535},
		"":               {32768, 60999},
		"60999 32768":    {32768, 60999},
		"x y":            {32768, 60999},
	} {
		if lo, hi := parseRange(in); lo != want[0] || hi != want[1] {
			t.Errorf("parseRange(%q) = %d-%d, want %d-%d", in, lo, hi, want[0], want[1])
		}
	}
}

// The old picker (bind port 0, close) always answered inside the
// ephemeral range; these never are, and never repeat.
func TestTCPOutsideEphemeralRange(t *testing.T) {
	ports, err := TCP("127.0.0.1", 200)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if InEphemeralRange(p) {
			t.Errorf("port %d is in the ephemeral range", p)
		}
		if p < Floor {
			t.Errorf("port %d is below %d", p, Floor)
		}
		if seen[p] {
			t.Errorf("port %d handed out twice", p)
		}
		seen[p] = true
	}
	udp, err := UDP("127.0.0.1", 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range udp {
		if InEphemeralRange(p) {
			t.Errorf("udp port %d is in the ephemeral range", p)
		}
	}
}

// oldPicker is the picker CI tripped over: port 0, closed at once.
func oldPicker(host string, n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, err
		}
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	return ports, nil
}

// churn opens n listeners on port 0 and n outgoing connections on
// loopback and holds them, as other test binaries' servers and clients do
// meanwhile. The listeners matter most: bind(0) hands out odd ports and
// connect() even ones first, and CI's failure was a listener of another
// test binary (LISTEN and ESTABLISHED on the port postgres was given).
func churn(t *testing.T, n int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listener: %v", err)
		}
		t.Cleanup(func() { l.Close() })
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("client %s: %v", ln.Addr(), err)
		}
		t.Cleanup(func() { c.Close() })
		s := <-accepted
		t.Cleanup(func() { s.Close() })
	}
}

// bindLater binds each picked port after the clients came and reports how
// many were taken meanwhile: the handover a test's postgres does.
func bindLater(t *testing.T, ports []int) (taken int) {
	t.Helper()
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			if !InUse(err) {
				t.Fatalf("bind %d: %v", p, err)
			}
			taken++
			continue
		}
		ln.Close()
	}
	return taken
}

// Sockets opened elsewhere between the pick and the bind take picked ports
// from the old picker (the control: 3000 listeners over ~14000 odd
// ephemeral ports take some of 100 picked ones all but surely) and never
// from this one.
func TestPickSurvivesOtherSockets(t *testing.T) {
	const picks, sockets = 100, 3000
	oldPorts, err := oldPicker("127.0.0.1", picks)
	if err != nil {
		t.Fatal(err)
	}
	newPorts, err := TCP("127.0.0.1", picks)
	if err != nil {
		t.Fatal(err)
	}
	churn(t, sockets)
	if taken := bindLater(t, newPorts); taken != 0 {
		t.Errorf("%d of %d ports picked by freeport were taken by other sockets before the bind", taken, picks)
	}
	// The control shows the churn does what CI's parallel binaries did.
	if taken := bindLater(t, oldPorts); taken == 0 {
		t.Errorf("control: no port of the old picker was taken by %d sockets; the churn no longer reproduces the race", sockets)
	} else {
		t.Logf("control: %d of %d ports of the old picker were taken by other sockets", taken, picks)
	}
}

func TestLoopback(t *testing.T) {
	for range 1000 {
		ip := net.ParseIP(Loopback())
		if ip == nil || !ip.IsLoopback() || ip.To4()[1] == 0 {
			t.Fatalf("Loopback() = %v: want 127.x.y.z outside 127.0.0.0/16", ip)
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(Loopback(), "0"))
	if err != nil {
		t.Fatalf("listen on Loopback(): %v", err)
	}
	ln.Close()
}
