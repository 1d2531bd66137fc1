// Package external is the Backend of clusters that run anywhere: nodes
// started by the operator's own engine (Docker, Podman, systemd) on real
// hosts against the operator's etcd. pgtui registers such a cluster
// (Registry) and then operates it exactly as a local one: it reads the
// cluster data and the members from etcd (TLS with client certificates),
// asks the nodes' health ports for checks and logs with the cluster's
// token, scrapes their exporters, runs management SQL on the leader
// through a node's proxy as pgtuiadmin, and fails over through the
// cluster data. Lifecycle (create, scale, destroy, machine actions)
// belongs to the engine that runs the nodes and is refused.
package external

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/hastate"
	"github.com/pgtui/pgtui/backend/nodeclient"
	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
	"github.com/pgtui/pgtui/nodeimage/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Platform is how summaries and statuses name this platform.
const Platform = "hosts"

// Timeouts: a store read, and an operation such as a switchover.
const (
	storeTimeout = 5 * time.Second
	opTimeout    = 3 * time.Minute
)

// LifecycleError is a lifecycle command on a cluster whose nodes another
// engine owns.
type LifecycleError struct{ Cluster string }

func (e LifecycleError) Error() string {
	return fmt.Sprintf("cluster %s runs on external hosts: its nodes are owned by the engine that started them (Docker, Podman, systemd); pgtui only operates it", e.Cluster)
}

// Apps is where apps and their secrets live (the local platform): attach
// stores the connection string there.
type Apps interface {
	ListApps(ctx context.Context) ([]backend.App, error)
	ListSecrets(ctx context.Context, app string) ([]backend.Secret, error)
	SetSecrets(ctx context.Context, app string, values map[string]string) error
	UnsetSecrets(ctx context.Context, app string, names []string) error
}

// Backend operates the registered clusters of one pgtui home.
type Backend struct {
	reg  *Registry
	apps func() (Apps, error)

	mu      sync.Mutex
	clients map[string]*clientv3.Client // by cluster, opened on first use
}

var _ backend.Backend = (*Backend)(nil)

// New operates the clusters registered under home; apps, called only by
// attach and detach, reaches the platform that keeps apps.
func New(home string, apps func() (Apps, error)) *Backend {
	return &Backend{reg: NewRegistry(home), apps: apps, clients: map[string]*clientv3.Client{}}
}

// Registry is the registry this backend reads.
func (b *Backend) Registry() *Registry { return b.reg }

// Has reports whether name is a registered external cluster.
func (b *Backend) Has(name string) bool { return b.reg.Has(name) }

// Close closes the etcd connections.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, c := range b.clients {
		_ = c.Close()
		delete(b.clients, name)
	}
}

// conn is a registered cluster ready to use.
type conn struct {
	name  string
	entry *Entry
	creds Credentials
	store *store.Store
}

func (c *conn) token() string { return nodeapi.Token(c.name, c.creds.AdminPassword) }

func (b *Backend) open(name string) (*conn, error) {
	e, err := b.reg.Get(name)
	if err != nil {
		return nil, err
	}
	creds, err := b.reg.Credentials(name)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cli := b.clients[name]
	if cli == nil {
		if cli, err = dialEtcd(e.Endpoints, e.TLS); err != nil {
			return nil, err
		}
		b.clients[name] = cli
	}
	return &conn{name: name, entry: e, creds: creds, store: store.New(cli, name)}, nil
}

func dialEtcd(endpoints []string, files etcdtls.Files) (*clientv3.Client, error) {
	tlsCfg, err := etcdtls.ClientConfig(files)
	if err != nil {
		return nil, err
	}
	return nodeimage.NewEtcdClientTLS(endpoints, tlsCfg)
}

