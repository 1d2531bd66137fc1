// Package keeper owns the local postgres and reconciles it to the role the
// cluster data assigns this member: leader, replica of the leader, or
// stopped for a switchover. It also publishes what postgres really is, and
// fences postgres when the member's lease can no longer be confirmed.
package keeper

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
	"github.com/pgtui/pgtui/nodeimage/proxy"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// Secrets are the passwords of the three built-in roles.
type Secrets struct {
	SuperuserPassword string // role postgres
	AdminPassword     string // role pgtuiadmin
	ReplPassword      string // role repluser
}

// Built-in role names.
const (
	SuperUser = "postgres"
	AdminUser = "pgtuiadmin"
	ReplUser  = "repluser"
)

// Config wires a keeper to its postgres, store, lease and proxy.
type Config struct {
	Name   string
	Host   string // address other members reach this postgres on
	PGPort int
	// Ports of the node's other listeners, published in Info.
	ProxyPort, HealthPort, MetricsPort int
	PG                                 *pg.Instance
	Store                              *store.Store
	Lease                              *store.Lease
	Proxy                              *proxy.Proxy
	Secrets                            Secrets
	// TLSCA signs the server certificate (nil: self-signed); TLSNames
	// are the names it carries besides Host and the members' addresses.
	TLSCA    *pg.CA
	TLSNames []string
	// Params are extra postgresql.conf settings (memory sizing).
	Params map[string]string
	// Interval between reconciliations when nothing wakes the keeper.
	Interval time.Duration
	// FenceMargin: stop writes this long before the lease could expire.
	FenceMargin time.Duration
	// RejoinTimeout: a replica not streaming for this long is rewound.
	RejoinTimeout time.Duration
	// Restore, when set, bootstraps the cluster from a backup instead of
	// initdb: it fills the empty data directory with a restored cluster
	// that recovers (to its target, then promotes) when started.
	Restore func(ctx context.Context) error
	// AfterRestore runs once recovery has ended and postgres has stopped
	// (it removes the restore's recovery settings).
	AfterRestore func() error
	Log          *slog.Logger
}

// Keeper reconciles one member. Its state is owned by the Run goroutine,
// except what the fence watchdog touches, which is atomic or locked.
type Keeper struct {
	cfg Config
	log *slog.Logger

	writable atomic.Bool // postgres may accept writes as leader

	mu   sync.Mutex // guards info, read by Info() from other goroutines
	info cluster.Info

	aliveLease    int64 // lease under which the alive key was written
	published     cluster.Info
	publishedAt   time.Time
	appliedSync   string // synchronous_standby_names last applied
	needRewind    bool
	adopted       bool // generation taken over from the previous process
	needBackup    bool // replace the data with a fresh base backup
	startFailures int
	lastStreamed  time.Time
	stepDownAt    time.Time // when postgres died under us as leader
	lastErr       string
	memberHosts   []string // members' addresses, for the certificate (proxies forward TLS to the leader)
}

// New makes a keeper; Run starts it.
func New(cfg Config) *Keeper {
	k := &Keeper{cfg: cfg, log: cfg.Log.With("proc", "keeper")}
	k.info = cluster.Info{Name: cfg.Name, Host: cfg.Host, PGPort: cfg.PGPort, ProxyPort: cfg.ProxyPort, HealthPort: cfg.HealthPort,
		MetricsPort: cfg.MetricsPort, Initialized: cfg.PG.Initialized()}
	if k.info.Initialized && !k.isStandbyData() {
		// A node that starts with primary data may be a leader that just
		// died and was restarted: hold off as after a step-down, so the
		// sentinel can promote a standby rather than the restart racing
		// it. A restarted replica has nothing to race: holding it only
		// delayed a switchover to it by up to 3 s (seen in make chaos).
		k.stepDownAt = time.Now()
	}
	return k
}

// Info returns a copy of what the keeper last published.
func (k *Keeper) Info() cluster.Info {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.info
}

func (k *Keeper) update(f func(*cluster.Info)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(&k.info)
}

// Run reconciles until ctx ends, then stops postgres cleanly.
func (k *Keeper) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); k.watchdog(ctx) }()
	defer wg.Wait()

	// Woken by decisions and leader changes only: info writes would make
	// every keeper wake every other one in a loop.
	wake := k.cfg.Store.Watch(ctx, "clusterdata", "leader")
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		var pgDone <-chan struct{} // wake at once when postgres exits
		if k.cfg.PG.Running() {
			pgDone = k.cfg.PG.Done()
		}
		select {
		case <-ctx.Done():
			k.shutdown()
			return
		case <-t.C:
		case <-wake:
		case <-pgDone:
		}
		k.reconcile(ctx)
		// Re-armed only when a run ends, so runs never overlap.
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(k.cfg.Interval)
	}
}

// watchdog fences postgres when the lease is about to lapse. It runs beside
// the reconcile loop because a reconcile step may block (a store call, a
// basebackup) and fencing must not wait for it.
func (k *Keeper) watchdog(ctx context.Context) {
	for {
		changed := k.cfg.Lease.Changed()
		id, until := k.cfg.Lease.Current()
		deadline := until.Add(-k.cfg.FenceMargin)
		if k.writable.Load() && (id == 0 || !time.Now().Before(deadline)) {
			k.fence("lease not confirmed within its TTL")
		}
		wait := time.Until(deadline)
		if id == 0 || wait <= 0 {
			wait = k.cfg.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// fence makes this member stop accepting writes at once: the proxy drops
// every client and postgres is killed. Safe to call from any goroutine.
func (k *Keeper) fence(reason string) {
	if !k.writable.Swap(false) {
		return
	}
	k.log.Warn("fencing: stopping writes", "reason", reason)
	k.cfg.Proxy.Fence(reason)
	k.cfg.PG.Kill()
	k.update(func(i *cluster.Info) { i.Role = cluster.RoleFenced; i.Healthy = false })
}

func (k *Keeper) shutdown() {
	k.cfg.Proxy.Fence("node stopping")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.cfg.PG.Stop(ctx, pg.StopFast); err != nil {
		k.log.Warn("stop postgres", "err", err)
	}
	k.writable.Store(false)
}

// fail logs a reconcile error once per distinct message.
func (k *Keeper) fail(step string, err error) {
	msg := step + ": " + err.Error()
	if msg != k.lastErr {
		k.log.Warn("reconcile", "step", step, "err", err)
		k.lastErr = msg
	}
}
