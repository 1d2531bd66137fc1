// Package freeport picks listen ports that tests, benchmarks and the agent
// hand to another process (postgres, a node, etcd) to bind later.
//
// A port found by binding port 0 comes from the kernel's ephemeral range,
// the same range every outgoing connection's source port comes from. Between
// the pick and the other process's bind, any client socket on the same
// address can take it (CI saw postgres fail with "Address already in use"
// held by another test binary's ESTABLISHED connection). So ports are drawn
// from below the ephemeral range, where the kernel never places a client,
// and checked by binding them all at once. Clients' source address for any
// 127.x.y.z destination is 127.0.0.1, so a listener on an address of its own
// (Loopback) cannot meet a client's port at all.
//
// A pick can still race another picker in another process (both check the
// same port in the same instant); callers that can tell a port-in-use start
// failure retry with a new pick.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Floor is the lowest port handed out: below it live the fixed ports of
// well-known services (postgres 5432, the node's 5433/5500/9187, ...).
const Floor = 10000

// minSpan is the fewest ports a usable range must hold.
const minSpan = 1000

// EphemeralRange returns the kernel's range for outgoing connections'
// source ports (net.ipv4.ip_local_port_range); Linux's default when the
// file cannot be read.
func EphemeralRange() (lo, hi int) {
	return parseRange(readFile("/proc/sys/net/ipv4/ip_local_port_range"))
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func parseRange(s string) (lo, hi int) {
	f := strings.Fields(s)
	if len(f) == 2 {
		l, err1 := strconv.Atoi(f[0])
		h, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && l > 0 && l <= h && h <= 65535 {
			return l, h
		}
	}
	return 32768, 60999
}

// Range returns the ports Pick draws from: [Floor, ephemeral low) when that
// holds enough ports, else above the ephemeral range.
func Range() (lo, hi int, err error) {
	return pickRange(EphemeralRange())
}

func pickRange(elo, ehi int) (lo, hi int, err error) {
	if elo-1-Floor+1 >= minSpan {
		return Floor, elo - 1, nil
	}
	if 65535-(ehi+1)+1 >= minSpan {
		return ehi + 1, 65535, nil
	}
	return 0, 0, fmt.Errorf("the ephemeral port range %d-%d leaves fewer than %d ports outside it above %d: narrow net.ipv4.ip_local_port_range", elo, ehi, minSpan, Floor)
}

// InEphemeralRange reports whether port is one the kernel may give a client.
func InEphemeralRange(port int) bool {
	lo, hi := EphemeralRange()
	return port >= lo && port <= hi
}

// TCP returns n distinct TCP ports on host, outside the ephemeral range,
// that were free just now. All n stay bound until every one is picked, so
// none repeats.
func TCP(host string, n int) ([]int, error) {
	return pick(host, n, func(addr string) (func(), error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return func() { ln.Close() }, nil
	})
}

// UDP is TCP for UDP ports.
func UDP(host string, n int) ([]int, error) {
	return pick(host, n, func(addr string) (func(), error) {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, err
		}
		return func() { pc.Close() }, nil
	})
}

// Both returns one port free for TCP and UDP alike (a DNS server).
func Both(host string) (int, error) {
	ps, err := pick(host, 1, func(addr string) (func(), error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			ln.Close()
			return nil, err
		}
		return func() { ln.Close(); pc.Close() }, nil
	})
	if err != nil {
		return 0, err
	}
	return ps[0], nil
}

// attempts bounds the search; a range of thousands of ports mostly free
// never comes near it.
const attempts = 2000

func pick(host string, n int, bind func(addr string) (release func(), err error)) ([]int, error) {
	lo, hi, err := Range()
	if err != nil {
		return nil, err
	}
	var ports []int
	seen := map[int]bool{}
	var lastErr error
	for i := 0; i < attempts && len(ports) < n; i++ {
		p := lo + rand.IntN(hi-lo+1)
		if seen[p] {
			continue
		}
		seen[p] = true
		release, err := bind(net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			if !InUse(err) {
				return nil, fmt.Errorf("free port on %s: %w", host, err)
			}
			lastErr = err
			continue
		}
		defer release()
		ports = append(ports, p)
	}
	if len(ports) < n {
		if lastErr == nil {
			lastErr = errors.New("too many ports tried")
		}
		return nil, fmt.Errorf("free port on %s: only %d of %d found in %d-%d: %w", host, len(ports), n, lo, hi, lastErr)
	}
	return ports, nil
}

// InUse reports whether err is a bind failing on an address in use.
func InUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}

// Loopback returns a random loopback address outside 127.0.0.0/16, where
// clients' source addresses (127.0.0.1) and other defaults live, so a test
// instance's listeners have an address of their own.
func Loopback() string {
	return fmt.Sprintf("127.%d.%d.%d", 10+rand.IntN(200), 1+rand.IntN(254), 2+rand.IntN(252))
}
