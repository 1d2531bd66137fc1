// Command soak runs pgbench through a node's proxy for SOAK_SECONDS
// (default 600) with enough clients to saturate the machine, and counts
// leader changes: with a healthy cluster there must be none (no false
// failover under load). Run by `make soak`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

func main() {
	secs := 600
	if v, err := strconv.Atoi(os.Getenv("SOAK_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	if err := run(time.Duration(secs) * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(d time.Duration) error {
	dir, err := os.MkdirTemp("", "pgtui-soak")
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
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	st, err := c.WaitFor(wctx, "healthy", testcluster.Healthy(2, true))
	cancel()
	if err != nil {
		return err
	}
	gen := st.Data.Generation
	leader, _ := c.LeaderNode(st)
	url := c.ProxyURL(leader)
	if out, err := exec.Command("pgbench", "-i", "-s", "10", "-q", url).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %v\n%s", err, out)
	}
	fmt.Printf("soak: pgbench -c 16 -j 2 -T %d through %s's proxy (sync mode)\n", int(d.Seconds()), leader.Name)
	out, err := exec.Command("pgbench", "-c", "16", "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "-P", "60", url).CombinedOutput()
	tps := ""
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "tps") || strings.HasPrefix(l, "progress") {
			fmt.Println("  " + l)
		}
		if strings.HasPrefix(l, "tps") {
			tps = l
		}
	}
	rctx, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	end, rerr := c.Read(rctx)
	cancel2()
	if rerr != nil {
		return rerr
	}
	failovers := end.Data.Generation - gen
	fmt.Printf("soak: %s, %d failovers seen (leader %s -> %s)\n", tps, failovers, st.Data.Leader, end.Data.Leader)
	if err != nil {
		return fmt.Errorf("pgbench: %v", err)
	}
	if failovers > 0 {
		return fmt.Errorf("%d false failovers under load", failovers)
	}
	return nil
}
