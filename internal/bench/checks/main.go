// Command checks measures what a node costs while idle, which bounds what
// its health check collection costs (checks every 5 s, plus the keeper's
// and sentinel's loops): CPU seconds of the node process over a window,
// as a share of one core. Run by `make bench`; goal < 2% of a core.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

func main() {
	if err := run(30 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench checks:", err)
		os.Exit(1)
	}
}

func run(window time.Duration) error {
	dir, err := os.MkdirTemp("", "pgtui-bchecks")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	c, err := testcluster.Start(bin, testcluster.Options{Nodes: 2})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	_, err = c.WaitFor(ctx, "healthy", testcluster.Healthy(1, true))
	cancel()
	if err != nil {
		return err
	}
	fmt.Printf("\nchecks: node process CPU while idle over %s (checks every 5s, loops every 500ms)\n", window)
	start := map[string]float64{}
	for _, n := range c.Nodes {
		v, err := cpuSeconds(n.Pid())
		if err != nil {
			return err
		}
		start[n.Name] = v
	}
	t0 := time.Now()
	time.Sleep(window)
	elapsed := time.Since(t0).Seconds()
	for _, n := range c.Nodes {
		v, err := cpuSeconds(n.Pid())
		if err != nil {
			return err
		}
		used := v - start[n.Name]
		fmt.Printf("  %s: %.2f CPU s in %.0f s = %.2f%% of a core (goal < 2%%)\n", n.Name, used, elapsed, 100*used/elapsed)
	}
	return nil
}

// cpuSeconds is utime+stime of a process from /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}
