// Command peers measures pgtui beside the two HA systems Debian ships, in
// one run, on the same machine and the same faults: Patroni 3.0.2 (three
// nodes on Debian's etcd-server, HAProxy routing on Patroni's REST health
// check) and pg_auto_failover 2.0 (a monitor and two nodes, libpq
// multi-host with target_session_attrs=read-write). For each fault it
// times, through each system's client path, the write unavailability (from
// the fault to the first acknowledged write, or a longer gap after it) and
// counts acknowledged writes lost, trials interleaved across the systems.
// Run by `make bench` (BENCHES=peers), which installs the peers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

var createTable = testcluster.CreateTable

func main() {
	trials := flag.Int("trials", 10, "trials per fault and system (at least 10 for the report)")
	only := flag.String("systems", "pgtui,patroni,autofailover", "systems to run, comma-separated")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := benchPeers(ctx, *trials, strings.Split(*only, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "bench peers:", err)
		os.Exit(1)
	}
}

type key struct {
	sys   string
	fault fault
}

func benchPeers(ctx context.Context, trials int, only []string) error {
	dir, err := os.MkdirTemp("/tmp", "pgtui-peers")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The peers run as the postgres user when we are root.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	ru, err := pg.SystemUser()
	if err != nil {
		return err
	}
	var systems []system
	defer func() {
		for _, s := range systems {
			s.Close()
		}
	}()
	for _, name := range only {
		t0 := time.Now()
		var s system
		switch strings.TrimSpace(name) {
		case "pgtui":
			s, err = startPgtui(ctx, filepath.Join(dir, "pgtui"))
		case "patroni":
			s, err = startPatroni(ctx, filepath.Join(dir, "patroni"), ru)
		case "autofailover":
			s, err = startAutoFailover(ctx, filepath.Join(dir, "autofailover"), ru)
		default:
			return fmt.Errorf("no system %q: use pgtui, patroni, autofailover", name)
		}
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		systems = append(systems, s)
		fmt.Fprintf(os.Stderr, "%s up in %s\n", s.Name(), time.Since(t0).Round(time.Millisecond))
	}
	res := map[key][]result{}
	failed, streak := map[string]int{}, map[string]int{}
	id := time.Now().UnixNano()
	// Interleaved: each round runs every fault on every system, so that a
	// change in the machine's load falls on all of them alike.
	broken := map[string]error{}
	rounds := 0
rounds:
	for i := 0; i < trials; i++ {
		for _, f := range faults {
			for _, s := range systems {
				if broken[s.Name()] != nil {
					continue
				}
				r, err := trial(ctx, s, f, id)
				id += 1 << 32 // ids never collide across trials
				if err != nil {
					if ctx.Err() != nil {
						break rounds
					}
					// A failed trial is reported, not fatal, unless the
					// system keeps failing.
					failed[s.Name()]++
					streak[s.Name()]++
					fmt.Fprintf(os.Stderr, "round %2d  %-36s %-17s FAILED: %v\n%s\n", i+1, f, s.Name(), err, s.Logs())
					if streak[s.Name()] >= 2 {
						// Stuck: leave it out of the rounds to come.
						broken[s.Name()] = err
					}
					continue
				}
				streak[s.Name()] = 0
				if ctx.Err() != nil {
					break rounds
				}
				res[key{s.Name(), f}] = append(res[key{s.Name(), f}], r)
				note := ""
				if r.timedOut {
					note = " (no write within the limit)"
				}
				fmt.Fprintf(os.Stderr, "round %2d  %-36s %-17s unavailable %7s  acked %5d lost %d%s\n",
					i+1, f, s.Name(), r.unavailable.Round(time.Millisecond), r.acked, r.lost, note)
			}
		}
		rounds++
	}
	report(systems, res, rounds)
	for _, s := range systems {
		if failed[s.Name()] > 0 {
			fmt.Printf("%s: %d trials failed (see the bench's stderr); the table holds the others\n", s.Name(), failed[s.Name()])
		}
		if err := broken[s.Name()]; err != nil {
			fmt.Printf("%s: left out after two failed trials in a row: %v\n", s.Name(), firstLine(err.Error()))
		}
	}
	if ctx.Err() != nil {
		fmt.Printf("interrupted after %d full rounds\n", rounds)
		return ctx.Err()
	}
	return nil
}

