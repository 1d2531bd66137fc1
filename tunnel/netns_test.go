package tunnel_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testplatform"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
)

// testNamespacePeer writes a config with `pgtui wireguard create`, brings
// it up as a kernel-style TUN interface (wireguard-go) inside a fresh
// network namespace, and runs psql there against <app>.internal, resolved
// by the config's DNS server. The device's UDP socket stays in the root
// namespace, so it reaches the gateway on loopback.
func testNamespacePeer(t *testing.T, p *testplatform.Platform, app string) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to create a network namespace and a TUN device")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("skipped: /dev/net/tun is missing")
	}
	for _, tool := range []string{"ip", "psql", "getent"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s not installed", tool)
		}
	}
	file := filepath.Join(t.TempDir(), "peer.conf")
	cmd := exec.Command(binPath, "wireguard", "create", "personal", "iad", "ns-peer", file)
	cmd.Env = append(os.Environ(), "PGTUI_HOME="+p.Home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgtui wireguard create: %v\n%s", err, out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v", err, fi.Mode())
	}
	conf := readWGQuick(t, file)

	ns := "pgtui-t" + randHex(4)
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ifname := "wgt" + randHex(3)
	dev := tunInNamespace(t, ns, ifname)
	wg := device.NewDevice(dev, conn.NewDefaultBind(), device.NewLogger(device.LogLevelSilent, ""))
	t.Cleanup(wg.Close)
	if err := wg.IpcSet(conf.uapi()); err != nil {
		t.Fatalf("configure wireguard from %s: %v", file, err)
	}
	if err := wg.Up(); err != nil {
		t.Fatal(err)
	}
	run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	run(t, "ip", "-n", ns, "-6", "addr", "add", conf.address, "dev", ifname, "nodad")
	run(t, "ip", "-n", ns, "link", "set", ifname, "up")
	run(t, "ip", "-n", ns, "-6", "route", "add", conf.allowed, "dev", ifname)
	// ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf: the config's DNS.
	etc := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver "+conf.dns+"\noptions timeout:2 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	host := app + ".internal"
	out := run(t, "ip", "netns", "exec", ns, "getent", "ahostsv6", host)
	addr, err := netip.ParseAddr(strings.Fields(out)[0])
	prefix := netip.MustParsePrefix(conf.allowed)
	if err != nil || !prefix.Contains(addr) {
		t.Fatalf("getent ahostsv6 %s in the namespace: %q, want an address in %s", host, out, prefix)
	}
	ci, err := p.Client.ConnectInfo(tctx(t, 10*time.Second), app)
	if err != nil {
		t.Fatal(err)
	}
	psql := exec.Command("ip", "netns", "exec", ns, "psql", "-X", "-At", "-c", "select 1",
		fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=require connect_timeout=10", host))
	psql.Env = append(os.Environ(), "PGPASSWORD="+ci.Password)
	b, err := psql.CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("psql in the namespace: %v\n%s", err, b)
	}
	t.Logf("%s is %s in the namespace; psql select 1 through the TUN peer: ok", host, addr)
}

// tunInNamespace creates a TUN device from a thread that has entered the
// namespace, so the interface (and wireguard-go's netlink watcher) live
// there; the thread then returns to this process's namespace.
func tunInNamespace(t *testing.T, ns, ifname string) tun.Device {
	t.Helper()
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/var/run/netns", ns))
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", ns, err)
	}
	dev, cerr := tun.CreateTUN(ifname, 1420)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("setns back: %v", err) // the thread stays locked and dies with the goroutine
	}
	runtime.UnlockOSThread()
	if cerr != nil {
		t.Fatalf("create TUN %s in %s: %v", ifname, ns, cerr)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

// wgQuick is what the test reads of a wg-quick config, by hand, as
// another WireGuard implementation would.
type wgQuick struct {
	privateKey, address, dns     string
	publicKey, allowed, endpoint string
	keepalive                    string
}

func readWGQuick(t *testing.T, file string) wgQuick {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c wgQuick
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		if !ok {
			continue
		}
		switch k {
		case "PrivateKey":
			c.privateKey = b64hex(t, v)
		case "Address":
			c.address = v
		case "DNS":
			c.dns = v
		case "PublicKey":
			c.publicKey = b64hex(t, v)
		case "AllowedIPs":
			c.allowed = v
		case "Endpoint":
			c.endpoint = v
		case "PersistentKeepalive":
			c.keepalive = v
		}
	}
	if c.privateKey == "" || c.address == "" || c.dns == "" || c.publicKey == "" || c.allowed == "" || c.endpoint == "" || c.keepalive != "15" {
		t.Fatalf("incomplete wg-quick config %s: %+v", file, c)
	}
	return c
}

func (c wgQuick) uapi() string {
	return fmt.Sprintf("private_key=%s\npublic_key=%s\nendpoint=%s\npersistent_keepalive_interval=%s\nallowed_ip=%s\n",
		c.privateKey, c.publicKey, c.endpoint, c.keepalive, c.allowed)
}

// b64hex turns a wg-quick (base64) key into a UAPI (hex) one.
func b64hex(t *testing.T, s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("key %q: %v", s, err)
	}
	return hex.EncodeToString(b)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
