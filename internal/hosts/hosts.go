// Package hosts makes a cluster spread over hosts on this machine: each
// host is a network namespace on a bridge with an address of its own, and
// runs one member of a three-member etcd cluster over TLS (`pgtui
// etcd-member`, client-certificate authentication) and one `pgtui node`
// that reaches etcd over TLS. Nothing goes through loopback between hosts.
// Faults act on whole hosts: kill -9 a node, kill every process of a host,
// partition a host, stop or kill an etcd member. Close removes every
// process, namespace, veth and bridge; a run killed before Close is swept
// by the next (testcluster.NewNetwork).
package hosts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/internal/testpki"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fixed ports: each host is a namespace of its own.
const (
	EtcdClientPort = 2379
	EtcdPeerPort   = 2380
	ProxyPort      = 5432
	PGPort         = 5433
	HealthPort     = 5500
	MetricsPort    = 9187
)

// Options shape the hosts.
type Options struct {
	Hosts    int      // default 3
	NodeArgs []string // extra flags for every node
	// NodeCommand, when set, makes the command that runs host h's node
	// from the plain node's arguments (starting with "node"), e.g. a
	// `podman run` of the image in h.Netns (image.NodeCmdFromArgs). The
	// harness adds the password variables to its environment and kills
	// it (SIGKILL too) to kill the node. Nil runs the binary.
	NodeCommand func(ctx context.Context, h *Host, args []string) (*exec.Cmd, error)
	// EtcdArgs are extra flags for every etcd member.
	EtcdArgs []string
}

// Cluster is the hosts and the client side of the test (root namespace).
type Cluster struct {
	Name     string
	Dir      string
	Bin      string
	Password string // of every built-in role
	Hosts    []*Host
	// TLS are the client files nodes and the test use for etcd.
	TLS    etcdtls.Files
	Client *clientv3.Client // reaches every member over TLS
	Store  *store.Store
	opts   Options
	net    *testcluster.Network
	ctx    context.Context // ends at Close: NodeCommand's commands
	cancel context.CancelFunc
}

// Host is one namespace with its etcd member and node.
type Host struct {
	Name    string // h1, h2, ... (also the member and node name)
	Addr    string
	Netns   string
	Dir     string
	EtcdLog string
	NodeLog string
	veth    string
	cert    string // member certificate and key
	key     string
	etcd    proc
	node    proc
}

// Supported reports why hosts cannot be made here (not root, no ip, no
// namespaces), or nil.
func Supported() error { return testcluster.NetnsSupported() }

// Start makes the network, certificates, the etcd cluster (waiting for
// its quorum) and starts the nodes without waiting for them.
func Start(bin string, opts Options) (c *Cluster, err error) {
	if opts.Hosts == 0 {
		opts.Hosts = 3
	}
	if opts.Hosts > 9 {
		return nil, fmt.Errorf("at most 9 hosts, not %d", opts.Hosts)
	}
	dir, err := os.MkdirTemp("/tmp", "pgh")
	if err != nil {
		return nil, err
	}
	// postgres runs as the postgres user when we are root: it must reach
	// the data directories below.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c = &Cluster{Name: "h" + randHex(4), Dir: dir, Bin: bin, Password: randHex(16), opts: opts}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	nw, err := testcluster.NewNetwork()
	if nw != nil {
		c.net = nw
	}
	if err != nil {
		return nil, fmt.Errorf("host network: %w", err)
	}
	for i := 1; i <= opts.Hosts; i++ {
		h := &Host{Name: fmt.Sprintf("h%d", i), Dir: filepath.Join(dir, fmt.Sprintf("h%d", i))}
		if h.Netns, h.veth, h.Addr, err = nw.AddHost(i); err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Name, err)
		}
		if err := os.MkdirAll(h.Dir, 0o755); err != nil {
			return nil, err
		}
		h.EtcdLog, h.NodeLog = filepath.Join(h.Dir, "etcd.log"), filepath.Join(h.Dir, "node.log")
		c.Hosts = append(c.Hosts, h)
	}
	if err := c.makeCerts(); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	for _, h := range c.Hosts {
		if err := c.StartEtcd(h); err != nil {
			return nil, err
		}
	}
	tlsCfg, err := etcdtls.ClientConfig(c.TLS)
	if err != nil {
		return nil, err
	}
	if c.Client, err = nodeimage.NewEtcdClientTLS(c.Endpoints(), tlsCfg); err != nil {
		return nil, err
	}
	c.Store = store.New(c.Client, c.Name)
	wctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitEtcd(wctx, len(c.Hosts)); err != nil {
		return nil, err
	}
	for _, h := range c.Hosts {
		if err := c.StartNode(h); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// makeCerts writes a CA, one member certificate per host (its address)
// and the client certificate of nodes and test.
func (c *Cluster) makeCerts() error {
	dir := filepath.Join(c.Dir, "tls")
	ca, err := testpki.NewCA(dir, "ca")
	if err != nil {
		return err
	}
	for _, h := range c.Hosts {
		if h.cert, h.key, err = ca.Server(dir, "member-"+h.Name, h.Addr); err != nil {
			return err
		}
	}
	crt, key, err := ca.Client(dir, "client")
	if err != nil {
		return err
	}
	c.TLS = etcdtls.Files{CACert: ca.Path, Cert: crt, Key: key}
	return nil
}

// Endpoints are every member's client URL.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, h := range c.Hosts {
		eps = append(eps, h.EtcdEndpoint())
	}
	return eps
}

