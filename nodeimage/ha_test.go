package nodeimage_test

// Integration tests: real postgres, embedded etcd, three `pgtui node`
// processes on their own loopback addresses. Groups: TestBootstrap*,
// TestFailover*, TestRejoin*, TestFencing*, TestSwitchover*, TestSyncMode*,
// TestStoreOutage*; TestPartition* (partition_test.go) put each node in its
// own network namespace.

import (
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
)

var binPath string

func TestMain(m *testing.M) {
	os.Exit(testcluster.RunWithBinary(m, &binPath))
}

// startCluster starts n nodes and waits until they are healthy.
func startCluster(t *testing.T, n int, opts testcluster.Options) (*testcluster.Cluster, testcluster.State) {
	t.Helper()
	opts.Nodes = n
	c, err := testcluster.Start(binPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs(60))
		}
		c.Close()
	})
	st := waitFor(t, c, 90*time.Second, "healthy cluster", testcluster.Healthy(n-1, !opts.Async))
	if err := testcluster.CreateTable(ctx(t, 10*time.Second), c.ProxyURL(c.Nodes[0])); err != nil {
		t.Fatal(err)
	}
	return c, st
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func waitFor(t *testing.T, c *testcluster.Cluster, d time.Duration, what string, cond func(testcluster.State) bool) testcluster.State {
	t.Helper()
	st, err := c.WaitFor(ctx(t, d), what, cond)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func leaderOf(t *testing.T, c *testcluster.Cluster, st testcluster.State) *testcluster.Node {
	t.Helper()
	n, err := c.LeaderNode(st)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func other(c *testcluster.Cluster, not ...*testcluster.Node) *testcluster.Node {
	for _, n := range c.Nodes {
		skip := false
		for _, x := range not {
			skip = skip || n == x
		}
		if !skip {
			return n
		}
	}
	return nil
}

// exec runs one statement, retrying until it succeeds or d passes.
func execRetry(t *testing.T, url string, d time.Duration, sql string, args ...any) {
	t.Helper()
	c := ctx(t, d)
	var last error
	for c.Err() == nil {
		conn, err := pgx.Connect(c, url)
		if err == nil {
			_, err = conn.Exec(c, sql, args...)
			conn.Close(context.Background())
			if err == nil {
				return
			}
		}
		last = err
		select {
		case <-c.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s via %s: %v", sql, url, last)
}

// waitRows waits until every id is visible at url.
func waitRows(t *testing.T, url string, ids []int64) {
	t.Helper()
	c := ctx(t, 30*time.Second)
	var missing []int64
	var err error
	for c.Err() == nil {
		missing, err = testcluster.Missing(c, url, ids)
		if err == nil && len(missing) == 0 {
			return
		}
		select {
		case <-c.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%d of %d rows missing at %s (err %v), e.g. %v", len(missing), len(ids), url, err, head(missing))
}

func head(ids []int64) []int64 {
	if len(ids) > 10 {
		return ids[:10]
	}
	return ids
}

func TestBootstrapThreeNodes(t *testing.T) {
	c, st := startCluster(t, 3, testcluster.Options{})
	if st.Data.Generation != 1 {
		t.Errorf("generation = %d, want 1", st.Data.Generation)
	}
	leader := leaderOf(t, c, st)
	for name, m := range st.Members {
		want := cluster.RoleReplica
		if name == leader.Name {
			want = cluster.RoleLeader
		}
		if m.Info.Role != want {
			t.Errorf("%s role = %s, want %s", name, m.Info.Role, want)
		}
	}
	// A row written through any node's proxy reaches every replica.
	var ids []int64
	for i, n := range c.Nodes {
		id := int64(1000 + i)
		execRetry(t, c.ProxyURL(n), 10*time.Second, `INSERT INTO acked (id) VALUES ($1)`, id)
		ids = append(ids, id)
	}
	for _, n := range c.Nodes {
		if n != leader {
			waitRows(t, c.DirectURL(n), ids)
		}
	}
	// Replicas refuse writes on their own port.
	r := other(c, leader)
	conn, err := pgx.Connect(ctx(t, 5*time.Second), c.DirectURL(r))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx(t, 5*time.Second), `INSERT INTO acked (id) VALUES (1)`); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write on replica %s: err = %v, want read-only", r.Name, err)
	}
}

func TestFailoverKillLeaderAndRejoin(t *testing.T) {
	c, st := startCluster(t, 3, testcluster.Options{})
	old := leaderOf(t, c, st)
	survivor := other(c, old)
	pgPid, err := old.PostgresPid()
	if err != nil {
		t.Fatal(err)
	}
	old.Kill()
	_ = syscall.Kill(pgPid, syscall.SIGKILL) // and postgres, should it have survived

	// Writes through a surviving node's proxy succeed again.
	execRetry(t, c.ProxyURL(survivor), 60*time.Second, `INSERT INTO acked (id) VALUES (2000)`)
	st = waitFor(t, c, 30*time.Second, "new leader", func(s testcluster.State) bool {
		return s.Data.Leader != old.Name && s.Data.Generation > st.Data.Generation
	})
	var ids []int64
	for i := int64(2001); i < 2050; i++ {
		execRetry(t, c.ProxyURL(survivor), 10*time.Second, `INSERT INTO acked (id) VALUES ($1)`, i)
		ids = append(ids, i)
	}

	// The dead node, restarted, rejoins as a replica with every row.
	if err := c.StartNode(old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, 90*time.Second, "old leader rejoined", func(s testcluster.State) bool {
		m := s.Members[old.Name]
		return testcluster.Healthy(2, true)(s) && m.Info.Role == cluster.RoleReplica && m.Info.Follow == s.Data.Leader
	})
	waitRows(t, c.DirectURL(old), append(ids, 2000))
}

func TestFencingSigstopLeader(t *testing.T) {
	c, st := startCluster(t, 3, testcluster.Options{})
	old := leaderOf(t, c, st)
	if err := old.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = old.Signal(syscall.SIGCONT)
		}
	}()
	st2 := waitFor(t, c, 60*time.Second, "new leader while old is stopped", func(s testcluster.State) bool {
		return s.Data.Leader != old.Name && s.Data.Generation > st.Data.Generation && testcluster.Healthy(1, false)(s)
	})
	execRetry(t, c.ProxyURL(other(c, old)), 20*time.Second, `INSERT INTO acked (id) VALUES (3000)`)

	// Resumed, the old leader must not accept a write on its own postgres.
	if err := old.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	conn, err := pgx.Connect(ctx(t, 5*time.Second), c.DirectURL(old))
	if err == nil {
		_, err = conn.Exec(ctx(t, 5*time.Second), `INSERT INTO acked (id) VALUES (3001)`)
		conn.Close(context.Background())
	}
	if err == nil {
		t.Fatalf("old leader %s accepted a write after being replaced", old.Name)
	}
	t.Logf("write on resumed old leader refused: %v", err)

	waitFor(t, c, 90*time.Second, "old leader rejoined as replica", func(s testcluster.State) bool {
		m := s.Members[old.Name]
		return s.Data.Generation == st2.Data.Generation && m.Alive && m.Info.Role == cluster.RoleReplica && m.Info.Streaming
	})
	waitRows(t, c.DirectURL(old), []int64{3000})
	missing, err := testcluster.Missing(ctx(t, 5*time.Second), c.DirectURL(old), []int64{3001})
	if err != nil || len(missing) != 1 {
		t.Errorf("row 3001 refused on the old leader must not exist: missing=%v err=%v", missing, err)
	}
}

func TestSwitchoverUnderLoad(t *testing.T) {
	c, st := startCluster(t, 3, testcluster.Options{})
	old := leaderOf(t, c, st)
	entry := other(c, old)
	w := testcluster.NewWriter(c.ProxyURL(entry))
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(wctx, 10_000) }()
	defer func() { stop(); wg.Wait() }()
	waitCount(t, w, 50)

	if err := nodeimage.RequestSwitchover(ctx(t, 5*time.Second), c.Store, "", false); err != nil {
		t.Fatal(err)
	}
	st2 := waitFor(t, c, 60*time.Second, "switchover done", func(s testcluster.State) bool {
		return s.Data.Leader != old.Name && s.Data.Switchover == nil && testcluster.Healthy(2, true)(s)
	})
	before := w.Count()
	waitCount(t, w, before+50) // clients reconnected to the new leader
	stop()
	wg.Wait()
	newLeader := leaderOf(t, c, st2)
	missing, err := testcluster.Missing(ctx(t, 10*time.Second), c.DirectURL(newLeader), w.Acked())
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged writes lost in switchover: %v", len(missing), head(missing))
	}
	t.Logf("switchover %s -> %s: %d acked writes, none lost, write gap %s", old.Name, newLeader.Name, len(w.Acked()), w.MaxGap())
}

