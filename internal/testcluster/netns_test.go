package testcluster

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

func newTestNetwork(t *testing.T) *network {
	t.Helper()
	if err := NetnsSupported(); err != nil {
		t.Skip(err)
	}
	nw, err := newNetwork()
	if nw != nil {
		t.Cleanup(func() {
			if err := nw.teardown(); err != nil {
				t.Error(err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return nw
}

// A partition must stop an open connection in both directions (not reset
// it), refuse new ones, and a heal must let the stalled bytes through.
func TestPartitionStallsOpenConnections(t *testing.T) {
	nw := newTestNetwork(t)
	ns, veth, host, err := nw.addNode(1)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := inNetns(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial node from the root namespace: %v", err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	exchange := func(from, to net.Conn, msg string, within time.Duration) error {
		if _, err := from.Write([]byte(msg)); err != nil {
			return err
		}
		_ = to.SetReadDeadline(time.Now().Add(within))
		buf := make([]byte, len(msg))
		_, err := io.ReadFull(to, buf)
		return err
	}
	if err := exchange(client, server, "a", 5*time.Second); err != nil {
		t.Fatalf("before partition, client to node: %v", err)
	}
	if err := exchange(server, client, "b", 5*time.Second); err != nil {
		t.Fatalf("before partition, node to client: %v", err)
	}

	c := &Cluster{}
	n := &Node{Name: "n1", veth: veth}
	if err := c.Partition(n); err != nil {
		t.Fatal(err)
	}
	// Nothing arriving within a second is the only observable here.
	var ne net.Error
	if err := exchange(client, server, "c", time.Second); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("partitioned, client to node: err = %v, want a read timeout", err)
	}
	if err := exchange(server, client, "d", time.Second); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("partitioned, node to client: err = %v, want a read timeout", err)
	}
	if conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Fatal("partitioned node accepted a new connection")
	}

	if err := c.Heal(n); err != nil {
		t.Fatal(err)
	}
	// The bytes written during the partition arrive on the same
	// connections at the next retransmission.
	for _, tc := range []struct {
		to   net.Conn
		want string
	}{{server, "c"}, {client, "d"}} {
		_ = tc.to.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 1)
		if _, err := io.ReadFull(tc.to, buf); err != nil || string(buf) != tc.want {
			t.Fatalf("after heal: read %q, %v; want %q", buf, err, tc.want)
		}
	}
}

// Teardown kills what still runs in a namespace and leaves no namespace,
// veth or bridge behind.
func TestTeardownRemovesEverything(t *testing.T) {
	nw := newTestNetwork(t)
	ns, veth, _, err := nw.addNode(1)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	// Wait until ip has entered the namespace and exec'd sleep.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := namespacePids(ns)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(pids, cmd.Process.Pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never showed up in namespace %s", cmd.Process.Pid, ns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	bridge := nw.bridge
	if err := nw.teardown(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("process in the namespace survived teardown")
	}
	if nsExists(ns) {
		t.Errorf("namespace %s left behind", ns)
	}
	for _, link := range []string{veth, bridge} {
		if _, err := net.InterfaceByName(link); err == nil {
			t.Errorf("link %s left behind", link)
		}
	}
}

// A network whose owner died (a run killed by a timeout) is swept by the
// next one.
func TestSweepStaleNetwork(t *testing.T) {
	nw := newTestNetwork(t)
	ns, _, _, err := nw.addNode(1)
	if err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := ip("link", "set", "dev", nw.bridge, "alias", ownerAlias+strconv.Itoa(dead.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	sweepStale()
	if _, err := net.InterfaceByName(nw.bridge); err == nil {
		t.Errorf("stale bridge %s not removed", nw.bridge)
	}
	if _, err := os.Stat("/var/run/netns/" + ns); err == nil {
		t.Errorf("stale namespace %s not removed", ns)
	}
}

// inNetns must leave no thread of this process in the namespace: the main
// thread can only be parked, never discarded, and a process listed in a
// namespace is killed by teardown.
func TestInNetnsReturnsHome(t *testing.T) {
	nw := newTestNetwork(t)
	ns, _, _, err := nw.addNode(1)
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	for range 50 {
		if err := inNetns(ns, func() error {
			var err error
			inside, err = os.Readlink("/proc/thread-self/ns/net")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if inside == home {
		t.Fatalf("inNetns ran in the home namespace %s", home)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if got, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net"); err == nil && got != home {
			t.Errorf("thread %s left in %s", task.Name(), got)
		}
	}
}