// EtcdEndpoint is the member's client URL.
func (h *Host) EtcdEndpoint() string {
	return fmt.Sprintf("https://%s", net.JoinHostPort(h.Addr, fmt.Sprint(EtcdClientPort)))
}

func (h *Host) peerURL() string {
	return fmt.Sprintf("https://%s", net.JoinHostPort(h.Addr, fmt.Sprint(EtcdPeerPort)))
}

// StartEtcd (re)starts the host's etcd member on its data.
func (c *Cluster) StartEtcd(h *Host) error {
	var initial []string
	for _, o := range c.Hosts {
		initial = append(initial, o.Name+"="+o.peerURL())
	}
	args := []string{"netns", "exec", h.Netns, c.Bin, "etcd-member", "--name", h.Name,
		"--data-dir", filepath.Join(h.Dir, "etcd"), "--client-url", h.EtcdEndpoint(), "--peer-url", h.peerURL(),
		"--initial-cluster", strings.Join(initial, ","),
		"--cert", h.cert, "--key", h.key, "--cacert", c.TLS.CACert}
	args = append(args, c.opts.EtcdArgs...)
	// ip execs the program in place: the pid is etcd's own.
	return h.etcd.start("etcd "+h.Name, exec.Command("ip", args...), h.EtcdLog)
}

// StartNode (re)starts the host's node.
func (c *Cluster) StartNode(h *Host) error {
	// The host's own member first: the client tries endpoints in turn.
	eps := []string{h.EtcdEndpoint()}
	for _, o := range c.Hosts {
		if o != h {
			eps = append(eps, o.EtcdEndpoint())
		}
	}
	args := []string{"node", "--name", h.Name, "--cluster", c.Name, "--data-dir", filepath.Join(h.Dir, "node"),
		"--listen", h.Addr, "--etcd-endpoints", strings.Join(eps, ","),
		"--etcd-cacert", c.TLS.CACert, "--etcd-cert", c.TLS.Cert, "--etcd-key", c.TLS.Key}
	args = append(args, c.opts.NodeArgs...)
	var cmd *exec.Cmd
	if c.opts.NodeCommand != nil {
		var err error
		if cmd, err = c.opts.NodeCommand(c.ctx, h, args); err != nil {
			return fmt.Errorf("node %s: %w", h.Name, err)
		}
	} else {
		cmd = exec.Command("ip", append([]string{"netns", "exec", h.Netns, c.Bin}, args...)...)
	}
	cmd.Env = append(os.Environ(), "PGTUI_SUPERUSER_PASSWORD="+c.Password, "PGTUI_ADMIN_PASSWORD="+c.Password,
		"PGTUI_REPL_PASSWORD="+c.Password)
	return h.node.start("node "+h.Name, cmd, h.NodeLog)
}