func waitCount(t *testing.T, w *testcluster.Writer, n int) {
	t.Helper()
	c := ctx(t, 60*time.Second)
	for w.Count() < n {
		select {
		case <-c.Done():
			t.Fatalf("writer stuck at %d acked writes, want %d", w.Count(), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestSyncModeRepeatedLeaderKills(t *testing.T) {
	c, st := startCluster(t, 3, testcluster.Options{})
	// Write through every node's proxy so that killing any one leaves writers.
	var ws []*testcluster.Writer
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		w := testcluster.NewWriter(c.ProxyURL(n))
		ws = append(ws, w)
		wg.Add(1)
		go func(start int64) { defer wg.Done(); w.Run(wctx, start) }(int64(i+1) * 1_000_000)
	}
	defer func() { stop(); wg.Wait() }()
	for round := 0; round < 3; round++ {
		for _, w := range ws {
			waitCount(t, w, w.Count()+20)
		}
		old := leaderOf(t, c, st)
		old.Kill()
		st = waitFor(t, c, 60*time.Second, "failover", func(s testcluster.State) bool {
			return s.Data.Leader != old.Name && testcluster.Healthy(1, true)(s)
		})
		if err := c.StartNode(old); err != nil {
			t.Fatal(err)
		}
		st = waitFor(t, c, 90*time.Second, "all three healthy", testcluster.Healthy(2, true))
		t.Logf("round %d: %s killed, %s leads generation %d", round, old.Name, st.Data.Leader, st.Data.Generation)
	}
	stop()
	wg.Wait()
	leader := leaderOf(t, c, st)
	total := 0
	for _, w := range ws {
		acked := w.Acked()
		total += len(acked)
		missing, err := testcluster.Missing(ctx(t, 10*time.Second), c.DirectURL(leader), acked)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) > 0 {
			t.Errorf("%d acknowledged inserts missing on leader %s: %v", len(missing), leader.Name, head(missing))
		}
	}
	t.Logf("%d acknowledged inserts across 3 leader kills, all present", total)
}

func TestStoreOutageShorterThanTTL(t *testing.T) {
	c, st := startCluster(t, 3, testcluster.Options{})
	leader := leaderOf(t, c, st)
	conn, err := pgx.Connect(ctx(t, 5*time.Second), c.ProxyURL(other(c, leader)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx(t, 5*time.Second), `INSERT INTO acked (id) VALUES (4000)`); err != nil {
		t.Fatal(err)
	}
	// Shorter than the TTL and than the slack a leader keeps before it
	// fences (TTL - renewal interval - margin).
	outage := time.Second
	c.StoreOutage(outage)
	t.Logf("store cut off for %s", outage)
	// The same client connection keeps working and nothing failed over.
	for i := int64(4001); i < 4020; i++ {
		if _, err := conn.Exec(ctx(t, 10*time.Second), `INSERT INTO acked (id) VALUES ($1)`, i); err != nil {
			t.Fatalf("write %d on the connection opened before the outage: %v", i, err)
		}
	}
	st2 := waitFor(t, c, 30*time.Second, "cluster healthy after outage", testcluster.Healthy(2, true))
	if st2.Data.Generation != st.Data.Generation || st2.Data.Leader != st.Data.Leader {
		t.Fatalf("failover happened: generation %d -> %d, leader %s -> %s", st.Data.Generation, st2.Data.Generation, st.Data.Leader, st2.Data.Leader)
	}
}