// read is one read of the HA state, bounded by storeTimeout.
func (c *conn) read(ctx context.Context) (hastate.View, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	v, err := hastate.Read(ctx, c.store)
	if err != nil {
		return v, fmt.Errorf("read cluster %s from etcd %s: %s", c.name, strings.Join(c.entry.Endpoints, ","), oneLine(err))
	}
	if v.Data == nil {
		return v, fmt.Errorf("etcd %s holds no cluster data for %s (not bootstrapped, or removed)", strings.Join(c.entry.Endpoints, ","), c.name)
	}
	return v, nil
}

// view opens a registered cluster and reads its HA state.
func (b *Backend) view(ctx context.Context, name string) (*conn, hastate.View, error) {
	c, err := b.open(name)
	if err != nil {
		return nil, hastate.View{}, err
	}
	v, err := c.read(ctx)
	if err != nil {
		return nil, hastate.View{}, err
	}
	return c, v, nil
}

// node is a member as this platform reaches it.
type node struct {
	name  string
	info  *cluster.Info // nil: never published
	alive bool
}

func (n node) host() string {
	if n.info == nil {
		return ""
	}
	return n.info.Host
}

func (n node) addr(port, def int) string {
	if port == 0 {
		port = def
	}
	return net.JoinHostPort(n.host(), strconv.Itoa(port))
}

func (n node) healthAddr() string {
	if n.info == nil {
		return ""
	}
	return n.addr(n.info.HealthPort, nodeclient.HealthPort)
}

func (n node) metricsAddr() string { return n.addr(n.info.MetricsPort, nodeclient.MetricsPort) }
func (n node) proxyAddr() string   { return n.addr(n.info.ProxyPort, nodeclient.ProxyPort) }
func (n node) pgAddr() string      { return n.addr(n.info.PGPort, nodeclient.PGPort) }

func (n node) target() nodeclient.Target { return nodeclient.Target{ID: n.name, Region: n.host()} }

