// Package testcluster starts a real HA cluster for tests and benchmarks:
// an embedded etcd and `pgtui node` processes, each on its own loopback
// address (or, with Options.Netns, in its own network namespace), all
// under one temporary directory. Close stops every process it started and
// removes every namespace, link and bridge it created.
package testcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/embedetcd"
	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
	"github.com/pgtui/pgtui/nodeimage/proxy"
	"github.com/pgtui/pgtui/nodeimage/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Options shape a cluster.
type Options struct {
	Nodes     int
	Async     bool     // asynchronous replication
	ExtraArgs []string // passed to every node
	// Netns runs each node in its own network namespace on a bridge, so
	// that Partition can cut one off. Needs root and iproute2; see
	// NetnsSupported.
	Netns bool
	// EtcdTLS makes etcd also serve TLS with client-certificate
	// authentication (Cluster.TLS), for clients such as `pgtui clusters
	// add`; the nodes keep the plain listener.
	EtcdTLS bool
}

// Cluster is a running test cluster.
type Cluster struct {
	Name string
	Dir  string
	Bin  string
	Etcd *embedetcd.Server
	// storeProxy sits between the nodes and etcd so a test can cut the
	// nodes off from the store (StoreOutage) without restarting etcd.
	storeProxy *proxy.Proxy
	stopProxy  context.CancelFunc
	Client     *clientv3.Client
	Store      *store.Store
	Nodes      []*Node
	Password   string // of every built-in role
	// TLS reaches etcd over TLS (Options.EtcdTLS), else nil.
	TLS  *EtcdTLS
	opts Options
	net  *network // nil without Options.Netns
}

// Node is one `pgtui node` process.
type Node struct {
	Name        string
	Host        string
	ProxyPort   int
	PGPort      int
	HealthPort  int
	MetricsPort int
	DataDir     string
	LogPath     string
	Netns       string // the node's network namespace ("" without Netns)
	veth        string // root-side end of its link to the bridge

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// BuildBinary compiles ./cmd/pgtui into dir and returns its path.
func BuildBinary(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "pgtui")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/pgtui")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build pgtui: %v\n%s", err, b)
	}
	return bin, nil
}

// Start creates the directory tree, etcd and the nodes, without waiting
// for the cluster to be ready.
func Start(bin string, opts Options) (*Cluster, error) {
	dir, err := os.MkdirTemp("/tmp", "pgtc")
	if err != nil {
		return nil, err
	}
	// postgres runs as the postgres user when we are root: it must be able
	// to reach the data directories below.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{Name: "c" + randHex(4), Dir: dir, Bin: bin, Password: randHex(16), opts: opts}
	storeHost := "127.0.0.1"
	if opts.Netns {
		nw, err := newNetwork()
		c.net = nw // set even on error: Close removes what was made
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("create test network: %w", err)
		}
		storeHost = nw.bridgeHost()
	}
	if err := c.startEtcd(storeHost); err != nil {
		c.Close()
		return nil, err
	}
	subnet := 1 + int(randByte())%250
	for i := 0; i < opts.Nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		var n *Node
		var err error
		if c.net != nil {
			n, err = c.newNetnsNode(name, i+1)
		} else {
			n, err = c.newNode(name, fmt.Sprintf("127.%d.%d.%d", 10+int(randByte())%200, subnet, i+2))
		}
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
		if err := c.StartNode(n); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// startEtcd runs etcd on loopback and the store proxy, which the nodes
