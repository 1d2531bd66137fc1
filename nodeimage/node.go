// Package nodeimage is the HA node that the platform deploys as a machine:
// postgres under a keeper, a sentinel, a proxy to the leader and a health
// endpoint, coordinated through etcd. Run wires the parts together.
package nodeimage

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/keeper"
	"github.com/pgtui/pgtui/nodeimage/logring"
	"github.com/pgtui/pgtui/nodeimage/pg"
	"github.com/pgtui/pgtui/nodeimage/proxy"
	"github.com/pgtui/pgtui/nodeimage/sentinel"
	"github.com/pgtui/pgtui/nodeimage/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Config is one node's settings. Zero durations take the defaults.
type Config struct {
	Name          string
	Cluster       string
	DataDir       string // the volume: holds pgdata/ and run/
	ListenHost    string // every port binds here
	AdvertiseHost string // how others reach this node; default ListenHost
	EtcdEndpoints []string
	// EtcdTLS: CA, client certificate and key for an etcd cluster that
	// authenticates clients by certificate; all empty means plain http.
	EtcdTLS     etcdtls.Files
	ProxyPort   int
	PGPort      int
	HealthPort  int
	MetricsPort int
	Secrets     keeper.Secrets
	// TLSCA signs the node's server certificate, so clients can verify it
	// (sslmode=verify-full); nil: self-signed (clients use require).
	TLSCA   *pg.CA
	Options cluster.Options
	// CheckThresholds: when the vm and pg checks turn critical.
	CheckThresholds checks.Thresholds
	Params          map[string]string
	Timing          Timing
	Log             *slog.Logger
	PGLog           io.Writer // postgres's own output
	// Backup, when set, archives WAL and serves backups through pgBackRest.
	Backup *BackupConfig
	// Logs holds the node's recent lines (fed by whoever writes Log and
	// PGLog) for GET /logs on the health port; nil serves no /logs.
	Logs *logring.Ring
}

// Timing holds the node's clocks. Defaults replace a killed leader in a few
// seconds on a 2-core machine without false failovers under load.
type Timing struct {
	LeaseTTL      time.Duration // leader key and liveness lease
	Interval      time.Duration // reconcile and decide loops
	FenceMargin   time.Duration // fence this long before the lease could lapse
	RejoinTimeout time.Duration // replica not streaming this long is rewound
	Checks        time.Duration // health checks run this often (and on role changes)
	Sentinel      sentinel.Timing
}

// DefaultTiming: lease 2s (etcd's minimum with its default raft timing),
// loops every 500ms but woken at once by store changes.
func DefaultTiming() Timing {
	return Timing{LeaseTTL: 2 * time.Second, Interval: 500 * time.Millisecond, FenceMargin: 150 * time.Millisecond,
		RejoinTimeout: 8 * time.Second, Checks: 5 * time.Second, Sentinel: sentinel.DefaultTiming()}
}

func (c *Config) defaults() {
	d := DefaultTiming()
	if c.Timing.LeaseTTL == 0 {
		c.Timing.LeaseTTL = d.LeaseTTL
	}
	if c.Timing.Interval == 0 {
		c.Timing.Interval = d.Interval
	}
	if c.Timing.FenceMargin == 0 {
		c.Timing.FenceMargin = d.FenceMargin
	}
	if c.Timing.RejoinTimeout == 0 {
		c.Timing.RejoinTimeout = d.RejoinTimeout
	}
	if c.Timing.Checks == 0 {
		c.Timing.Checks = d.Checks
	}
	if c.Timing.Sentinel == (sentinel.Timing{}) {
		c.Timing.Sentinel = d.Sentinel
	}
	if c.AdvertiseHost == "" {
		c.AdvertiseHost = c.ListenHost
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.PGLog == nil {
		c.PGLog = io.Discard
	}
}

// Validate reports the first missing or bad setting.
func (c *Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("node name is required (--name)")
	case c.Cluster == "":
		return errors.New("cluster name is required (--cluster)")
	case c.DataDir == "":
		return errors.New("data directory is required (--data-dir)")
	case len(c.EtcdEndpoints) == 0:
		return errors.New("etcd endpoints are required (--etcd-endpoints)")
	case c.Secrets.SuperuserPassword == "" || c.Secrets.AdminPassword == "" || c.Secrets.ReplPassword == "":
		return errors.New("passwords missing: set PGTUI_SUPERUSER_PASSWORD, PGTUI_ADMIN_PASSWORD and PGTUI_REPL_PASSWORD or pass --secrets-file")
	}
	if err := c.validateEtcdTLS(); err != nil {
		return err
	}
	return c.validatePorts()
}