// nodes are the members the cluster data names and those that published
// info, by name.
func nodes(v hastate.View) []node {
	seen := map[string]bool{}
	var out []node
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		st := v.Members[name]
		out = append(out, node{name: name, info: st.Info, alive: st.Alive})
	}
	if v.Data != nil {
		for name := range v.Data.Members {
			add(name)
		}
	}
	for name := range v.Members {
		add(name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// checksOf asks every node that published an address for its checks, all
// at once.
func (c *conn) checksOf(ctx context.Context, ns []node) map[string][]backend.Check {
	out := make(map[string][]backend.Check, len(ns))
	var mu sync.Mutex
	var wg sync.WaitGroup
	token := c.token()
	for _, n := range ns {
		if n.info == nil {
			out[n.name] = nodeclient.Unreachable(n.target(), errors.New("the node never published its address"), time.Now().UTC())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := nodeclient.MachineChecks(ctx, n.target(), n.healthAddr(), token)
			mu.Lock()
			out[n.name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// Status reads the store and every node's checks.
func (b *Backend) Status(ctx context.Context, name string) (*backend.ClusterStatus, error) {
	c, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	ns := nodes(v)
	checksOf := c.checksOf(ctx, ns)
	out := &backend.ClusterStatus{Name: name, Org: Platform, Platform: Platform}
	v.Header(out)
	var hosts []string
	placed, healthy := 0, 0
	for _, n := range ns {
		ms := backend.MachineStatus{ID: n.name, Region: Platform, Desired: "run", State: "unreachable", PrivateIP: n.host(), Connections: -1}
		if n.alive {
			ms.State = "running"
			placed++
			v.Member(&ms, n.name)
		} else if v.Data != nil {
			ms.Version = int(v.Data.Generation) - 1
		}
		var serving bool
		ms.Checks, serving = nodeclient.CountChecks(checksOf[n.name])
		ms.Connections = nodeclient.Connections(checksOf[n.name])
		if serving && n.alive {
			healthy++
		}
		if n.info != nil {
			hosts = append(hosts, n.proxyAddr())
		}
		out.Machines = append(out.Machines, ms)
	}
	out.Hostname = strings.Join(hosts, ",")
	hastate.Deployment(out, len(ns), placed, healthy)
	return out, nil
}

// ListClusters lists the registered clusters; one whose store does not
// answer is listed as unreachable.
func (b *Backend) ListClusters(ctx context.Context) ([]backend.ClusterSummary, error) {
	names, err := b.reg.Names()
	if err != nil {
		return nil, err
	}
	out := []backend.ClusterSummary{}
	for _, n := range names {
		s := backend.ClusterSummary{Name: n, Org: Platform, Region: Platform, Platform: Platform, State: "unreachable"}
		if st, err := b.Status(ctx, n); err == nil {
			s.State, s.Leader, s.Healthy, s.Machines = st.Status, st.Leader, st.Deployment.Healthy, st.Deployment.Desired
		}
		out = append(out, s)
	}
	return out, nil
}

// MachineStatus is one member's row; external nodes have no events here.
func (b *Backend) MachineStatus(ctx context.Context, name, id string) (*backend.MachineDetail, error) {
	st, err := b.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, m := range st.Machines {
		if m.ID == id {
			return &backend.MachineDetail{MachineStatus: m, Events: []backend.Event{}}, nil
		}
	}
	return nil, fmt.Errorf("cluster %s has no member %q: see `pgtui status -a %s`", name, id, name)
}

// Checks is every member's checks, by member name.
func (b *Backend) Checks(ctx context.Context, name string) ([]backend.Check, error) {
	c, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	ns := nodes(v)
	byNode := c.checksOf(ctx, ns)
	out := []backend.Check{}
	for _, n := range ns {
		out = append(out, byNode[n.name]...)
	}
	return out, nil
}

// Failover is a planned switchover through the cluster data.
func (b *Backend) Failover(ctx context.Context, name string) (*backend.FailoverResult, error) {
	c, _, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	return hastate.Switchover(ctx, c.store, name, opTimeout)
}

// ClusterConfig reads the options from the cluster data.
func (b *Backend) ClusterConfig(ctx context.Context, name string) (*backend.ClusterConfig, error) {
	_, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	return hastate.Config(v), nil
}

// UpdateConfig changes options in the cluster data; the keepers apply them.
func (b *Backend) UpdateConfig(ctx context.Context, name string, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	c, _, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	return hastate.UpdateConfig(ctx, c.store, u)
}

// Metrics scrapes every node's exporter twice, a second apart.
func (b *Backend) Metrics(ctx context.Context, name string) ([]backend.MachineMetrics, error) {
	_, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	ts, addrs := exporters(nodes(v))
	return nodeclient.Metrics(ctx, ts, addrs)
}

func exporters(ns []node) ([]nodeclient.Target, map[string]string) {
	ts := make([]nodeclient.Target, 0, len(ns))
	addrs := map[string]string{}
	for _, n := range ns {
		ts = append(ts, n.target())
		if n.info != nil {
			addrs[n.name] = n.metricsAddr()
		}
	}
	return ts, addrs
}

// MetricsStream samples every node each `every` until ctx ends.
func (b *Backend) MetricsStream(ctx context.Context, name string, every time.Duration) (<-chan backend.MetricsSample, error) {
	c, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make(chan backend.MetricsSample, 1)
	go func() {
		defer close(out)
		_, addrs := exporters(nodes(v))
		prev := nodeclient.ScrapeAll(ctx, addrs)
		nodeclient.Produce(ctx, backend.MetricsEvery(every), func(ctx context.Context) (backend.MetricsSample, bool) {
			v, err := c.read(ctx)
			if err != nil {
				return backend.MetricsSample{Time: time.Now()}, ctx.Err() == nil
			}
			ts, addrs := exporters(nodes(v))
			at := time.Now()
			cur := nodeclient.ScrapeAll(ctx, addrs)
			s := backend.MetricsSample{Time: at, Leader: v.LeaderID(), Machines: nodeclient.Derive(ts, prev, cur)}
			prev = cur
			return s, true
		}, out)
	}()
	return out, nil
}

func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
