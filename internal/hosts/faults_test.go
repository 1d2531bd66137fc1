package hosts

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// writing is a writer running until stop; ids start at start.
type writing struct {
	w      *testcluster.Writer
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startWriter(url string, dial testcluster.DialFunc, start int64) *writing {
	ctx, cancel := context.WithCancel(context.Background())
	wr := &writing{w: testcluster.NewWriter(url).Via(dial), cancel: cancel}
	wr.wg.Add(1)
	go func() { defer wr.wg.Done(); wr.w.Run(ctx, start) }()
	return wr
}

func (wr *writing) stop() { wr.cancel(); wr.wg.Wait() }

// waitAcks waits until the writer has n more acknowledged writes than now.
func waitAcks(ctx context.Context, t *testing.T, w *testcluster.Writer, n int, what string) {
	t.Helper()
	want := w.Count() + n
	for w.Count() < want {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d of %d writes acknowledged: %v", what, w.Count(), want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// newLeader: the cluster data names a leader other than old, which holds
// the key and reports itself leader of the generation.
func newLeader(old string) func(testcluster.State) bool {
	return func(s testcluster.State) bool {
		if s.Data == nil || s.Data.Leader == "" || s.Data.Leader == old || s.Leader.Holder != s.Data.Leader {
			return false
		}
		m := s.Members[s.Data.Leader]
		return m.Info != nil && m.Info.Role == cluster.RoleLeader && m.Info.Generation == s.Data.Generation
	}
}

// other returns a host that is not h.
func other(c *Cluster, h *Host) *Host {
	for _, o := range c.Hosts {
		if o != h {
			return o
		}
	}
	return nil
}

// verify checks that every acknowledged id is in the table (read through
// the proxy of via) and that no two primaries acknowledged writes at once.
func verify(ctx context.Context, t *testing.T, c *Cluster, via *Host, acks []testcluster.Ack) {
	t.Helper()
	ids := make([]int64, len(acks))
	for i, a := range acks {
		ids[i] = a.ID
	}
	missing, err := testcluster.Missing(ctx, c.ProxyURL(via), ids)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged writes lost: %v", len(missing), len(ids), missing[:min(len(missing), 20)])
	}
	if n := testcluster.SplitBrain(acks); n > 0 {
		t.Errorf("%d writes acknowledged by an older primary after a newer one had written (split brain)", n)
	}
	t.Logf("%d acknowledged writes, all present", len(ids))
}

// Bootstrap over three hosts; then kill -9 of the leader's node, and of
// the whole host of the next leader: writes through a surviving host's
// proxy resume on a new leader each time and no acknowledged write is
// lost.
func TestHostsBootstrapKillLeader(t *testing.T) {
	c := start(t, Options{})
	checkBootstrap(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader, _ := c.Leader(st)
	via := other(c, leader)
	if err := testcluster.CreateTable(ctx, c.ProxyURL(via)); err != nil {
		t.Fatal(err)
	}
	wr := startWriter(c.ProxyURL(via), nil, 1)
	defer wr.stop()
	waitAcks(ctx, t, wr.w, 20, "before the kill")

	leader.KillNode()
	killed := time.Now()
	if st, err = c.WaitFor(ctx, "a new leader after kill -9 of "+leader.Name+"'s node", newLeader(leader.Name)); err != nil {
		t.Fatal(err)
	}
	waitAcks(ctx, t, wr.w, 20, "after the node kill")
	t.Logf("node kill: %s -> %s, writes resumed after at most %v (promoted %v after the kill)",
		leader.Name, st.Data.Leader, wr.w.MaxGap().Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	if err := c.StartNode(leader); err != nil {
		t.Fatal(err)
	}
	if st, err = c.WaitFor(ctx, leader.Name+" back as a replica", testcluster.Healthy(2, true)); err != nil {
		t.Fatal(err)
	}
	wr.stop()
	acks := wr.w.Acks()

	// Now the whole host of the leader: its node, postgres and etcd member.
	leader, _ = c.Leader(st)
	via = other(c, leader)
	wr = startWriter(c.ProxyURL(via), nil, 1_000_000)
	defer wr.stop()
	waitAcks(ctx, t, wr.w, 20, "before the host kill")
	if err := c.KillHost(leader); err != nil {
		t.Fatal(err)
	}
	killed = time.Now()
	if st, err = c.WaitFor(ctx, "a new leader after killing host "+leader.Name, newLeader(leader.Name)); err != nil {
		t.Fatal(err)
	}
	waitAcks(ctx, t, wr.w, 20, "after the host kill")
	t.Logf("host kill: %s -> %s, writes resumed after at most %v (promoted %v after the kill)",
		leader.Name, st.Data.Leader, wr.w.MaxGap().Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	if err := c.RestartHost(leader); err != nil {
		t.Fatal(err)
	}
	if _, err = c.WaitFor(ctx, "host "+leader.Name+" back as a replica", testcluster.Healthy(2, true)); err != nil {
		t.Fatal(err)
	}
	wr.stop()
	verify(ctx, t, c, via, append(acks, wr.w.Acks()...))
}

// A partition of the leader's host from the other two: the isolated
// leader stops acknowledging writes before another is promoted (no write
// on the old primary after the new one's first), and rejoins as a replica
// when healed.
func TestHostsPartitionLeader(t *testing.T) {
	c := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader, _ := c.Leader(st)
	via := other(c, leader)
	if err := testcluster.CreateTable(ctx, c.ProxyURL(via)); err != nil {
		t.Fatal(err)
	}
	// One client on the majority's side, one inside the leader's host
	// writing straight to its postgres: it keeps trying throughout.
	outside := startWriter(c.ProxyURL(via), nil, 1)
	defer outside.stop()
	inside := startWriter(c.DirectURL(leader), leader.Dial(), 1_000_000)
	defer inside.stop()
	waitAcks(ctx, t, outside.w, 20, "outside, before the partition")
	waitAcks(ctx, t, inside.w, 20, "inside, before the partition")

	if err := c.Partition(leader); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	if st, err = c.WaitFor(ctx, "a new leader on the majority side", newLeader(leader.Name)); err != nil {
		t.Fatal(err)
	}
	waitAcks(ctx, t, outside.w, 20, "outside, after the partition")
	t.Logf("partition of %s: %s promoted %v after the cut, writes resumed after at most %v",
		leader.Name, st.Data.Leader, time.Since(cut).Round(time.Millisecond), outside.w.MaxGap().Round(time.Millisecond))

	// The isolated postgres refuses writes now.
	if err := writeOnce(ctx, c.DirectURL(leader), leader.Dial()); err == nil {
		t.Errorf("the isolated old leader %s still accepts writes after %s was promoted", leader.Name, st.Data.Leader)
	}
	inside.stop()
	lastInside := lastAck(inside.w.Acks())
	firstNew := firstAckOn(outside.w.Acks(), c.Host(st.Data.Leader).Addr)
	t.Logf("last write on the isolated leader %v, first on the new leader %v (fenced %v before)",
		lastInside.Format("15:04:05.000"), firstNew.Format("15:04:05.000"), firstNew.Sub(lastInside).Round(time.Millisecond))

	// The isolated node fenced (killed its postgres, dropped its clients)
	// before the new leader took its first write.
	fenced, err := fenceTime(leader.NodeLog, cut)
	if err != nil {
		t.Fatal(err)
	}
	if !fenced.Before(firstNew) {
		t.Errorf("%s fenced at %v, not before the new leader's first write at %v", leader.Name, fenced, firstNew)
	}
	t.Logf("%s fenced %v after the cut, %v before the new leader's first write",
		leader.Name, fenced.Sub(cut).Round(time.Millisecond), firstNew.Sub(fenced).Round(time.Millisecond))

	if err := c.Heal(leader); err != nil {
		t.Fatal(err)
	}
	if _, err = c.WaitFor(ctx, leader.Name+" rejoined as a replica", func(s testcluster.State) bool {
		m := s.Members[leader.Name]
		return testcluster.Healthy(2, true)(s) && s.Data.Leader != leader.Name && m.Info != nil && m.Info.Role == cluster.RoleReplica
	}); err != nil {
		t.Fatal(err)
	}
	waitAcks(ctx, t, outside.w, 20, "after the heal")
	outside.stop()
	verify(ctx, t, c, via, append(outside.w.Acks(), inside.w.Acks()...))
}

// Loss of one etcd member (kill -9 of the raft leader, on the database
// leader's host) changes nothing:
// no failover, the writer's connection is never dropped. Loss of two:
// the leader fences (no quorum, no writes); writes resume when one
// member returns.
func TestHostsEtcdMembers(t *testing.T) {
	c := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gen := st.Data.Generation
	leader, _ := c.Leader(st)
	via := other(c, leader)
	if err := testcluster.CreateTable(ctx, c.ProxyURL(via)); err != nil {
		t.Fatal(err)
	}
	wr := startWriter(c.ProxyURL(via), nil, 1)
	defer wr.stop()
	waitAcks(ctx, t, wr.w, 20, "before the member loss")

	// The hardest member to lose: the raft leader on the database
	// leader's own host (its node's first endpoint).
	if err := c.MoveEtcdLeader(ctx, leader); err != nil {
		t.Fatal(err)
	}
	raft, err := c.EtcdLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitAcks(ctx, t, wr.w, 20, "after the raft leadership moved to "+raft.Name)
	raft.KillEtcd()
	lost := time.Now()
	for {
		if h := raftLeaderAmong(ctx, c, raft); h != nil {
			t.Logf("etcd member %s (raft leader) killed: %s leads raft after %v", raft.Name, h.Name, time.Since(lost).Round(time.Millisecond))
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no new raft leader")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	// Two lease lifetimes and a new raft leader later, writes flow on the
	// same connection in the same generation.
	for time.Since(lost) < 4*time.Second || wr.w.Count() < 100 {
		waitAcks(ctx, t, wr.w, 10, "with one member lost")
	}
	if st, err = c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Data.Generation != gen {
		t.Errorf("losing etcd member %s (raft leader) caused a failover: generation %d -> %d", raft.Name, gen, st.Data.Generation)
	}
	if at, err := fenceTime(leader.NodeLog, lost); err == nil {
		t.Errorf("losing etcd member %s fenced the leader %s %v after", raft.Name, leader.Name, at.Sub(lost).Round(time.Millisecond))
	}
	if wr.w.MaxGap() > 0 {
		t.Errorf("losing etcd member %s interrupted writes for %v (a dropped connection)", raft.Name, wr.w.MaxGap())
	}
	if err := c.StartEtcd(raft); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitEtcd(ctx, 3); err != nil {
		t.Fatal(err)
	}

	// Two members down: no quorum anywhere.
	down := []*Host{}
	for _, h := range c.Hosts {
		if len(down) < 2 {
			h.StopEtcd(5 * time.Second)
			down = append(down, h)
		}
	}
	stopped := time.Now()
	for {
		err := writeOnce(ctx, c.DirectURL(leader), nil)
		if err != nil {
			t.Logf("without quorum the leader %s refuses writes %v after the second member stopped: %v",
				leader.Name, time.Since(stopped).Round(time.Millisecond), err)
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the leader kept accepting writes without an etcd quorum")
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation
	}
	if err := c.StartEtcd(down[0]); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	waitAcks(ctx, t, wr.w, 20, "after a member returned")
	t.Logf("writes resumed %v after a member returned", time.Since(back).Round(time.Millisecond))
	if err := c.StartEtcd(down[1]); err != nil {
		t.Fatal(err)
	}
	if _, err = c.WaitFor(ctx, "healthy again", testcluster.Healthy(2, true)); err != nil {
		t.Fatal(err)
	}
	wr.stop()
	verify(ctx, t, c, via, wr.w.Acks())
}

// raftLeaderAmong asks every member but dead which leads raft.
func raftLeaderAmong(ctx context.Context, c *Cluster, dead *Host) *Host {
	for _, h := range c.Hosts {
		if h == dead {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		st, err := c.Client.Status(sctx, h.EtcdEndpoint())
		cancel()
		if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
			return h
		}
	}
	return nil
}

// writeOnce inserts one row with a fresh connection.
func writeOnce(ctx context.Context, url string, dial testcluster.DialFunc) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := testcluster.ConnectVia(ctx, url, dial)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `INSERT INTO acked (id) VALUES ((random() * 1e15)::bigint + 1e15)`)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	return nil
}

// fenceTime is when the node's log first says it fenced after since.
func fenceTime(logPath string, since time.Time) (time.Time, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="fencing: stopping writes"`) {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && at.After(since) {
			return at, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: no fencing after %v", logPath, since.Format(time.RFC3339Nano))
}

func lastAck(acks []testcluster.Ack) time.Time {
	var t time.Time
	for _, a := range acks {
		if a.Server.After(t) {
			t = a.Server
		}
	}
	return t
}

func firstAckOn(acks []testcluster.Ack, addr string) time.Time {
	var t time.Time
	for _, a := range acks {
		if a.Node == addr && (t.IsZero() || a.Server.Before(t)) {
			t = a.Server
		}
	}
	return t
}