// validateEtcdTLS: the node authenticates to etcd with a certificate, so
// it needs all three files or none, each readable, and https endpoints.
func (c *Config) validateEtcdTLS() error {
	f := c.EtcdTLS
	if f.Empty() {
		for _, e := range c.EtcdEndpoints {
			if strings.HasPrefix(e, "https://") {
				return fmt.Errorf("etcd endpoint %s is https: give --etcd-cacert, --etcd-cert and --etcd-key", e)
			}
		}
		return nil
	}
	for _, p := range []struct{ flag, path string }{{"--etcd-cacert", f.CACert}, {"--etcd-cert", f.Cert}, {"--etcd-key", f.Key}} {
		if p.path == "" {
			return fmt.Errorf("%s is missing: give --etcd-cacert, --etcd-cert and --etcd-key together", p.flag)
		}
		fh, err := os.Open(p.path)
		if err != nil {
			return fmt.Errorf("%s: %w", p.flag, err)
		}
		fh.Close()
	}
	for _, e := range c.EtcdEndpoints {
		if !strings.HasPrefix(e, "https://") {
			return fmt.Errorf("etcd endpoint %s is not https: with --etcd-cacert every endpoint must be https://host:port", e)
		}
	}
	return nil
}

// validatePorts: each of the node's listeners needs a port of its own;
// a shared one would leave postgres unable to bind after the others.
func (c *Config) validatePorts() error {
	ports := []struct {
		flag string
		port int
	}{{"--proxy-port", c.ProxyPort}, {"--pg-port", c.PGPort}, {"--health-port", c.HealthPort}, {"--metrics-port", c.MetricsPort}}
	seen := map[int]string{}
	for _, p := range ports {
		if p.port < 1 || p.port > 65535 {
			return fmt.Errorf("%s %d is not a TCP port: use 1-65535", p.flag, p.port)
		}
		if other, ok := seen[p.port]; ok {
			return fmt.Errorf("%s and %s are both %d: give each its own port", other, p.flag, p.port)
		}
		seen[p.port] = p.flag
	}
	return nil
}

// Run starts every part of the node and returns when ctx ends and all of
// them have stopped (postgres shut down cleanly).
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Log.With("node", cfg.Name)
	inst, err := newInstance(cfg, log)
	if err != nil {
		return err
	}
	br, archiveParams, restore, afterRestore, err := backupSetup(cfg, inst, log)
	if err != nil {
		return err
	}
	if archiveParams != nil {
		params := map[string]string{}
		for k, v := range cfg.Params {
			params[k] = v
		}
		for k, v := range archiveParams {
			params[k] = v
		}
		cfg.Params = params
	}
	tlsCfg, err := etcdtls.ClientConfig(cfg.EtcdTLS)
	if err != nil {
		return err
	}
	cli, err := NewEtcdClientTLS(cfg.EtcdEndpoints, tlsCfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	st := store.New(cli, cfg.Cluster)

	px := proxy.New(net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.ProxyPort)), log.With("proc", "proxy"))
	if err := px.Listen(); err != nil {
		return fmt.Errorf("proxy listen: %w", err)
	}
	lease := store.NewLease(cli, cfg.Timing.LeaseTTL, log.With("proc", "lease"))
	kp := keeper.New(keeper.Config{
		Name: cfg.Name, Host: cfg.AdvertiseHost, PGPort: cfg.PGPort, ProxyPort: cfg.ProxyPort, HealthPort: cfg.HealthPort,
		MetricsPort: cfg.MetricsPort, PG: inst, Store: st, Lease: lease, Proxy: px,
		Secrets: cfg.Secrets, TLSCA: cfg.TLSCA, TLSNames: TLSNames(cfg), Params: cfg.Params, Interval: cfg.Timing.Interval, FenceMargin: cfg.Timing.FenceMargin,
		RejoinTimeout: cfg.Timing.RejoinTimeout, Restore: restore, AfterRestore: afterRestore, Log: log,
	})
	var bk *backups
	if br != nil {
		bk = &backups{br: br, inst: inst, kp: kp, log: log.With("proc", "backup")}
	}
	sn := &sentinel.Sentinel{Name: cfg.Name, Store: st, Options: cfg.Options, Timing: cfg.Timing.Sentinel,
		TTL: cfg.Timing.LeaseTTL, Interval: cfg.Timing.Interval, Log: log}
	runner, err := newChecksRunner(cfg, inst, kp, log)
	if err != nil {
		return err
	}
	health, err := listenHealth(ctx, cfg, kp, runner, bk)
	if err != nil {
		return err
	}
	metrics, err := listenMetrics(cfg, MetricsSources{PG: inst, Info: kp.Info, Proxy: px.Stats, Log: log.With("proc", "exporter")})
	if err != nil {
		_ = health.Close()
		return err
	}
	log.Info("node starting", "cluster", cfg.Cluster, "proxy", px.Addr().String(), "pg_port", cfg.PGPort)

	// The lease outlives the keeper so that postgres is stopped before the
	// leader key is released.
	leaseCtx, stopLease := context.WithCancel(context.WithoutCancel(ctx))
	var leaseWG sync.WaitGroup
	leaseWG.Add(1)
	go func() { defer leaseWG.Done(); lease.Run(leaseCtx) }()

	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	run(func(ctx context.Context) { _ = px.Serve(ctx) })
	run(kp.Run)
	run(sn.Run)
	run(runner.Run)
	if bk != nil {
		run(func(ctx context.Context) { bk.run(ctx, cfg.Timing.Interval*4) })
	}
	run(func(ctx context.Context) { shutdownWhenDone(ctx, health, "health", log) })
	run(func(ctx context.Context) { shutdownWhenDone(ctx, metrics, "metrics", log) })
	wg.Wait()
	stopLease()
	leaseWG.Wait()
	log.Info("node stopped")
	return nil
}

