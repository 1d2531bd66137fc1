// Package agent is the local platform: one background process per
// PGTUI_HOME that embeds etcd, supervises machines (`pgtui node`
// processes with their volumes), answers .internal DNS, keeps apps and
// secrets, and serves the Backend API as HTTP/JSON on a unix socket.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/internal/embedetcd"
	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Config locates the agent's state and the programs it runs.
type Config struct {
	Home string // PGTUI_HOME
	// Bin is the pgtui executable machines run (`pgtui node`).
	Bin string
	// EtcdEndpoints: use an existing etcd cluster instead of the embedded one.
	EtcdEndpoints []string
	// IPBase is the second octet of machine addresses 127.<IPBase>.<subnet>.<n>.
	IPBase int
	// BackupTick: how often the backup schedule is looked at (default 1m).
	BackupTick time.Duration
	Log        *slog.Logger
}

// Paths under the home directory.
func SocketPath(home string) string { return api.SocketPath(home) }
func statePath(home string) string  { return filepath.Join(home, "state.json") }

// Agent is the running platform.
type Agent struct {
	cfg Config
	log *slog.Logger

	mu    sync.Mutex // guards state and machine processes
	state *State
	procs map[string]*proc // by machine id

	etcd    *embedetcd.Server
	cli     *clientv3.Client
	dns     *dnsServer
	gateway gateway // WireGuard into the private networks

	ctx  context.Context // the agent's lifetime; long operations outlive requests
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Run starts the agent and serves until ctx ends; then it stops every
// machine cleanly and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Home, 0o711); err != nil {
		return fmt.Errorf("create %s: %w", cfg.Home, err)
	}
	st, err := loadState(statePath(cfg.Home))
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	a := &Agent{cfg: cfg, log: cfg.Log, state: st, procs: map[string]*proc{}, ctx: ctx, stop: stop}
	ln, err := listenSocket(cfg.Home)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := a.startStore(); err != nil {
		return err
	}
	defer a.stopStore()
	if a.dns, err = startDNS(a); err != nil {
		return err
	}
	defer a.dns.stop()
	a.startGateway()
	defer a.stopGateway()
	a.resumeMachines()
	tick := cfg.BackupTick
	if tick <= 0 {
		tick = time.Minute
	}
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.scheduleBackups(ctx, tick) }()

	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	a.log.Info("agent ready", "home", cfg.Home, "socket", SocketPath(cfg.Home), "dns", a.dns.addr)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("agent api: %w", err)
	}
	a.stopAllMachines()
	a.wg.Wait()
	a.log.Info("agent stopped")
	return nil
}

// listenSocket binds the API socket, 0600, refusing a live one.
func listenSocket(home string) (net.Listener, error) {
	path := SocketPath(home)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("an agent is already running on %s: use `pgtui agent stop` first", path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("agent socket %s: %w", path, err)
	}
	return ln, nil
}

func (a *Agent) startStore() error {
	endpoints := a.cfg.EtcdEndpoints
	if len(endpoints) == 0 {
		srv, err := a.startEtcd()
		if err != nil {
			return err
		}
		a.etcd = srv
		endpoints = srv.Endpoints()
	}
	cli, err := nodeimage.NewEtcdClient(endpoints)
	if err != nil {
		return err
	}
	a.cli = cli
	return nil
}

// startEtcd runs the embedded etcd. Its ports are picked before etcd binds
// them, so another process may take one in between: then it picks again.
func (a *Agent) startEtcd() (*embedetcd.Server, error) {
	for attempt := 1; ; attempt++ {
		u, err := a.etcdURL()
		if err != nil {
			return nil, err
		}
		srv, err := embedetcd.New(filepath.Join(a.cfg.Home, "etcd"), u, nil)
		if err != nil {
			return nil, err
		}
		err = srv.Start()
		if err == nil {
			return srv, nil
		}
		if !freeport.InUse(err) || attempt == 5 {
			return nil, err
		}
		a.log.Warn("etcd port taken before etcd bound it; picking another", "url", u.String(), "err", err)
	}
}

// host is the loopback address of the agent's own listeners (etcd, DNS):
// 127.0.0.1, or 127.<IPBase>.0.1 (no machine's: subnets start at 1), so
// agents of parallel tests, each with its own IPBase, never share one.
func (a *Agent) host() string {
	if a.cfg.IPBase == 0 {
		return "127.0.0.1"
	}
	return fmt.Sprintf("127.%d.0.1", a.cfg.IPBase)
}

// etcdURL keeps the embedded etcd on the same port across restarts, so
// machines started earlier find it again.
func (a *Agent) etcdURL() (url.URL, error) {
	path := filepath.Join(a.cfg.Home, "etcd.url")
	if b, err := os.ReadFile(path); err == nil {
		if u, err := url.Parse(string(b)); err == nil {
			if ln, err := net.Listen("tcp", u.Host); err == nil {
				ln.Close()
				return *u, nil
			}
		}
	}
	u, err := embedetcd.FreeURL(a.host())
	if err != nil {
		return url.URL{}, err
	}
	return u, writeAtomic(path, []byte(u.String()), 0o600, false)
}

func (a *Agent) etcdEndpoints() []string {
	if a.etcd != nil {
		return a.etcd.Endpoints()
	}
	return a.cfg.EtcdEndpoints
}

func (a *Agent) stopStore() {
	if a.cli != nil {
		a.cli.Close()
	}
	if a.etcd != nil {
		a.etcd.Stop()
	}
}

// save persists the state; callers hold a.mu.
func (a *Agent) save() error {
	return a.state.save(statePath(a.cfg.Home))
}
