package main

// Hosts mode (CHAOS_HOSTS=3): the cluster spreads over network
// namespaces with an etcd member each (internal/hosts), and the faults
// act on hosts and on the etcd cluster.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/hosts"
	"github.com/pgtui/pgtui/internal/testcluster"
)

var hostFaultKinds = []string{
	"kill -9 leader host", "kill -9 leader node", "partition leader host", "partition replica host",
	"etcd: kill -9 raft leader", "etcd: kill -9 leader host's", "etcd: 2 members down",
}

type hostsHarness struct {
	c       *hosts.Cluster
	rng     *rand.Rand
	kinds   []string
	deck    []string // kinds left in this round
	writers []*writer
	state   testcluster.State
}

func runHosts(n, faults int, seed uint64, report string) error {
	fmt.Printf("chaos: %d hosts, %d faults, seed %d\n", n, faults, seed)
	if err := hosts.Supported(); err != nil {
		return fmt.Errorf("hosts mode needs network namespaces: %w", err)
	}
	kinds := hostFaultKinds
	if only := os.Getenv("CHAOS_KINDS"); only != "" {
		if kinds = pickKinds(kinds, only); len(kinds) == 0 {
			return fmt.Errorf("CHAOS_KINDS=%q matches no fault kind; kinds: %s", only, strings.Join(hostFaultKinds, ", "))
		}
	}
	dir, err := os.MkdirTemp("", "pgtui-chaos")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	c, err := hosts.Start(bin, hosts.Options{Hosts: n})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &hostsHarness{c: c, kinds: kinds, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if _, err := h.converge(ctx); err != nil {
		return err
	}
	if err := withRetry(ctx, func() error { return h.exec(ctx, `CREATE TABLE IF NOT EXISTS chaos (id bigint PRIMARY KEY)`) }); err != nil {
		return err
	}
	wctx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, host := range c.Hosts {
		w := &writer{url: c.ProxyURL(host), next: int64(i+1) * 1_000_000_000}
		h.writers = append(h.writers, w)
		wg.Add(1)
		go func() { defer wg.Done(); w.run(wctx) }()
	}
	start := time.Now()
	var results []result
	for i := 0; i < faults && ctx.Err() == nil; i++ {
		kind := h.pick()
		r := h.inject(ctx, kind)
		results = append(results, r)
		status := "ok"
		if r.err != nil {
			status = "ERROR " + r.err.Error()
		}
		fmt.Printf("%3d %-26s unavailable %7s converged %7s lost %d %s\n", i+1, r.kind,
			r.unavailable.Round(time.Millisecond), r.converge.Round(time.Millisecond), r.lost, status)
		if r.err != nil && r.lost == 0 && ctx.Err() == nil {
			fmt.Println(c.Logs(30))
			break
		}
	}
	stopWriters()
	wg.Wait()
	var all []ack
	for _, w := range h.writers {
		all = append(all, w.snapshot()...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Server.Before(all[j].Server) })
	lost, err := h.finalLost(context.WithoutCancel(ctx), all)
	if err != nil {
		return err
	}
	sb := testcluster.SplitBrain(all)
	rep := summarize(results, kinds, "", len(all), lost, sb, seed, time.Since(start))
	rep.hosts = n
	if err := os.WriteFile(report, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Print(rep.table())
	fmt.Printf("chaos: %d faults, %d lost acknowledged writes, %d split-brain intervals, seed %d\n", len(results), lost, sb, seed)
	if lost > 0 || sb > 0 || len(results) < faults {
		return fmt.Errorf("%d of %d faults run, %d lost, %d split-brain intervals", len(results), faults, lost, sb)
	}
	return nil
}

// pick deals the kinds in rounds, each round a fresh random order, so
// every kind runs about equally often (a uniform draw left host kills out
// of one 36-fault run).
func (h *hostsHarness) pick() string {
	if len(h.deck) == 0 {
		for _, i := range h.rng.Perm(len(h.kinds)) {
			h.deck = append(h.deck, h.kinds[i])
		}
	}
	k := h.deck[0]
	h.deck = h.deck[1:]
	return k
}

func (h *hostsHarness) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, h.c.ProxyURL(h.c.Hosts[0]))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// converge waits for every etcd member and one leader with streaming
// replicas and a settled sync standby, as reported after the fault.
func (h *hostsHarness) converge(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if err := h.c.WaitEtcd(cctx, len(h.c.Hosts)); err != nil {
		return 0, err
	}
	healthy := testcluster.Healthy(len(h.c.Hosts)-1, true)
	st, err := h.c.WaitFor(cctx, "convergence", func(s testcluster.State) bool {
		for _, m := range s.Members {
			if m.Info == nil || m.Info.UpdatedAt.Before(start) {
				return false
			}
		}
		return healthy(s)
	})
	if err != nil {
		return 0, err
	}
	h.state = st
	return time.Since(start), nil
}

func (h *hostsHarness) leader() *hosts.Host {
	l, _ := h.c.Leader(h.state)
	return l
}

func (h *hostsHarness) replica() *hosts.Host {
	l := h.leader()
	var rs []*hosts.Host
	for _, o := range h.c.Hosts {
		if o != l {
			rs = append(rs, o)
		}
	}
	return rs[h.rng.IntN(len(rs))]
}

func (h *hostsHarness) inject(ctx context.Context, kind string) result {
	r := result{kind: kind}
	start := time.Now()
	if err := h.fault(ctx, kind); err != nil {
		r.err = err
		return r
	}
	d, err := h.converge(ctx)
	r.converge = d
	if err != nil {
		r.err = err
		return r
	}
	waitWrites(ctx, h.writers)
	r.unavailable = unavailable(h.writers, start)
	r.lost, r.err = h.lostOnLeader(ctx)
	return r
}

func (h *hostsHarness) waitNewLeader(ctx context.Context, old string) error {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err := h.c.WaitFor(wctx, "a leader other than "+old, func(s testcluster.State) bool {
		return s.Data != nil && s.Data.Leader != old && s.Data.Leader != "" && s.Leader.Holder == s.Data.Leader
	})
	return err
}

func (h *hostsHarness) fault(ctx context.Context, kind string) error {
	l := h.leader()
	switch kind {
	case "kill -9 leader host":
		if err := h.c.KillHost(l); err != nil {
			return err
		}
		if err := h.waitNewLeader(ctx, l.Name); err != nil {
			return err
		}
		return h.c.RestartHost(l)
	case "kill -9 leader node":
		l.KillNode()
		if err := h.waitNewLeader(ctx, l.Name); err != nil {
			return err
		}
		return h.c.StartNode(l)
	case "partition leader host":
		return h.partitionLeader(ctx, l)
	case "partition replica host":
		r := h.replica()
		if err := h.c.Partition(r); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := h.c.WaitFor(wctx, r.Name+" seen gone", func(s testcluster.State) bool { return !s.Members[r.Name].Alive })
		cancel()
		return errors.Join(err, h.c.Heal(r))
	case "etcd: kill -9 raft leader":
		m, err := h.c.EtcdLeader(ctx)
		if err != nil {
			return err
		}
		return h.killMember(ctx, m)
	case "etcd: kill -9 leader host's":
		return h.killMember(ctx, l)
	case "etcd: 2 members down":
		var down []*hosts.Host
		for _, i := range h.rng.Perm(len(h.c.Hosts))[:2] {
			m := h.c.Hosts[i]
			m.StopEtcd(5 * time.Second)
			down = append(down, m)
		}
		// Without a quorum the leader must stop taking writes.
		err := h.waitRefused(ctx, l, 15*time.Second)
		for _, m := range down {
			err = errors.Join(err, h.c.StartEtcd(m))
		}
		return err
	default:
		return fmt.Errorf("unknown fault %q", kind)
	}
}

func (h *hostsHarness) killMember(ctx context.Context, m *hosts.Host) error {
	m.KillEtcd()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.c.WaitEtcd(wctx, len(h.c.Hosts)-1); err != nil {
		return err
	}
	return h.c.StartEtcd(m)
}

// waitRefused waits until a fresh connection to l's postgres cannot write.
func (h *hostsHarness) waitRefused(ctx context.Context, l *hosts.Host, within time.Duration) error {
	deadline := time.Now().Add(within)
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, h.c.DirectURL(l))
		if err == nil {
			_, err = conn.Exec(cctx, `INSERT INTO chaos (id) VALUES ((random() * 1e15)::bigint + 9e15)`)
			conn.Close(context.Background())
		}
		cancel()
		if err != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leader %s still takes writes %v after the etcd quorum was lost", l.Name, within)
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	return ctx.Err()
}

