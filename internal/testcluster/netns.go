package testcluster

// With Options.Netns every node runs in its own network namespace, joined
// by a veth pair to a bridge in the root namespace where etcd (behind the
// store proxy) and the test's clients live. Partition takes a node's link
// down, which cuts it off from the store, the other nodes and every client
// at once, including connections already open.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Fixed ports inside a node's namespace: the namespace is the node's own,
// so the design's defaults are free.
const (
	netnsProxyPort   = 5432
	netnsPGPort      = 5433
	netnsHealthPort  = 5500
	netnsMetricsPort = 9187
)

// ownerAlias marks a bridge with the process that created it, so a later
// run can remove what a killed run left behind.
const ownerAlias = "pgtui-testcluster pid="

// network is the bridge and the namespaces of one cluster. Every resource
// is recorded as soon as it exists, so teardown removes exactly what was
// made, whatever step failed.
type network struct {
	tag    string // 4 hex chars shared by the bridge, namespaces and veths
	bridge string
	prefix string // "10.r.s": bridge at .1, node i at .i+2
	made   bool   // bridge created
	nss    []string
	veths  []string
}

// NetnsSupported reports why network namespaces cannot be used here (not
// root, no `ip`, or namespaces refused), or nil when they can.
func NetnsSupported() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("ip (iproute2) not found: %w", err)
	}
	// A real probe: root in a restricted container may still be refused.
	probe := "pgtnprobe" + randHex(3)
	if err := ip("netns", "add", probe); err != nil {
		return fmt.Errorf("ip netns unavailable: %w", err)
	}
	if err := ip("netns", "del", probe); err != nil {
		return fmt.Errorf("remove probe namespace: %w", err)
	}
	return nil
}

// newNetwork creates the bridge with a free name and subnet. On error the
// network returned (if any) holds what was made, for teardown.
func newNetwork() (*network, error) {
	sweepStale()
	nw := &network{}
	for i := 0; ; i++ {
		nw.tag = randHex(2)
		nw.bridge = "pgtb" + nw.tag
		if !linkExists(nw.bridge) && !nsExists("pgtn"+nw.tag+"1") {
			break
		}
		if i > 20 {
			return nil, errors.New("no free bridge name")
		}
	}
	prefix, err := freePrefix()
	if err != nil {
		return nil, err
	}
	nw.prefix = prefix
	if err := ip("link", "add", nw.bridge, "type", "bridge"); err != nil {
		return nil, err
	}
	nw.made = true
	steps := [][]string{
		{"link", "set", "dev", nw.bridge, "alias", ownerAlias + strconv.Itoa(os.Getpid())},
		{"addr", "add", nw.prefix + ".1/24", "dev", nw.bridge},
		{"link", "set", nw.bridge, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return nw, err
		}
	}
	return nw, nil
}

// bridgeHost is the root namespace's address on the bridge.
func (nw *network) bridgeHost() string { return nw.prefix + ".1" }

// addNode creates namespace i (1-based) with its veth pair and returns the
// namespace, the root-side veth and the node's address.
func (nw *network) addNode(i int) (ns, veth, host string, err error) {
	ns = fmt.Sprintf("pgtn%s%d", nw.tag, i)
	veth = fmt.Sprintf("pgtv%s%d", nw.tag, i)
	host = fmt.Sprintf("%s.%d", nw.prefix, i+1)
	if err := ip("netns", "add", ns); err != nil {
		return "", "", "", err
	}
	nw.nss = append(nw.nss, ns)
	if err := ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns); err != nil {
		return "", "", "", err
	}
	nw.veths = append(nw.veths, veth)
	steps := [][]string{
		{"link", "set", veth, "master", nw.bridge},
		{"link", "set", veth, "up"},
		{"-n", ns, "addr", "add", host + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return "", "", "", err
		}
	}
	return ns, veth, host, nil
}

