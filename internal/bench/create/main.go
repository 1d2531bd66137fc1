// Command create measures, in one run, how long `postgres create` takes
// to reach a healthy cluster of 1, 2 and 3 machines on the local
// platform, beside the floor on this machine: initdb + start, then
// pg_basebackup + replica start for each replica (in parallel), done
// directly with the same pg package. Run by `make bench`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/agent"
	"github.com/pgtui/pgtui/backend/local"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

func main() {
	trials := flag.Int("trials", 3, "trials of each")
	sizes := flag.String("sizes", "1,2,3", "cluster sizes to create, comma-separated")
	flag.Parse()
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 5 {
			fmt.Fprintf(os.Stderr, "bench create: bad size %q in -sizes: use numbers 1-5, e.g. -sizes 1,2,3\n", f)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(*trials, ns); err != nil {
		fmt.Fprintln(os.Stderr, "bench create:", err)
		os.Exit(1)
	}
}

func run(trials int, sizes []int) error {
	dir, err := os.MkdirTemp("/tmp", "pgtb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home := filepath.Join(dir, "home")
	done := make(chan error, 1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- agent.Run(ctx, agent.Config{Home: home, Bin: bin, IPBase: 199, Log: quiet}) }()
	defer func() { cancel(); <-done }()
	c := local.New(home)
	if err := waitAgent(ctx, c); err != nil {
		return err
	}
	med := func(ds []time.Duration) time.Duration { s := slices.Clone(ds); slices.Sort(s); return s[len(s)/2] }
	// Sizes interleave within each trial so drift in machine load hits
	// every size alike.
	creates, floors := map[int][]time.Duration{}, map[int][]time.Duration{}
	for i := 0; i < trials; i++ {
		for _, n := range sizes {
			d, err := timeCreate(ctx, c, fmt.Sprintf("bench-%d-%d", n, i), n)
			if err != nil {
				return err
			}
			f, err := timeFloor(ctx, filepath.Join(dir, fmt.Sprintf("floor-%d-%d", n, i)), n)
			if err != nil {
				return err
			}
			creates[n], floors[n] = append(creates[n], d), append(floors[n], f)
			fmt.Fprintf(os.Stderr, "trial %d, %d machines: create %s   floor %s\n", i+1, n, d.Round(time.Millisecond), f.Round(time.Millisecond))
		}
	}
	fmt.Printf("\ncreate: cluster to healthy (%d trials each, median; floor = initdb+start, then basebackup+replica start per replica in parallel)\n", trials)
	fmt.Printf("%-10s %10s %10s %8s\n", "machines", "create", "floor", "ratio")
	for _, n := range sizes {
		cr, fl := med(creates[n]), med(floors[n])
		fmt.Printf("%-10d %10s %10s %7.2fx\n", n, cr.Round(time.Millisecond), fl.Round(time.Millisecond), float64(cr)/float64(fl))
	}
	fmt.Println("goal: create <= 2x floor")
	return nil
}

func waitAgent(ctx context.Context, c *local.Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Ping(ctx); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("agent did not start")
}

func timeCreate(ctx context.Context, c *local.Client, name string, machines int) (time.Duration, error) {
	start := time.Now()
	events, err := c.CreateCluster(ctx, backend.CreateRequest{Name: name, Org: "personal", Region: "iad",
		VMSize: "shared-cpu-1x", VolumeGB: 1, InitialClusterSize: machines})
	if err != nil {
		return 0, err
	}
	for ev := range events {
		if ev.Error != "" {
			return 0, fmt.Errorf("create %s: %s", name, ev.Error)
		}
		if ev.Step == "deployed" {
			d := time.Since(start)
			return d, c.DestroyCluster(ctx, name)
		}
	}
	return 0, fmt.Errorf("create %s: stream ended early", name)
}

// timeFloor does by hand what creating n machines must do at least.
func timeFloor(ctx context.Context, dir string, n int) (time.Duration, error) {
	bin, err := pg.FindBinaries()
	if err != nil {
		return 0, err
	}
	runAs, err := pg.SystemUser()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if runAs != nil {
		if err := os.Chown(dir, int(runAs.UID), int(runAs.GID)); err != nil {
			return 0, err
		}
	}
	ports, err := testcluster.FreePorts("127.0.0.1", n)
	if err != nil {
		return 0, err
	}
	mk := func(name string) *pg.Instance {
		port := ports[0]
		ports = ports[1:]
		return pg.New(pg.Config{Bin: bin, DataDir: filepath.Join(dir, name), SocketDir: filepath.Join(dir, name+"-s"),
			ListenHost: "127.0.0.1", Port: port, RunAs: runAs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	p := mk("p")
	var replicas []*pg.Instance
	for i := 1; i < n; i++ {
		replicas = append(replicas, mk(fmt.Sprintf("r%d", i)))
	}
	defer func() {
		for _, r := range replicas {
			_ = r.Stop(context.Background(), pg.StopImmediate)
		}
		_ = p.Stop(context.Background(), pg.StopImmediate)
	}()
	start := time.Now()
	if err := p.Initdb(ctx); err != nil {
		return 0, err
	}
	if _, err := p.WriteConf(pg.Settings{ReplUser: "repluser"}); err != nil {
		return 0, err
	}
	if err := p.Start(ctx); err != nil {
		return 0, err
	}
	if err := p.EnsureRoles(ctx, []pg.Role{{Name: "repluser", Password: "floor", Replication: true}}); err != nil {
		return 0, err
	}
	if _, err := p.Status(ctx); err != nil {
		return 0, err
	}
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = startReplica(ctx, p, r, fmt.Sprintf("r%d", i+1))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// startReplica base-backs up r from p, starts it and waits until it streams.
func startReplica(ctx context.Context, p, r *pg.Instance, name string) error {
	src := pg.ConnInfo{Host: "127.0.0.1", Port: p.Config().Port, User: "repluser", Password: "floor", AppName: name}
	if err := r.BaseBackup(ctx, src); err != nil {
		return err
	}
	if _, err := r.WriteConf(pg.Settings{ReplUser: "repluser", PrimaryConnInfo: src.String()}); err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	for {
		if st, err := r.Status(ctx); err == nil && st.ReceiverStreaming {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