// use, on storeHost.
func (c *Cluster) startEtcd(storeHost string) error {
	// etcd on a loopback address of its own: its ports are picked before
	// etcd binds them; should another process take one meanwhile, pick again.
	var u url.URL
	var srv *embedetcd.Server
	for attempt := 1; ; attempt++ {
		var err error
		if u, err = embedetcd.FreeURL(freeport.Loopback()); err != nil {
			return err
		}
		if srv, err = embedetcd.New(filepath.Join(c.Dir, "etcd"), u, nil); err != nil {
			return err
		}
		if c.opts.EtcdTLS {
			host := fmt.Sprintf("127.%d.%d.1", 10+int(randByte())%200, 1+int(randByte())%250)
			if c.TLS, err = makeEtcdTLS(filepath.Join(c.Dir, "tls"), host, srv); err != nil {
				return fmt.Errorf("etcd certificates: %w", err)
			}
		}
		if err = srv.Start(); err == nil {
			break
		} else if !freeport.InUse(err) || attempt == 5 {
			return err
		}
	}
	c.Etcd = srv
	px := proxy.New(net.JoinHostPort(storeHost, "0"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := px.Listen(); err != nil {
		return err
	}
	px.SetTarget(proxy.Target{Generation: 1, Addr: u.Host})
	pctx, cancel := context.WithCancel(context.Background())
	go func() { _ = px.Serve(pctx) }()
	c.storeProxy, c.stopProxy = px, cancel
	cli, err := nodeimage.NewEtcdClient(srv.Endpoints())
	if err != nil {
		return err
	}
	c.Client = cli
	c.Store = store.New(cli, c.Name)
	return nil
}

func (c *Cluster) newNode(name, host string) (*Node, error) {
	n := &Node{Name: name, Host: host, DataDir: filepath.Join(c.Dir, name), LogPath: filepath.Join(c.Dir, name+".log")}
	ports, err := FreePorts(host, 4)
	if err != nil {
		return nil, err
	}
	n.ProxyPort, n.PGPort, n.HealthPort, n.MetricsPort = ports[0], ports[1], ports[2], ports[3]
	return n, nil
}

// newNetnsNode creates namespace i for a node; its ports are the defaults,
// free in a namespace of its own.
func (c *Cluster) newNetnsNode(name string, i int) (*Node, error) {
	ns, veth, host, err := c.net.addNode(i)
	if err != nil {
		return nil, fmt.Errorf("network for node %s: %w", name, err)
	}
	return &Node{Name: name, Host: host, DataDir: filepath.Join(c.Dir, name), LogPath: filepath.Join(c.Dir, name+".log"),
		Netns: ns, veth: veth, ProxyPort: netnsProxyPort, PGPort: netnsPGPort, HealthPort: netnsHealthPort, MetricsPort: netnsMetricsPort}, nil
}

// StartNode (re)starts a node's process.
func (c *Cluster) StartNode(n *Node) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("node %s already running", n.Name)
	}
	args := []string{"node", "--name", n.Name, "--cluster", c.Name, "--data-dir", n.DataDir, "--listen", n.Host,
		"--etcd-endpoints", "http://" + c.storeProxy.Addr().String(),
		"--proxy-port", strconv.Itoa(n.ProxyPort), "--pg-port", strconv.Itoa(n.PGPort), "--health-port", strconv.Itoa(n.HealthPort),
		"--metrics-port", strconv.Itoa(n.MetricsPort)}
	if c.opts.Async {
		args = append(args, "--async")
	}
	args = append(args, c.opts.ExtraArgs...)
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.Bin, args...)
	if n.Netns != "" {
		// ip execs the node in place, so the pid (signals, Kill) is the
		// node's own; postgres inherits the namespace.
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.Netns, c.Bin}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "PGTUI_SUPERUSER_PASSWORD="+c.Password, "PGTUI_ADMIN_PASSWORD="+c.Password, "PGTUI_REPL_PASSWORD="+c.Password)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start node %s: %w", n.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	n.cmd, n.done = cmd, done
	return nil
}

// StoreOutage cuts every node off from etcd for d: open store connections
// are closed and new ones refused, then service resumes.
func (c *Cluster) StoreOutage(d time.Duration) {
	c.storeProxy.Fence("store outage")
	t := time.NewTimer(d)
	<-t.C
	c.storeProxy.SetTarget(c.storeProxy.Current())
}

// Signal sends sig to the node process only (not its postgres).
func (n *Node) Signal(sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("node %s not running", n.Name)
	}
	return n.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL to the node process and waits for it; its postgres
// dies with it (parent-death signal).
func (n *Node) Kill() {
	n.stop(syscall.SIGKILL, 0)
}

// Stop asks the node to shut down cleanly, killing it after timeout.
func (n *Node) Stop(timeout time.Duration) {
	n.stop(syscall.SIGTERM, timeout)
}

func (n *Node) stop(sig syscall.Signal, timeout time.Duration) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	SignalAndWait(cmd, done, sig, timeout)
}

// SignalAndWait sends sig to cmd's process (after SIGCONT: a stopped
// process cannot exit), kills it when it outlives timeout (none when 0),
// and waits until done is closed.
func SignalAndWait(cmd *exec.Cmd, done <-chan struct{}, sig syscall.Signal, timeout time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(sig)
	if timeout > 0 {
		select {
		case <-done:
			return
		case <-time.After(timeout):
			_ = cmd.Process.Kill()
		}
	}
	<-done
}

