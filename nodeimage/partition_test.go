package nodeimage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// TestPartitionLeader cuts the leader's network (store, peers and clients
// at once) for longer than the TTL. The others must elect a new leader,
// the old one must stop accepting writes even from a client on its own
// side of the partition, and after the heal it must rejoin as a replica
// with no acknowledged write lost and no two leaders acknowledging writes
// in overlapping windows.
func TestPartitionLeader(t *testing.T) {
	if err := testcluster.NetnsSupported(); err != nil {
		t.Skipf("needs network namespaces: %v", err)
	}
	c, st := startCluster(t, 3, testcluster.Options{Netns: true})
	old := leaderOf(t, c, st)

	// One writer through every proxy from the root namespace, and one
	// inside the leader's namespace on its own postgres: the client the
	// partition leaves with the old leader, which would see a split brain.
	var ws []*testcluster.Writer
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		ws = append(ws, testcluster.NewWriter(c.ProxyURL(n)))
		wg.Add(1)
		go func(w *testcluster.Writer, start int64) { defer wg.Done(); w.Run(wctx, start) }(ws[i], int64(i+1)*1_000_000)
	}
	local := testcluster.NewWriter(c.DirectURL(old)).Via(c.DialIn(old))
	ws = append(ws, local)
	wg.Add(1)
	go func() { defer wg.Done(); local.Run(wctx, 9_000_000) }()
	defer func() { stop(); wg.Wait() }()
	for _, w := range ws {
		waitCount(t, w, 20)
	}

	cut := time.Now()
	if err := c.Partition(old); err != nil {
		t.Fatal(err)
	}
	healed := false
	defer func() {
		if !healed {
			_ = c.Heal(old)
		}
	}()
	st2 := waitFor(t, c, 60*time.Second, "new leader among the others", func(s testcluster.State) bool {
		l := s.Members[s.Data.Leader]
		return s.Data.Leader != old.Name && s.Data.Generation > st.Data.Generation && s.Leader.Holder == s.Data.Leader &&
			l.Info != nil && l.Info.Role == cluster.RoleLeader && l.Info.Generation == s.Data.Generation
	})
	t.Logf("partitioned %s; %s leads generation %d after %s", old.Name, st2.Data.Leader, st2.Data.Generation, time.Since(cut).Round(time.Millisecond))
	// Writes flow through the proxies on the majority side.
	for i, n := range c.Nodes {
		if n != old {
			waitCount(t, ws[i], ws[i].Count()+20)
		}
	}

	// Still partitioned: the old leader refuses a write from its own side.
	conn, err := testcluster.ConnectVia(ctx(t, 5*time.Second), c.DirectURL(old), c.DialIn(old))
	if err == nil {
		_, err = conn.Exec(ctx(t, 5*time.Second), `INSERT INTO acked (id) VALUES (8000000)`)
		conn.Close(context.Background())
	}
	if err == nil {
		t.Fatalf("partitioned old leader %s accepted a write while %s leads", old.Name, st2.Data.Leader)
	}
	t.Logf("write on the partitioned old leader refused: %v", err)

	if err := c.Heal(old); err != nil {
		t.Fatal(err)
	}
	healed = true
	healedAt := time.Now()
	st3 := waitFor(t, c, 120*time.Second, "old leader rejoined as replica, all healthy", func(s testcluster.State) bool {
		m := s.Members[old.Name]
		return testcluster.Healthy(2, true)(s) && m.Info.Role == cluster.RoleReplica && m.Info.Follow == s.Data.Leader
	})
	t.Logf("healed; %s rejoined as replica of %s after %s", old.Name, st3.Data.Leader, time.Since(healedAt).Round(time.Millisecond))
	for _, w := range ws[:len(c.Nodes)] {
		waitCount(t, w, w.Count()+20) // every proxy routes again
	}
	stop()
	wg.Wait()

	var acks []testcluster.Ack
	var ids []int64
	for _, w := range ws {
		acks = append(acks, w.Acks()...)
		ids = append(ids, w.Acked()...)
	}
	if sb := testcluster.SplitBrain(acks); sb > 0 {
		t.Errorf("%d writes acknowledged on an older timeline after another node acknowledged on a newer one", sb)
	}
	leader := leaderOf(t, c, st3)
	missing, err := testcluster.Missing(ctx(t, 10*time.Second), c.DirectURL(leader), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged writes lost: %v", len(missing), head(missing))
	}
	if missing, err := testcluster.Missing(ctx(t, 10*time.Second), c.DirectURL(leader), []int64{8000000}); err != nil || len(missing) != 1 {
		t.Errorf("row 8000000 refused on the old leader must not exist: missing=%v err=%v", missing, err)
	}
	waitRows(t, c.DirectURL(old), ids)
	var lastOld time.Time
	for _, a := range local.Acks() {
		lastOld = a.Client
	}
	var gap time.Duration
	for _, w := range ws[:len(c.Nodes)] {
		gap = max(gap, w.MaxGap())
	}
	// The local client reaches its postgres over the namespace's loopback;
	// only commits the standby confirmed before the cut can be acked.
	t.Logf("%d acknowledged writes, none lost, no split brain; the local client on %s got its last ack %+dms from the partition; max write gap %s",
		len(ids), old.Name, lastOld.Sub(cut).Milliseconds(), gap)
}
