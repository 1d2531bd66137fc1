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
	haURL, stopHA, err := startHAProxy(dir, n.Host, n.PGPort, c)
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
	for _, m := range modes {
		res := make([][]float64, len(targets))
		for r := 0; r < rounds; r++ {
			for i, t := range targets {
				tps, err := pgbench(append(slices.Clone(m.args), t.url))
				if err != nil {
					return fmt.Errorf("%s via %s: %w", m.name, t.name, err)
				}
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
	}
	return nil
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+)`)

func pgbench(args []string) (float64, error) {
	out, err := exec.Command("pgbench", append([]string{"-n"}, args...)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// startHAProxy runs HAProxy in tcp mode in front of the same postgres.
func startHAProxy(dir, host string, port int, c *testcluster.Cluster) (string, func(), error) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		return "", nil, fmt.Errorf("haproxy not found: apt-get install haproxy (make bench does)")
	}
	lport, err := testcluster.FreePort("127.0.0.1")
	if err != nil {
		return "", nil, err
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
		return "", nil, err
	}
	cmd := exec.Command("haproxy", "-f", path, "-db")
	if err := cmd.Start(); err != nil {
		return "", nil, err
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
			return "", nil, fmt.Errorf("haproxy did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := strings.Replace(c.DirectURL(c.Nodes[0]), net.JoinHostPort(host, strconv.Itoa(port)), fmt.Sprintf("127.0.0.1:%d", lport), 1)
	return url, stop, nil
}