// Running reports whether the node process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Pid of the node process (0 if stopped).
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// PostgresPid reads the postmaster's pid from its pid file.
func (n *Node) PostgresPid() (int, error) {
	b, err := os.ReadFile(filepath.Join(n.DataDir, "pgdata", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// ProxyURL is a connection string through the node's proxy.
func (c *Cluster) ProxyURL(n *Node) string {
	return fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=require&connect_timeout=3", c.Password, net.JoinHostPort(n.Host, strconv.Itoa(n.ProxyPort)))
}

// DirectURL is a connection string straight to the node's postgres.
func (c *Cluster) DirectURL(n *Node) string {
	return fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=require&connect_timeout=3", c.Password, net.JoinHostPort(n.Host, strconv.Itoa(n.PGPort)))
}

// NodeToken is the bearer token of the nodes' /checks and /logs.
func (c *Cluster) NodeToken() string { return nodeapi.Token(c.Name, c.Password) }

// Node returns the node with this name.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// State is one read of the cluster data and members.
type State struct {
	Data    *cluster.Data
	Members map[string]cluster.MemberState
	Leader  cluster.LeaderKey
}

// Read returns the current state.
func (c *Cluster) Read(ctx context.Context) (State, error) {
	cd, _, err := c.Store.ClusterData(ctx)
	if err != nil {
		return State{}, err
	}
	ms, err := c.Store.Members(ctx)
	if err != nil {
		return State{}, err
	}
	lk, err := c.Store.Leader(ctx)
	return State{Data: cd, Members: ms, Leader: lk}, err
}

// WaitFor polls the state until cond holds or ctx ends; the error names
// what was awaited and the last state.
func (c *Cluster) WaitFor(ctx context.Context, what string, cond func(State) bool) (State, error) {
	var last State
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

// String summarises a state for error messages.
func (s State) String() string {
	if s.Data == nil {
		return "not bootstrapped"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "gen=%d leader=%s key=%s async=%v sync=%s safe=%v;", s.Data.Generation, s.Data.Leader, s.Leader.Holder, s.Data.Async, s.Data.SyncStandby, s.Data.SyncSafe)
	for name, m := range s.Members {
		if m.Info == nil {
			continue
		}
		fmt.Fprintf(&b, " %s(alive=%v role=%s gen=%d healthy=%v streaming=%v wal=%d)", name, m.Alive, m.Info.Role, m.Info.Generation, m.Info.Healthy, m.Info.Streaming, m.Info.WAL)
	}
	return b.String()
}

// Healthy: one converged leader and want streaming replicas of this
// generation; with sync mode also a settled sync standby (when want > 0).
func Healthy(want int, sync bool) func(State) bool {
	return func(s State) bool {
		// A pending switchover is not settled: its leader may stop next.
		if s.Data == nil || s.Data.Leader == "" || s.Leader.Holder != s.Data.Leader || s.Data.Switchover != nil {
			return false
		}
		l := s.Members[s.Data.Leader]
		if !l.Alive || l.Info == nil || l.Info.Role != cluster.RoleLeader || l.Info.Generation != s.Data.Generation {
			return false
		}
		n := 0
		for name, m := range s.Members {
			if name != s.Data.Leader && m.Alive && m.Info != nil && m.Info.Role == cluster.RoleReplica && m.Info.Streaming &&
				m.Info.Follow == s.Data.Leader && m.Info.Generation == s.Data.Generation {
				n++
			}
		}
		if sync && want > 0 && (s.Data.Async || len(s.Data.SyncSafe) != 1) {
			return false
		}
		return n >= want
	}
}

// Connect opens a pgx connection.
func Connect(ctx context.Context, url string) (*pgx.Conn, error) {
	return pgx.Connect(ctx, url)
}

// Close stops every node (killing what does not stop), etcd, removes the
// test network (whatever runs in its namespaces is killed first) and the
// directory unless PGTUI_KEEP_TEST_DIRS is set. It is safe on a cluster
// that Start left half made.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func(n *Node) { defer wg.Done(); n.Stop(15 * time.Second) }(n)
	}
	wg.Wait()
	if c.Client != nil {
		c.Client.Close()
	}
	if c.stopProxy != nil {
		c.stopProxy()
	}
	if c.Etcd != nil {
		c.Etcd.Stop()
	}
	if c.net != nil {
		if err := c.net.teardown(); err != nil {
			slog.Error("remove test network", "bridge", c.net.bridge, "err", err)
		}
	}
	if os.Getenv("PGTUI_KEEP_TEST_DIRS") == "" {
		_ = os.RemoveAll(c.Dir)
	}
}

// Logs returns the tail of every node's log, for failure messages.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	for _, n := range c.Nodes {
		data, _ := os.ReadFile(n.LogPath)
		ls := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		fmt.Fprintf(&b, "==== %s (%s)\n%s\n", n.Name, n.LogPath, strings.Join(ls, "\n"))
	}
	return b.String()
}

// FreePort returns a TCP port on host that was free just now, below the
// ephemeral range (see freeport).
func FreePort(host string) (int, error) {
	ps, err := FreePorts(host, 1)
	if err != nil {
		return 0, err
	}
	return ps[0], nil
}

// FreePorts returns n distinct TCP ports on host that were free just now,
// below the ephemeral range. All n are picked together: ports asked for one
// at a time may repeat, and a node given one port twice cannot start postgres.
func FreePorts(host string, n int) ([]int, error) {
	return freeport.TCP(host, n)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randByte() byte {
	b := []byte{0}
	_, _ = rand.Read(b)
	return b[0]
}

// ErrNoLeader is returned when the state has no converged leader.
var ErrNoLeader = errors.New("no converged leader")

// LeaderNode returns the node currently leading.
func (c *Cluster) LeaderNode(s State) (*Node, error) {
	if s.Data == nil || s.Data.Leader == "" {
		return nil, ErrNoLeader
	}
	n := c.Node(s.Data.Leader)
	if n == nil {
		return nil, ErrNoLeader
	}
	return n, nil
}

// RunWithBinary is a TestMain body for packages whose tests run the pgtui
// binary: it builds it into a temp dir, stores its path in *bin, runs the
// tests and removes the dir. It returns the exit code for os.Exit.
func RunWithBinary(m interface{ Run() int }, bin *string) int {
	dir, err := os.MkdirTemp("", "pgtui-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin, err = BuildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
