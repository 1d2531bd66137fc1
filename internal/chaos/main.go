// Command chaos injects real faults into a real 3-node cluster under a
// write load and checks, after each, that no acknowledged write was lost,
// that no two nodes accepted writes at once, and that replicas match the
// leader. Run by `make chaos`; CHAOS_FAULTS and CHAOS_SEED pick the number
// of faults and the seed. It writes docs/RELIABILITY.md. With CHAOS_HOSTS=3
// the cluster spreads over three hosts with an etcd cluster (hosts.go) and
// it writes docs/RELIABILITY-HOSTS.md.
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

func main() {
	faults := envInt("CHAOS_FAULTS", 100)
	seed := uint64(envInt("CHAOS_SEED", int(time.Now().UnixNano()%100000)))
	out := os.Getenv("CHAOS_REPORT")
	if n := envInt("CHAOS_HOSTS", 0); n > 0 {
		if out == "" {
			out = "docs/RELIABILITY-HOSTS.md"
		}
		if err := runHosts(n, faults, seed, out); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			os.Exit(1)
		}
		return
	}
	if out == "" {
		out = "docs/RELIABILITY.md"
	}
	if err := run(faults, seed, out); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// result is what one fault did.
type result struct {
	kind        string
	unavailable time.Duration
	converge    time.Duration
	lost        int
	mismatch    bool
	err         error
}

func run(faults int, seed uint64, report string) error {
	fmt.Printf("chaos: %d faults, seed %d\n", faults, seed)
	dir, err := os.MkdirTemp("", "pgtui-chaos")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	// Partitions need each node in its own network namespace (root only);
	// every other fault runs the same either way.
	opts := testcluster.Options{Nodes: 3, Netns: true}
	kinds, partitionSkip := faultKinds, ""
	if err := testcluster.NetnsSupported(); err != nil {
		opts.Netns, partitionSkip = false, err.Error()
		kinds = slices.DeleteFunc(slices.Clone(faultKinds), func(k string) bool { return k == partitionKind })
		fmt.Printf("chaos: network partition not run: %v\n", err)
	}
	if only := os.Getenv("CHAOS_KINDS"); only != "" {
		kinds = pickKinds(kinds, only)
		if len(kinds) == 0 {
			return fmt.Errorf("CHAOS_KINDS=%q matches no fault kind; kinds: %s", only, strings.Join(faultKinds, ", "))
		}
		fmt.Printf("chaos: only %s\n", strings.Join(kinds, ", "))
	}
	c, err := testcluster.Start(bin, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	// Ctrl-C stops after the current fault; the report and the deferred
	// Close (nodes, namespaces) still run.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &harness{c: c, kinds: kinds, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if _, err := h.converge(ctx); err != nil {
		return err
	}
	if err := h.setup(ctx); err != nil {
		return err
	}
	wctx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		w := &writer{url: c.ProxyURL(n), next: int64(i+1) * 1_000_000_000}
		h.writers = append(h.writers, w)
		wg.Add(1)
		go func() { defer wg.Done(); w.run(wctx) }()
	}
	start := time.Now()
	var results []result
	for i := 0; i < faults && ctx.Err() == nil; i++ {
		f := h.pick()
		r := h.inject(ctx, f)
		results = append(results, r)
		status := "ok"
		if r.err != nil {
			status = "ERROR " + r.err.Error()
		}
		fmt.Printf("%3d %-22s unavailable %7s converged %7s lost %d %s\n", i+1, r.kind,
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
	rep := summarize(results, kinds, partitionSkip, len(all), lost, sb, seed, time.Since(start))
	if err := os.WriteFile(report, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Print(rep.table())
	fmt.Printf("chaos: %d faults, %d lost acknowledged writes, %d split-brain intervals, seed %d\n", len(results), lost, sb, seed)
	// An error, not os.Exit: the deferred Close must stop every node.
	if lost > 0 || sb > 0 || len(results) < faults {
		return fmt.Errorf("%d of %d faults run, %d lost, %d split-brain intervals", len(results), faults, lost, sb)
	}
	return nil
}

// pickKinds keeps the kinds containing any of only's comma-separated
// substrings (CHAOS_KINDS="partition,store outage 4s").
func pickKinds(kinds []string, only string) []string {
	var out []string
	for _, k := range kinds {
		for _, want := range strings.Split(only, ",") {
			if want = strings.TrimSpace(want); want != "" && strings.Contains(k, want) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}