// teardown kills whatever still runs in the namespaces, then deletes the
// veths, the namespaces and the bridge. It returns the first error but
// tries all, and may run again.
func (nw *network) teardown() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, ns := range nw.nss {
		keep(killNamespace(ns))
	}
	// Deleting one end of a veth pair deletes both at once, whereas a
	// deleted namespace releases its devices later, asynchronously.
	for _, v := range nw.veths {
		if err := ip("link", "del", v); err != nil && linkExists(v) {
			keep(err)
		}
	}
	for _, ns := range nw.nss {
		if err := ip("netns", "del", ns); err != nil && nsExists(ns) {
			keep(err)
		}
	}
	if nw.made {
		if err := ip("link", "del", nw.bridge); err != nil && linkExists(nw.bridge) {
			keep(err)
		}
	}
	nw.nss, nw.veths, nw.made = nil, nil, false
	return first
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// killNamespace SIGKILLs every process in ns and waits until none is left:
// a namespace with processes outlives `ip netns del`, and so does its veth.
func killNamespace(ns string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := namespacePids(ns)
		if err != nil || len(pids) == 0 {
			return err
		}
		// Never this process: a thread of ours may be in the namespace.
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == os.Getpid() })
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in namespace %s survive SIGKILL", pids, ns)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func namespacePids(ns string) ([]int, error) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		if !nsExists(ns) {
			return nil, nil
		}
		return nil, fmt.Errorf("ip netns pids %s: %w", ns, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func nsExists(ns string) bool {
	_, err := os.Stat("/var/run/netns/" + ns)
	return err == nil
}

// sweepStale removes bridges (with their namespaces) whose creating
// process is gone: a run killed by a test timeout cannot run Close.
func sweepStale() {
	ifs, err := net.Interfaces()
	if err != nil {
		return
	}
	for _, it := range ifs {
		if !strings.HasPrefix(it.Name, "pgtb") || len(it.Name) != 8 {
			continue
		}
		alias, err := os.ReadFile("/sys/class/net/" + it.Name + "/ifalias")
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(string(alias)), ownerAlias))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		nw := &network{tag: it.Name[4:], bridge: it.Name, made: true}
		for _, v := range ifs {
			if strings.HasPrefix(v.Name, "pgtv"+nw.tag) {
				nw.veths = append(nw.veths, v.Name)
			}
		}
		entries, _ := os.ReadDir("/var/run/netns")
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pgtn"+nw.tag) {
				nw.nss = append(nw.nss, e.Name())
			}
		}
		if err := nw.teardown(); err != nil {
			slog.Warn("removing stale test network", "bridge", it.Name, "err", err)
		} else {
			slog.Info("removed stale test network", "bridge", it.Name, "owner_pid", pid)
		}
	}
}

// freePrefix picks 10.r.s.0/24 overlapping no address of this host.
func freePrefix() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("list addresses: %w", err)
	}
	for range 50 {
		r, s := 64+int(randByte())%128, int(randByte())
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.%d.%d.0/24", r, s))
		clash := false
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && (n.Contains(subnet.IP) || subnet.Contains(n.IP)) {
				clash = true
			}
		}
		if !clash {
			return fmt.Sprintf("10.%d.%d", r, s), nil
		}
	}
	return "", errors.New("no free 10.x.y.0/24 subnet")
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// inNetns runs f on an OS thread switched into namespace ns, then switches
// the thread back. Should that fail the thread stays locked, so it is
// discarded with the goroutine rather than reused by the runtime. Sockets
// keep the namespace they were created in, so what f opens works from any
// goroutine afterwards.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer unix.Close(home)
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		err = f()
		// The main thread cannot be discarded, only parked, and would keep
		// the whole process listed in the namespace: always go home.
		if rerr := unix.Setns(home, unix.CLONE_NEWNET); rerr != nil {
			slog.Error("leave network namespace; thread discarded", "ns", ns, "err", rerr)
		} else {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// DialFunc dials like net.Dialer.DialContext (pgconn.DialFunc's shape).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// DialIn returns a dialer whose connections start inside n's namespace: a
// client on the node's side of a partition. Without Netns it is a plain
// dialer.
func (c *Cluster) DialIn(n *Node) DialFunc {
	var d net.Dialer
	if n.Netns == "" {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := inNetns(n.Netns, func() error {
			var err error
			conn, err = d.DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
}

// Partition cuts n off from everything (store, other nodes, clients in the
// root namespace) by taking its link to the bridge down. Open connections
// stall in both directions; nothing is reset.
func (c *Cluster) Partition(n *Node) error {
	if n.veth == "" {
		return fmt.Errorf("partition %s: cluster not started with Netns", n.Name)
	}
	if err := ip("link", "set", n.veth, "down"); err != nil {
		return fmt.Errorf("partition %s: %w", n.Name, err)
	}
	return nil
}

// Heal restores n's link. Stalled connections resume at their next
// retransmission.
func (c *Cluster) Heal(n *Node) error {
	if n.veth == "" {
		return fmt.Errorf("heal %s: cluster not started with Netns", n.Name)
	}
	if err := ip("link", "set", n.veth, "up"); err != nil {
		return fmt.Errorf("heal %s: %w", n.Name, err)
	}
	return nil
}
