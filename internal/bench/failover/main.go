// Command failover measures, in one run, the time from kill -9 of the
// leader's node to the first successful write through a surviving node's
// proxy, beside the floor on this machine: pg_promote() on a streaming
// replica plus its first write. Run by `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage"
)

func main() {
	trials := flag.Int("trials", 20, "failover trials (at least 10)")
	switchovers := flag.Int("switchovers", 10, "switchover trials")
	hostTrials := flag.Int("host-trials", 10, "failover trials across three hosts (kill -9 of the leader's host)")
	flag.Parse()
	if err := run(*trials, *switchovers, *hostTrials); err != nil {
		fmt.Fprintln(os.Stderr, "bench failover:", err)
		os.Exit(1)
	}
}

func run(trials, switchovers, hostTrials int) error {
	dir, err := os.MkdirTemp("", "pgtui-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	c, err := testcluster.Start(bin, testcluster.Options{Nodes: 3})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	st, err := waitHealthy(ctx, c)
	if err != nil {
		return err
	}
	if err := testcluster.CreateTable(ctx, c.ProxyURL(c.Nodes[0])); err != nil {
		return err
	}
	fp, err := newFloorPair(ctx, c.Dir)
	if err != nil {
		return err
	}
	defer fp.close()
	var failover, floor []time.Duration
	id := int64(1)
	for i := 0; i < trials; i++ {
		d, next, err := failoverTrial(ctx, c, st, &id)
		if err != nil {
			return fmt.Errorf("trial %d: %w\n%s", i, err, c.Logs(40))
		}
		failover = append(failover, d)
		st = next
		f, err := fp.measure(ctx)
		if err != nil {
			return fmt.Errorf("floor %d: %w", i, err)
		}
		floor = append(floor, f)
		fmt.Fprintf(os.Stderr, "trial %2d: failover %6s   floor %6s\n", i+1, d.Round(time.Millisecond), f.Round(time.Millisecond))
	}
	var gaps []time.Duration
	for i := 0; i < switchovers; i++ {
		g, next, err := switchoverTrial(ctx, c, st)
		if err != nil {
			return fmt.Errorf("switchover %d: %w", i, err)
		}
		st = next
		gaps = append(gaps, g)
		fmt.Fprintf(os.Stderr, "switchover %d: writes unavailable %s\n", i+1, g.Round(time.Millisecond))
	}
	// The one-machine cluster stops first: the two never load each other.
	c.Close()
	across, skip, err := hostsFailover(ctx, bin, hostTrials)
	if err != nil {
		return fmt.Errorf("failover across hosts: %w", err)
	}
	report(failover, floor, across, skip)
	fmt.Printf("switchover: write unavailability (%d trials)  p50 %s  max %s; goal <= 1s\n", len(gaps), pct(gaps, 50), pct(gaps, 100))
	return nil
}

// switchoverTrial runs a planned switchover under a writer and returns
// the longest time between two acknowledged writes.
func switchoverTrial(ctx context.Context, c *testcluster.Cluster, st testcluster.State) (time.Duration, testcluster.State, error) {
	old, err := c.LeaderNode(st)
	if err != nil {
		return 0, st, err
	}
	var entry *testcluster.Node
	for _, n := range c.Nodes {
		if n != old {
			entry = n
		}
	}
	w := testcluster.NewWriter(c.ProxyURL(entry))
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx, time.Now().UnixNano()) }()
	defer func() { stop(); <-done }()
	for w.Count() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := nodeimage.RequestSwitchover(ctx, c.Store, "", false); err != nil {
		return 0, st, err
	}
	// Healthy also requires that no switchover is pending, so this waits
	// for the one just requested to finish.
	next, err := waitHealthy(ctx, c)
	if err != nil {
		return 0, st, err
	}
	if next.Data.Leader == old.Name {
		return 0, next, fmt.Errorf("switchover from %s did not happen (see the sentinel's switchover: lines)\n%s", old.Name, c.Logs(40))
	}
	before := w.Count()
	for w.Count() < before+20 {
		time.Sleep(10 * time.Millisecond)
	}
	return w.MaxGap(), next, nil
}

func waitHealthy(ctx context.Context, c *testcluster.Cluster) (testcluster.State, error) {
	wctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	return c.WaitFor(wctx, "healthy cluster", testcluster.Healthy(len(c.Nodes)-1, true))
}

// failoverTrial kills the leader's node and times the first write through
// another node's proxy, then restarts the node and waits for health.
func failoverTrial(ctx context.Context, c *testcluster.Cluster, st testcluster.State, id *int64) (time.Duration, testcluster.State, error) {
	old, err := c.LeaderNode(st)
	if err != nil {
		return 0, st, err
	}
	var entry *testcluster.Node
	for _, n := range c.Nodes {
		if n != old {
			entry = n
			break
		}
	}
	start := time.Now()
	old.Kill()
	deadline := start.Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			return 0, st, fmt.Errorf("no write within 60s of killing %s", old.Name)
		}
		if tryWrite(ctx, c.ProxyURL(entry), *id) == nil {
			break
		}
	}
	d := time.Since(start)
	*id++
	if err := c.StartNode(old); err != nil {
		return 0, st, err
	}
	next, err := waitHealthy(ctx, c)
	return d, next, err
}

func tryWrite(ctx context.Context, url string, id int64) error {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(cctx, `INSERT INTO acked (id) VALUES ($1)`, id)
	return err
}

func report(failover, floor, across []time.Duration, acrossSkip string) {
	fmt.Printf("\nfailover: kill -9 leader node -> first write through a surviving proxy (%d trials)\n", len(failover))
	fmt.Printf("%-28s %8s %8s %8s %8s\n", "", "p50", "p90", "p99", "max")
	row := func(name string, ds []time.Duration) {
		fmt.Printf("%-28s %8s %8s %8s %8s\n", name, pct(ds, 50), pct(ds, 90), pct(ds, 99), pct(ds, 100))
	}
	row("failover", failover)
	row("floor (promote + write)", floor)
	if len(across) > 0 {
		row("across hosts (kill host)", across)
		fmt.Printf("across hosts: kill -9 of every process of the leader's host (node, postgres, etcd member), 3 hosts in network namespaces, etcd over TLS (%d trials)\n", len(across))
	} else {
		fmt.Printf("across hosts: not run: %s\n", acrossSkip)
	}
	fmt.Printf("ratio p50 failover/floor: %.1fx; goals p50 <= 3s, p99 <= 5s\n", float64(pctD(failover, 50))/float64(pctD(floor, 50)))
}

func pctD(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

func pct(ds []time.Duration, p int) string { return pctD(ds, p).Round(time.Millisecond).String() }