func newInstance(cfg Config, log *slog.Logger) (*pg.Instance, error) {
	bin, err := pg.FindBinaries()
	if err != nil {
		return nil, err
	}
	runAs, err := pg.SystemUser()
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	if err := pg.CheckReachable(dataDir, runAs); err != nil {
		return nil, err
	}
	if runAs != nil {
		if err := os.Chown(dataDir, int(runAs.UID), int(runAs.GID)); err != nil {
			return nil, fmt.Errorf("chown data dir %s: %w", dataDir, err)
		}
	}
	return pg.New(pg.Config{
		Bin: bin, DataDir: filepath.Join(dataDir, "pgdata"), SocketDir: socketDir(dataDir, cfg.Name),
		ListenHost: cfg.ListenHost, Port: cfg.PGPort, RunAs: runAs, Log: cfg.PGLog, Logger: log.With("proc", "postgres"),
	}), nil
}

// socketDir keeps the unix socket path under the kernel's 108-byte limit.
func socketDir(dataDir, name string) string {
	d := filepath.Join(dataDir, "run")
	if len(d)+len("/.s.PGSQL.65535") < 100 {
		return d
	}
	return filepath.Join(os.TempDir(), "pgtui-"+name)
}

// NewEtcdClient connects with short timeouts and fast reconnects, so that a
// brief store outage is bridged well within the lease TTL.
func NewEtcdClient(endpoints []string) (*clientv3.Client, error) {
	return NewEtcdClientTLS(endpoints, nil)
}

// NewEtcdClientTLS is NewEtcdClient over TLS (nil: plain), for etcd
// clusters that verify client certificates.
func NewEtcdClientTLS(endpoints []string, tlsCfg *tls.Config) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		TLS:         tlsCfg,
		DialTimeout: 2 * time.Second,
		// Ping idle connections so that one to a member behind a
		// partition (packets dropped, no reset) is found dead and
		// replaced. gRPC refuses intervals under 10 s (it raises them and
		// logs a warning), so 10 s is the fastest; lease renewals do not
		// wait for it, each is a short call that the balancer sends to
		// the next member.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: time.Second,
		PermitWithoutStream:  true,
		Logger:               zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			// Reconnect within a quarter second of the store coming back:
			// the lease has under a TTL (2 s) of slack in all.
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 250 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %v: %w", endpoints, err)
	}
	return cli, nil
}

// MemoryParams sizes postgres for a machine with memoryMB of memory, as
// Fly's VM presets do: a quarter for shared buffers, three quarters as
// cache estimate. Zero leaves postgres's defaults.
func MemoryParams(memoryMB int) map[string]string {
	if memoryMB <= 0 {
		return nil
	}
	return map[string]string{
		"shared_buffers":       fmt.Sprintf("%dMB", max(memoryMB/4, 16)),
		"effective_cache_size": fmt.Sprintf("%dMB", max(memoryMB*3/4, 64)),
		"work_mem":             fmt.Sprintf("%dkB", max(memoryMB*1024/400, 1024)),
		"maintenance_work_mem": fmt.Sprintf("%dMB", max(memoryMB/16, 16)),
	}
}

// TLSNames are the names and addresses the node's certificate carries
// besides its advertised address and the members' addresses: the
// cluster's .internal names (any region, leader, the machine's own
// <id>.vm name) and loopback, which a tunnel's or a local forward's
// client dials.
func TLSNames(cfg Config) []string {
	names := []string{"localhost", "127.0.0.1", "::1", cfg.ListenHost}
	if cfg.Cluster != "" {
		in := cfg.Cluster + ".internal"
		names = append(names, in, "*."+in, "*.vm."+in)
	}
	return names
}
