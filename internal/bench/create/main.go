// Command create measures, in one run, how long `postgres create` takes
// to reach a healthy 2-machine cluster on the local platform, beside the
// floor on this machine: initdb + start + pg_basebackup + replica start,
// done directly with the same pg package. Run by `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/agent"
	"github.com/pgtui/pgtui/backend/local"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

func main() {
	trials := flag.Int("trials", 3, "trials of each")
	flag.Parse()
	if err := run(*trials); err != nil {
		fmt.Fprintln(os.Stderr, "bench create:", err)
		os.Exit(1)
	}
}

func run(trials int) error {
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
	var creates, floors []time.Duration
	for i := 0; i < trials; i++ {
		d, err := timeCreate(ctx, c, fmt.Sprintf("bench-%d", i))
		if err != nil {
			return err
		}
		f, err := timeFloor(ctx, filepath.Join(dir, fmt.Sprintf("floor-%d", i)))
		if err != nil {
			return err
		}
		creates, floors = append(creates, d), append(floors, f)
		fmt.Fprintf(os.Stderr, "trial %d: create %s   floor %s\n", i+1, d.Round(time.Millisecond), f.Round(time.Millisecond))
	}
	med := func(ds []time.Duration) time.Duration { s := slices.Clone(ds); slices.Sort(s); return s[len(s)/2] }
	fmt.Printf("\ncreate: 2-machine cluster to healthy (%d trials, median)\n", trials)
	fmt.Printf("%-44s %8s\n", "pgtui postgres create (2 machines, sync)", med(creates).Round(time.Millisecond))
	fmt.Printf("%-44s %8s\n", "floor (initdb+start+basebackup+replica)", med(floors).Round(time.Millisecond))
	fmt.Printf("ratio create/floor: %.2fx; goal <= 2x\n", float64(med(creates))/float64(med(floors)))
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

func timeCreate(ctx context.Context, c *local.Client, name string) (time.Duration, error) {
	start := time.Now()
	events, err := c.CreateCluster(ctx, backend.CreateRequest{Name: name, Org: "personal", Region: "iad",
		VMSize: "shared-cpu-1x", VolumeGB: 1, InitialClusterSize: 2})
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

// timeFloor does by hand what a 2-machine create must do at least.
func timeFloor(ctx context.Context, dir string) (time.Duration, error) {
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
	mk := func(name string) *pg.Instance {
		port, _ := testcluster.FreePort("127.0.0.1")
		return pg.New(pg.Config{Bin: bin, DataDir: filepath.Join(dir, name), SocketDir: filepath.Join(dir, name+"-s"),
			ListenHost: "127.0.0.1", Port: port, RunAs: runAs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	p, r := mk("p"), mk("r")
	defer func() {
		_ = r.Stop(context.Background(), pg.StopImmediate)
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
	src := pg.ConnInfo{Host: "127.0.0.1", Port: p.Config().Port, User: "repluser", Password: "floor", AppName: "r"}
	if err := r.BaseBackup(ctx, src); err != nil {
		return 0, err
	}
	if _, err := r.WriteConf(pg.Settings{ReplUser: "repluser", PrimaryConnInfo: src.String()}); err != nil {
		return 0, err
	}
	if err := r.Start(ctx); err != nil {
		return 0, err
	}
	for {
		if st, err := r.Status(ctx); err == nil && st.ReceiverStreaming {
			return time.Since(start), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}
