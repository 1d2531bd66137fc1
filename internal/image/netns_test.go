package image

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// testNet is a bridge in the root namespace and one network namespace
// joined to it by a veth pair, on a private /24 of 10.232.0.0/16 that no
// interface of this machine uses: the test's own little network. Nothing
// is routed anywhere else.
type testNet struct {
	tag    string
	bridge string
	ns     string
	veth   string
	prefix string // 10.232.N
}

const testNetAlias = "pgtui-image-test pid="

func (n *testNet) bridgeAddr() string { return n.prefix + ".1" }
func (n *testNet) nodeAddr() string   { return n.prefix + ".2" }

// newTestNet makes the network; t.Cleanup removes it.
func newTestNet(t *testing.T) *testNet {
	t.Helper()
	sweepTestNets(t)
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	n := &testNet{tag: hex.EncodeToString(b)}
	n.bridge, n.ns, n.veth = "pgib"+n.tag, "pgin"+n.tag, "pgiv"+n.tag
	used, err := usedPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	for third := int(b[0])%200 + 20; ; third++ {
		p := "10.232." + strconv.Itoa(third%250+1)
		if !used[p] {
			n.prefix = p
			break
		}
		if third > 1000 {
			t.Fatal("no free 10.232.x.0/24 for the test network")
		}
	}
	t.Cleanup(func() { n.remove(t) })
	steps := [][]string{
		{"link", "add", n.bridge, "type", "bridge"},
		{"link", "set", "dev", n.bridge, "alias", testNetAlias + strconv.Itoa(os.Getpid())},
		{"addr", "add", n.bridgeAddr() + "/24", "dev", n.bridge},
		{"link", "set", n.bridge, "up"},
		{"netns", "add", n.ns},
		{"link", "add", n.veth, "type", "veth", "peer", "name", "eth0", "netns", n.ns},
		{"link", "set", n.veth, "master", n.bridge},
		{"link", "set", n.veth, "up"},
		{"-n", n.ns, "link", "set", "lo", "up"},
		{"-n", n.ns, "addr", "add", n.nodeAddr() + "/24", "dev", "eth0"},
		{"-n", n.ns, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (n *testNet) remove(t *testing.T) {
	if err := ipCmd("link", "del", n.veth); err != nil && linkExists(n.veth) {
		t.Errorf("remove test network: %v", err)
	}
	if err := ipCmd("netns", "del", n.ns); err != nil && fileExists("/run/netns/"+n.ns) {
		t.Errorf("remove test network: %v", err)
	}
	if err := ipCmd("link", "del", n.bridge); err != nil && linkExists(n.bridge) {
		t.Errorf("remove test network: %v", err)
	}
}

// sweepTestNets removes networks left by test processes that died.
func sweepTestNets(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		return
	}
	for _, it := range ifs {
		if !strings.HasPrefix(it.Name, "pgib") {
			continue
		}
		b, err := os.ReadFile("/sys/class/net/" + it.Name + "/ifalias")
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(string(b)), testNetAlias))
		if err != nil || fileExists("/proc/"+strconv.Itoa(pid)) {
			continue
		}
		tag := strings.TrimPrefix(it.Name, "pgib")
		stale := &testNet{tag: tag, bridge: it.Name, ns: "pgin" + tag, veth: "pgiv" + tag}
		t.Logf("removing the stale test network %s of dead pid %d", it.Name, pid)
		stale.remove(t)
	}
}

// usedPrefixes lists the 10.232.N prefixes of this machine's IPv4
// addresses.
func usedPrefixes() (map[string]bool, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("interface addresses: %w", err)
	}
	used := map[string]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			ip := ipn.IP.To4()
			used[fmt.Sprintf("%d.%d.%d", ip[0], ip[1], ip[2])] = true
		}
	}
	return used, nil
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func linkExists(name string) bool { _, err := net.InterfaceByName(name); return err == nil }

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