// WaitEtcd waits until want members answer and agree on a leader.
func (c *Cluster) WaitEtcd(ctx context.Context, want int) error {
	var last error
	for {
		n := 0
		for _, h := range c.Hosts {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := c.Client.Status(sctx, h.EtcdEndpoint())
			cancel()
			if err == nil && st.Leader != 0 {
				n++
			} else if err != nil {
				last = err
			}
		}
		if n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd: %d of %d members ready (last error: %v): see %s", n, want, last, c.Hosts[0].EtcdLog)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// EtcdLeader returns the host whose member leads raft now.
func (c *Cluster) EtcdLeader(ctx context.Context) (*Host, error) {
	for _, h := range c.Hosts {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := c.Client.Status(sctx, h.EtcdEndpoint())
		cancel()
		if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
			return h, nil
		}
	}
	return nil, errors.New("no etcd member reports itself leader")
}

// MoveEtcdLeader makes h's member the raft leader (a leadership
// transfer asked of the current leader).
func (c *Cluster) MoveEtcdLeader(ctx context.Context, h *Host) error {
	cur, err := c.EtcdLeader(ctx)
	if err != nil {
		return err
	}
	if cur == h {
		return nil
	}
	st, err := c.Client.Status(ctx, h.EtcdEndpoint())
	if err != nil {
		return fmt.Errorf("etcd member %s: %w", h.Name, err)
	}
	tlsCfg, err := etcdtls.ClientConfig(c.TLS)
	if err != nil {
		return err
	}
	// The request must reach the leader itself.
	cli, err := nodeimage.NewEtcdClientTLS([]string{cur.EtcdEndpoint()}, tlsCfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.MoveLeader(ctx, st.Header.MemberId); err != nil {
		return fmt.Errorf("move etcd leadership %s -> %s: %w", cur.Name, h.Name, err)
	}
	return nil
}

// KillNode SIGKILLs the host's node; its postgres dies with it.
func (h *Host) KillNode() { h.node.stop(syscall.SIGKILL, 0) }

// StopNode asks the node to stop cleanly, killing it after timeout.
func (h *Host) StopNode(timeout time.Duration) { h.node.stop(syscall.SIGTERM, timeout) }

// KillEtcd SIGKILLs the host's etcd member.
func (h *Host) KillEtcd() { h.etcd.stop(syscall.SIGKILL, 0) }

// StopEtcd stops the member cleanly (killing it after timeout).
func (h *Host) StopEtcd(timeout time.Duration) { h.etcd.stop(syscall.SIGTERM, timeout) }

// NodeRunning and EtcdRunning report whether the processes run.
func (h *Host) NodeRunning() bool { return h.node.running() }

// EtcdRunning: see NodeRunning.
func (h *Host) EtcdRunning() bool { return h.etcd.running() }

// KillHost SIGKILLs every process in the host's namespace at once (a
// host losing power): node, postgres, etcd member.
func (c *Cluster) KillHost(h *Host) error {
	err := testcluster.KillNamespace(h.Netns)
	// A node run by NodeCommand may live outside the namespace (a podman
	// client): kill what the harness started too.
	h.node.stop(syscall.SIGKILL, 0)
	h.etcd.stop(syscall.SIGKILL, 0)
	if err != nil {
		return fmt.Errorf("kill host %s: %w", h.Name, err)
	}
	return nil
}

// RestartHost starts the member and the node of a killed host again.
func (c *Cluster) RestartHost(h *Host) error {
	if err := c.StartEtcd(h); err != nil {
		return err
	}
	return c.StartNode(h)
}

// Partition cuts the host off from every other host and the test's
// clients (its link to the bridge goes down): open connections stall,
// nothing is reset. Inside, the host still reaches itself.
func (c *Cluster) Partition(h *Host) error {
	if err := testcluster.LinkDown(h.veth); err != nil {
		return fmt.Errorf("partition %s: %w", h.Name, err)
	}
	return nil
}

// Heal reconnects a partitioned host.
func (c *Cluster) Heal(h *Host) error {
	if err := testcluster.LinkUp(h.veth); err != nil {
		return fmt.Errorf("heal %s: %w", h.Name, err)
	}
	return nil
}

// Dial returns a dialer for clients inside the host (its side of a
// partition).
func (h *Host) Dial() testcluster.DialFunc { return testcluster.DialInNetns(h.Netns) }

// ProxyURL is a connection string through the host's proxy.
func (c *Cluster) ProxyURL(h *Host) string {
	return fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=require&connect_timeout=3", c.Password, net.JoinHostPort(h.Addr, fmt.Sprint(ProxyPort)))
}

// DirectURL is a connection string straight to the host's postgres.
func (c *Cluster) DirectURL(h *Host) string {
	return fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=require&connect_timeout=3", c.Password, net.JoinHostPort(h.Addr, fmt.Sprint(PGPort)))
}

// Host returns the host of this name (node and member share it).
func (c *Cluster) Host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Read returns the cluster data, members and leader key.
func (c *Cluster) Read(ctx context.Context) (testcluster.State, error) {
	cd, _, err := c.Store.ClusterData(ctx)
	if err != nil {
		return testcluster.State{}, err
	}
	ms, err := c.Store.Members(ctx)
	if err != nil {
		return testcluster.State{}, err
	}
	lk, err := c.Store.Leader(ctx)
	return testcluster.State{Data: cd, Members: ms, Leader: lk}, err
}

// WaitFor polls the state until cond holds or ctx ends.
func (c *Cluster) WaitFor(ctx context.Context, what string, cond func(testcluster.State) bool) (testcluster.State, error) {
	var last testcluster.State
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := c.Read(rctx)
		cancel()
		if err == nil {
			last = st
			if cond(st) {
				return st, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("waiting for %s: %w; last state: %s", what, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Leader returns the host the cluster data names leader.
func (c *Cluster) Leader(s testcluster.State) (*Host, error) {
	if s.Data == nil || c.Host(s.Data.Leader) == nil {
		return nil, testcluster.ErrNoLeader
	}
	return c.Host(s.Data.Leader), nil
}

// Logs returns the tail of every host's node and etcd logs.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, h := range c.Hosts {
		for _, p := range []string{h.NodeLog, h.EtcdLog} {
			data, _ := os.ReadFile(p)
			ls := strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
			if len(ls) > lines {
				ls = ls[len(ls)-lines:]
			}
			fmt.Fprintf(&b, "==== %s %s\n%s\n", h.Name, p, strings.Join(ls, "\n"))
		}
	}
	return b.String()
}

// Close stops every node and member, removes the network (killing what
// is left in the namespaces) and the directory unless
// PGTUI_KEEP_TEST_DIRS is set. Safe on a half-made cluster.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	for _, h := range c.Hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.StopNode(10 * time.Second) }()
	}
	wg.Wait()
	for _, h := range c.Hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.StopEtcd(5 * time.Second) }()
	}
	wg.Wait()
	c.cancel()
	if c.Client != nil {
		_ = c.Client.Close()
	}
	if c.net != nil {
		if err := c.net.Close(); err != nil {
			slog.Error("remove host network", "bridge", c.net.Bridge(), "err", err)
		}
	}
	if os.Getenv("PGTUI_KEEP_TEST_DIRS") == "" {
		_ = os.RemoveAll(c.Dir)
	}
}

// proc is one child process: started, stopped, reaped.
type proc struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start(what string, cmd *exec.Cmd, logPath string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.done: // exited on its own (killed with its host, crashed)
			p.cmd = nil
		default:
			return fmt.Errorf("%s already running", what)
		}
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", what, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

func (p *proc) stop(sig syscall.Signal, timeout time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	testcluster.SignalAndWait(cmd, done, sig, timeout)
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