func report(systems []system, res map[key][]result, trials int) {
	fmt.Printf("peers: write unavailability through each system's client path, %d rounds (one trial per cell each), interleaved\n", trials)
	fmt.Printf("(fault -> first acknowledged write, or a longer gap after it; p50 / p99 / max)\n\n")
	fmt.Printf("%-36s", "fault")
	for _, s := range systems {
		fmt.Printf(" | %-26s", s.Name())
	}
	fmt.Printf(" | ratios p50 (peer / pgtui)\n")
	for _, f := range faults {
		fmt.Printf("%-36s", f)
		var base time.Duration
		var ratios []string
		for _, s := range systems {
			ds, _, _, _ := summary(res[key{s.Name(), f}])
			fmt.Printf(" | %8s %8s %8s", pct(ds, 50), pct(ds, 99), pct(ds, 100))
			if s.Name() == "pgtui" {
				base = pctD(ds, 50)
			} else if base > 0 {
				ratios = append(ratios, fmt.Sprintf("%s %.1fx", s.Name(), float64(pctD(ds, 50))/float64(base)))
			}
		}
		fmt.Printf(" | %s\n", strings.Join(ratios, ", "))
	}
	goals(res)
	fmt.Printf("\nacknowledged writes lost / split-brain writes / acknowledged (all trials of a fault); sync replication on in each\n")
	for _, f := range faults {
		fmt.Printf("%-36s", f)
		for _, s := range systems {
			_, lost, split, acked := summary(res[key{s.Name(), f}])
			fmt.Printf(" | %-26s", fmt.Sprintf("%d / %d / %d", lost, split, acked))
		}
		fmt.Println()
	}
	fmt.Printf("\nsettings: Patroni ttl %d loop_wait %d retry_timeout %d (its documented minimums), synchronous_mode, HAProxy httpchk /primary inter 500ms fall 2 rise 1;\n",
		patroniTTL, patroniLoopWait, patroniRetryTimeout)
	fmt.Printf("pg_auto_failover monitor health checks every 1s (timeout 1s, 1 retry), node unhealthy after 3s, synchronous by default;\n")
	fmt.Printf("pgtui defaults (lease 2s). SIGSTOP is held past each system's detection timeout, then SIGCONT.\n")
}

func summary(rs []result) (ds []time.Duration, lost, split, acked int) {
	for _, r := range rs {
		ds = append(ds, r.unavailable)
		lost += r.lost
		split += r.splitBrain
		acked += r.acked
	}
	return ds, lost, split, acked
}

func pctD(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

func pct(ds []time.Duration, p int) string { return pctD(ds, p).Round(time.Millisecond).String() }

// goals prints issue 18's goals for pgtui's rows, computed from this run,
// and whether pgtui is ahead of every peer (p50 and max) on each fault.
func goals(res map[key][]result) {
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	kill := res[key{"pgtui", faultKill}]
	sw := res[key{"pgtui", faultSwitchover}]
	if len(kill) > 0 {
		ds, _, _, _ := summary(kill)
		fmt.Printf("\ngoal: kill -9 failover p50 <= 1.5s and p99 <= 2.5s: p50 %s, p99 %s: %s\n", pct(ds, 50), pct(ds, 99),
			met(pctD(ds, 50) <= 1500*time.Millisecond && pctD(ds, 99) <= 2500*time.Millisecond))
	}
	if len(sw) > 0 {
		ds, _, _, _ := summary(sw)
		fmt.Printf("goal: switchover unavailability p50 <= 400ms and max <= 1s: p50 %s, max %s: %s\n", pct(ds, 50), pct(ds, 100),
			met(pctD(ds, 50) <= 400*time.Millisecond && pctD(ds, 100) <= time.Second))
	}
	for _, f := range faults {
		ours, _, _, _ := summary(res[key{"pgtui", f}])
		if len(ours) == 0 {
			continue
		}
		var behind []string
		for k, rs := range res {
			if k.fault != f || k.sys == "pgtui" {
				continue
			}
			ds, _, _, _ := summary(rs)
			if pctD(ds, 50) < pctD(ours, 50) || pctD(ds, 100) < pctD(ours, 100) {
				behind = append(behind, k.sys)
			}
		}
		slices.Sort(behind)
		if len(behind) == 0 {
			fmt.Printf("goal: ahead of every peer on %s (p50 and max): met\n", f)
		} else {
			fmt.Printf("goal: ahead of every peer on %s (p50 and max): not met (behind %s)\n", f, strings.Join(behind, ", "))
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
