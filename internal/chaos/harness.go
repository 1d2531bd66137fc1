package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// partitionKind needs the cluster in network namespaces (root).
const partitionKind = "partition leader > TTL"

// faultKinds are injected in random order.
var faultKinds = []string{
	"kill -9 leader node", "kill -9 leader postgres", "SIGSTOP leader > TTL", "kill -9 replica node",
	"store outage 1s (< TTL)", "store outage 4s (> TTL)", "switchover under load", "volume nearly full",
	partitionKind,
}

type harness struct {
	c       *testcluster.Cluster
	rng     *rand.Rand
	kinds   []string // the faultKinds this run can inject
	writers []*writer
	state   testcluster.State
}

func (h *harness) pick() string { return h.kinds[h.rng.IntN(len(h.kinds))] }

func (h *harness) setup(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, h.c.ProxyURL(h.c.Nodes[0]))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS chaos (id bigint PRIMARY KEY)`)
	return err
}

// converge waits until one leader and two streaming replicas with a
// settled sync standby, as every member reported after the fault, and
// returns how long that took.
func (h *harness) converge(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	healthy := testcluster.Healthy(len(h.c.Nodes)-1, true)
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

func (h *harness) leader() *testcluster.Node {
	n, _ := h.c.LeaderNode(h.state)
	return n
}

func (h *harness) replica() *testcluster.Node {
	l := h.leader()
	var rs []*testcluster.Node
	for _, n := range h.c.Nodes {
		if n != l {
			rs = append(rs, n)
		}
	}
	return rs[h.rng.IntN(len(rs))]
}

// inject runs one fault, waits for convergence and checks the writes.
func (h *harness) inject(ctx context.Context, kind string) result {
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
	// Let the writers show that writes flow again before measuring.
	h.waitWrites(ctx)
	r.unavailable = h.unavailable(start)
	r.lost, r.err = h.lostOnLeader(ctx)
	return r
}

func (h *harness) fault(ctx context.Context, kind string) error {
	l := h.leader()
	switch kind {
	case "kill -9 leader node":
		l.Kill()
		if _, err := h.c.WaitFor(ctx, "new leader", func(s testcluster.State) bool { return s.Data.Leader != l.Name }); err != nil {
			return err
		}
		return h.c.StartNode(l)
	case "kill -9 leader postgres":
		pid, err := l.PostgresPid()
		if err != nil {
			return err
		}
		return syscall.Kill(pid, syscall.SIGKILL)
	case "SIGSTOP leader > TTL":
		if err := l.Signal(syscall.SIGSTOP); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := h.c.WaitFor(wctx, "new leader", func(s testcluster.State) bool { return s.Data.Leader != l.Name })
		cancel()
		if cerr := l.Signal(syscall.SIGCONT); cerr != nil {
			return cerr
		}
		return err
	case "kill -9 replica node":
		r := h.replica()
		r.Kill()
		return h.c.StartNode(r)
	case "store outage 1s (< TTL)":
		h.c.StoreOutage(time.Second)
	case "store outage 4s (> TTL)":
		h.c.StoreOutage(4 * time.Second)
	case "switchover under load":
		if err := nodeimage.RequestSwitchover(ctx, h.c.Store, "", false); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		_, err := h.c.WaitFor(wctx, "switchover", func(s testcluster.State) bool {
			return s.Data.Leader != l.Name && s.Data.Switchover == nil
		})
		return err
	case "volume nearly full":
		return h.volumeFull(ctx, l)
	case partitionKind:
		return h.partition(ctx, l)
	default:
		return fmt.Errorf("unknown fault %q", kind)
	}
	return nil
}

func (h *harness) waitWrites(ctx context.Context) { waitWrites(ctx, h.writers) }

// waitWrites waits (30 s at most) until the writers together have 20
// more acknowledged writes.
func waitWrites(ctx context.Context, writers []*writer) {
	before := 0
	for _, w := range writers {
		before += w.count()
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		n := 0
		for _, w := range writers {
			n += w.count()
		}
		if n >= before+20 {
			return
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// unavailable is the longest time since start without any acknowledged
// write from any client.
func (h *harness) unavailable(start time.Time) time.Duration { return unavailable(h.writers, start) }

func unavailable(writers []*writer, start time.Time) time.Duration {
	var times []time.Time
	for _, w := range writers {
		for _, a := range w.snapshot() {
			if a.Client.After(start) {
				times = append(times, a.Client)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	gap, prev := time.Duration(0), start
	for _, t := range times {
		gap = max(gap, t.Sub(prev))
		prev = t
	}
	return gap
}

// lostOnLeader counts acknowledged ids missing on the current leader.
func (h *harness) lostOnLeader(ctx context.Context) (int, error) {
	var ids []int64
	for _, w := range h.writers {
		for _, a := range w.snapshot() {
			ids = append(ids, a.ID)
		}
	}
	var missing []int64
	err := withRetry(ctx, func() error {
		var err error
		missing, err = missingIDs(ctx, h.c.DirectURL(h.leader()), ids)
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

// volumeFull makes the leader's volume count as nearly full by raising the
// read-only threshold above its free space, waits until the leader refuses
// writes, then restores the default: writes must resume, none lost.
func (h *harness) volumeFull(ctx context.Context, l *testcluster.Node) error {
	free := h.state.Members[l.Name].Info.FreePct
	if free <= 0 || free >= 99 {
		return fmt.Errorf("leader volume free space %.1f%% leaves no threshold to test", free)
	}
	set := func(pct float64) error {
		_, err := nodeimage.UpdateOptions(ctx, h.c.Store, func(o *cluster.Options) error { o.ReadOnlyBelowPct = pct; return nil })
		return err
	}
	if err := set(free + 1); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err := h.c.WaitFor(wctx, "leader read-only", func(s testcluster.State) bool {
		m := s.Members[l.Name]
		return m.Info != nil && m.Info.ReadOnly
	})
	cancel()
	if rerr := set(0); rerr != nil {
		return rerr
	}
	return err
}

// partition cuts the leader off from the store, its peers and the clients
// until another member leads (so for longer than the TTL), then heals. A
// client inside the leader's namespace writes to its postgres throughout:
// had the leader failed to fence, its acknowledged writes would show up as
// split brain or as lost writes.
func (h *harness) partition(ctx context.Context, l *testcluster.Node) error {
	w := &writer{url: h.c.DirectURL(l), dial: h.c.DialIn(l), next: int64(len(h.writers)+1) * 1_000_000_000}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.run(wctx) }()
	defer func() {
		stop()
		<-done
		h.writers = append(h.writers, w) // its acks count in every check
	}()
	// The client is connected and writing before the cut.
	deadline := time.Now().Add(10 * time.Second)
	for w.count() < 5 && time.Now().Before(deadline) && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
	if err := h.c.Partition(l); err != nil {
		return err
	}
	wctx2, cancel := context.WithTimeout(ctx, 60*time.Second)
	_, err := h.c.WaitFor(wctx2, "new leader while the old one is partitioned", func(s testcluster.State) bool {
		return s.Data.Leader != l.Name && s.Leader.Holder == s.Data.Leader
	})
	cancel()
	if herr := h.c.Heal(l); herr != nil {
		return errors.Join(err, herr)
	}
	return err
}