// partitionLeader cuts the leader's host off until another member
// leads, with a client inside that host writing to its postgres
// throughout (its acks count in the lost and split-brain checks).
func (h *hostsHarness) partitionLeader(ctx context.Context, l *hosts.Host) error {
	w := &writer{url: h.c.DirectURL(l), dial: l.Dial(), next: int64(len(h.writers)+1) * 1_000_000_000}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.run(wctx) }()
	defer func() {
		stop()
		<-done
		h.writers = append(h.writers, w)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for w.count() < 5 && time.Now().Before(deadline) && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
	if err := h.c.Partition(l); err != nil {
		return err
	}
	err := h.waitNewLeader(ctx, l.Name)
	return errors.Join(err, h.c.Heal(l))
}

func (h *hostsHarness) ids() []int64 {
	var ids []int64
	for _, w := range h.writers {
		for _, a := range w.snapshot() {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func (h *hostsHarness) lostOnLeader(ctx context.Context) (int, error) {
	var missing []int64
	err := withRetry(ctx, func() error {
		var err error
		missing, err = missingIDs(ctx, h.c.DirectURL(h.leader()), h.ids())
		return err
	})
	if err != nil {
		return 0, err
	}
	if len(missing) > 0 {
		return len(missing), fmt.Errorf("%d acknowledged writes missing on leader %s, e.g. %v", len(missing), h.leader().Name, missing[:min(5, len(missing))])
	}
	return 0, nil
}

// finalLost: every acknowledged id on the leader, every replica equal.
func (h *hostsHarness) finalLost(ctx context.Context, all []ack) (int, error) {
	if _, err := h.converge(ctx); err != nil {
		return 0, err
	}
	ids := make([]int64, len(all))
	for i, a := range all {
		ids[i] = a.ID
	}
	leaderURL := h.c.DirectURL(h.leader())
	var missing []int64
	if err := withRetry(ctx, func() error {
		var err error
		missing, err = missingIDs(ctx, leaderURL, ids)
		return err
	}); err != nil {
		return 0, err
	}
	want, err := fingerprint(ctx, leaderURL)
	if err != nil {
		return 0, err
	}
	for _, o := range h.c.Hosts {
		// A replica healed from a partition may first wait out its stalled
		// replication connection (wal_receiver_timeout, 10 s) and the
		// leader's (wal_sender_timeout) before it catches up.
		deadline := time.Now().Add(120 * time.Second)
		for {
			got, err := fingerprint(ctx, h.c.DirectURL(o))
			if err == nil && got == want {
				break
			}
			if time.Now().After(deadline) {
				return len(missing), fmt.Errorf("replica %s does not match the leader: %s vs %s (%v)", o.Name, got, want, err)
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	fmt.Printf("replicas match the leader: %s\n", want)
	return len(missing), nil
}
