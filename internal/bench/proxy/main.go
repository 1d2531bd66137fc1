// Command proxy compares pgbench through a node's leader proxy (:5432)
// with postgres directly (:5433) and with HAProxy (tcp mode, same leader),
// interleaved and repeated in one run because this machine is noisy.
// Run by `make bench` (which installs haproxy when missing).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

func main() {
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	if err := run(rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench proxy:", err)
		os.Exit(1)
	}
}

type target struct{ name, url string }

func run(rounds int) error {
	dir, err := os.MkdirTemp("", "pgtui-bproxy")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	c, err := testcluster.Start(bin, testcluster.Options{Nodes: 1})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	_, err = c.WaitFor(ctx, "healthy", testcluster.Healthy(0, true))
	cancel()
	if err != nil {
		return err
	}
	n := c.Nodes[0]
	haURL, haPid, stopHA, err := startHAProxy(dir, n.Host, n.PGPort, c)
	if err != nil {
		return err
	}
	defer stopHA()
	targets := []target{{"direct :5433", c.DirectURL(n)}, {"pgtui proxy :5432", c.ProxyURL(n)}, {"haproxy (tcp)", haURL}}
	if out, err := exec.Command("pgbench", "-i", "-s", "10", "-q", targets[0].url).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %v\n%s", err, out)
	}
	modes := []struct {
		name string
		args []string
	}{
		{"select-only TPS (8 clients)", []string{"-S", "-c", "8", "-j", "2", "-T", "10"}},
		{"TPC-B-like TPS (8 clients)", []string{"-c", "8", "-j", "2", "-T", "10"}},
		{"connections/s (-C, select-only)", []string{"-S", "-C", "-c", "4", "-j", "2", "-T", "5"}},
	}
	fmt.Printf("\nproxy: pgbench, %d interleaved rounds, median TPS\n%-34s", rounds, "")
	for _, t := range targets {
		fmt.Printf(" %18s", t.name)
	}
	fmt.Printf(" %10s %10s\n", "proxy/dir", "proxy/ha")
	// The proxy processes' CPU per transaction says what a hop costs
	// with less noise than TPS: the node's own (keeper, checks) is
	// measured during the direct runs and subtracted.
	pids := []int{n.Pid(), n.Pid(), haPid}
	var cpuNotes []string
	for _, m := range modes {
		res := make([][]float64, len(targets))
		var cpu [3]time.Duration
		var wall [3]time.Duration
		var txns [3]int64
		for r := 0; r < rounds; r++ {
			for i, t := range targets {
				before, start := cpuTime(pids[i]), time.Now()
				tps, count, err := pgbench(append(slices.Clone(m.args), t.url))
				if err != nil {
					return fmt.Errorf("%s via %s: %w", m.name, t.name, err)
				}
				cpu[i] += cpuTime(pids[i]) - before
				wall[i] += time.Since(start)
				txns[i] += count
				res[i] = append(res[i], tps)
			}
		}
		fmt.Printf("%-34s", m.name)
		med := make([]float64, len(targets))
		for i := range targets {
			med[i] = median(res[i])
			fmt.Printf(" %18.0f", med[i])
		}
		fmt.Printf(" %9.2fx %9.2fx\n", med[1]/med[0], med[1]/med[2])
		idle := float64(cpu[0]) / float64(wall[0]) // the node's share of a core without proxying
		own := time.Duration(max(float64(cpu[1])-idle*float64(wall[1]), 0))
		if txns[1] > 0 && txns[2] > 0 {
			pg, ha := own/time.Duration(txns[1]), cpu[2]/time.Duration(txns[2])
			cpuNotes = append(cpuNotes, fmt.Sprintf("  %-32s pgtui %6s  haproxy %6s  pgtui/haproxy %.2fx  (node idle %.1f%% of a core subtracted)",
				m.name, pg.Round(100*time.Nanosecond), ha.Round(100*time.Nanosecond), float64(pg)/float64(ha), idle*100))
		}
	}
	fmt.Println("proxy process CPU per transaction (user+system, all rounds):")
	for _, l := range cpuNotes {
		fmt.Println(l)
	}
	return nil
}

// cpuTime is a process's user+system CPU so far (all its threads), from
// /proc/PID/stat in clock ticks (USER_HZ, 100 on Linux); 0 when unknown.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th of the whole line.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

var (
	tpsRE  = regexp.MustCompile(`tps = ([0-9.]+)`)
	txnsRE = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
)

// pgbench runs one pgbench and returns its TPS and transaction count.
func pgbench(args []string) (float64, int64, error) {
	out, err := exec.Command("pgbench", append([]string{"-n"}, args...)...).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, out)
	}
	m, n := tpsRE.FindSubmatch(out), txnsRE.FindSubmatch(out)
	if m == nil || n == nil {
		return 0, 0, fmt.Errorf("no tps or transaction count in: %s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, 0, err
	}
	txns, err := strconv.ParseInt(string(n[1]), 10, 64)
	return tps, txns, err
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// startHAProxy runs HAProxy in tcp mode in front of the same postgres.
func startHAProxy(dir, host string, port int, c *testcluster.Cluster) (string, int, func(), error) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		return "", 0, nil, fmt.Errorf("haproxy not found: apt-get install haproxy (make bench does)")
	}
	lport, err := testcluster.FreePort("127.0.0.1")
	if err != nil {
		return "", 0, nil, err
	}
	cfg := fmt.Sprintf(`global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen pg
  bind 127.0.0.1:%d
  server leader %s
`, lport, net.JoinHostPort(host, strconv.Itoa(port)))
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command("haproxy", "-f", path, "-db")
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", lport)); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, nil, fmt.Errorf("haproxy did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := strings.Replace(c.DirectURL(c.Nodes[0]), net.JoinHostPort(host, strconv.Itoa(port)), fmt.Sprintf("127.0.0.1:%d", lport), 1)
	return url, cmd.Process.Pid, stop, nil
}
