// Command checks measures what a node's health check collection costs
// while the cluster is idle, as a share of one core, next to what the
// whole node costs in the same run. Run by `make bench`; goal: checks <
// 2% of a core at the default interval.
//
// The whole node is its process's CPU time over the window (keeper and
// sentinel loops, etcd client, checks, exporter), and beside it its
// postgres: the postmaster and every process it forked, which includes
// the backends the node's connections cost (and here those of the
// collector below as well).
//
// Check collection cannot be told apart inside the node process, so each
// node's collection is run again, the same code with the same inputs, in
// a child process of this program (which also hosts etcd, whose CPU would
// drown the figure): the nodeimage/checks runner at the node's default
// interval and watch poll, connecting as pg.Instance does to the node's
// own postgres over its unix socket, reading the real /proc and statfs of
// the node's volume. Its share is:
//
//   - the child's CPU time (getrusage: every thread and the Go runtime)
//     minus an idle child's over the same window; in the node the timer
//     wake-ups share threads that are awake anyway, so if anything this
//     is high;
//   - plus postgres's side. The pg check opens a new connection each run
//     (checks.QueryPG says why), whose backend exits before it could be
//     read, so the cost of one run is calibrated on the same postgres
//     after the window: bursts of back-to-back checks, counted as the
//     postmaster's own and its reaped children's CPU time (fork, backend
//     start, authentication, query, exit, reap) minus the background
//     rate measured just before each burst. It is multiplied by the
//     collector's connections in the window. Back to back, caches are
//     warm: one check every 5s may cost postgres somewhat more.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// childArg as the first argument runs this program as a measured child.
const childArg = "-bench-checks-child"

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		if err := child(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench checks child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(30 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench checks:", err)
		os.Exit(1)
	}
}

// result is what a child reports, over its window.
type result struct {
	CPU     float64 // this process, seconds
	Elapsed float64 // seconds
	Runs    int     // check evaluations
	Conns   int     // postgres connections opened
	Alloc   uint64  // bytes allocated on the heap
	Status  string  // the last results: "vm passing, pg passing, role passing"
}

// job is one child process.
type job struct {
	name string
	args []string
	res  result
	err  error
}

func run(window time.Duration) error {
	interval := nodeimage.DefaultTiming().Checks
	dir, err := os.MkdirTemp("", "pgtui-bchecks")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c, err := testcluster.Start(bin, testcluster.Options{Nodes: 2})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+window)
	defer cancel() // before c.Close: kills any child still running
	st, err := c.WaitFor(ctx, "healthy", testcluster.Healthy(1, true))
	if err != nil {
		return err
	}
	leader, err := c.LeaderNode(st)
	if err != nil {
		return err
	}

	// Children, started together: the idle baseline, the runner's watch
	// poll alone (no checks evaluated), and one collector per node. Each
	// measures its own window, starting half an interval after its first
	// evaluation so that exactly window/interval evaluations fall inside.
	common := []string{"-window", window.String(), "-interval", interval.String()}
	idle := &job{name: "idle", args: common}
	poll := &job{name: "watch poll", args: append([]string{"-poll-only"}, common...)}
	jobs := []*job{idle, poll}
	roles := map[string]cluster.Role{}
	socks := map[string]string{}
	for _, n := range c.Nodes {
		role := cluster.RoleReplica
		if n == leader {
			role = cluster.RoleLeader
		}
		roles[n.Name] = role
		if socks[n.Name], err = socketDir(n); err != nil {
			return err
		}
		jobs = append(jobs, &job{name: n.Name, args: append([]string{"-data-dir", n.DataDir, "-socket-dir", socks[n.Name],
			"-pg-port", strconv.Itoa(n.PGPort), "-role", string(role)}, common...)})
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.res, j.err = runChild(ctx, self, j.args)
		}()
	}

	// The whole nodes over a window of the same length, overlapping the
	// children's.
	time.Sleep(interval / 2)
	type reading struct{ node, pg float64 }
	read := func() (map[string]reading, error) {
		m := map[string]reading{}
		for _, n := range c.Nodes {
			nodeCPU, err := cpuSeconds(n.Pid())
			if err != nil {
				return nil, err
			}
			pm, err := n.PostgresPid()
			if err != nil {
				return nil, err
			}
			pgCPU, err := treeCPU(pm)
			if err != nil {
				return nil, err
			}
			m[n.Name] = reading{nodeCPU, pgCPU}
		}
		return m, nil
	}
	start, err := read()
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(window)
	end, err := read()
	if err != nil {
		return err
	}
	elapsed := time.Since(t0).Seconds()
	wg.Wait()
	for _, j := range jobs {
		if j.err != nil {
			return fmt.Errorf("%s child: %w", j.name, j.err)
		}
	}
	perConn := map[string]float64{}
	for _, n := range c.Nodes {
		if perConn[n.Name], err = connCost(ctx, n, socks[n.Name]); err != nil {
			return fmt.Errorf("%s: postgres cost of a check: %w", n.Name, err)
		}
	}

	idleShare := idle.res.CPU / idle.res.Elapsed
	fmt.Printf("\nchecks: CPU while idle over %s as a share of one core, checks every %s (goal: checks < 2%%)\n", window, interval)
	fmt.Printf("  %-12s %9s %8s %13s %10s %9s %5s %5s %10s %7s  %s\n", "", "node proc", "its pg", "checks alone",
		"collector", "+ pg side", "runs", "conns", "alloc/"+window.String(), "of node", "results")
	worst := 0.0
	for _, j := range jobs[2:] {
		r := j.res
		nodeShare := (end[j.name].node - start[j.name].node) / elapsed
		pgShare := (end[j.name].pg - start[j.name].pg) / elapsed
		client := max(r.CPU/r.Elapsed-idleShare, 0)
		pgSide := float64(r.Conns) * perConn[j.name] / r.Elapsed
		alone := client + pgSide
		worst = max(worst, alone)
		fmt.Printf("  %-12s %8.2f%% %7.2f%% %12.3f%% %9.3f%% %8.3f%% %5d %5d %7.1f KB %6.3fx  %s\n",
			j.name+" "+string(roles[j.name]), 100*nodeShare, 100*pgShare, 100*alone, 100*client, 100*pgSide,
			r.Runs, r.Conns, float64(r.Alloc)/1024, alone/(nodeShare+pgShare), r.Status)
	}
	var costs []string
	for _, n := range c.Nodes {
		costs = append(costs, fmt.Sprintf("%s %.2f ms", n.Name, 1000*perConn[n.Name]))
	}
	fmt.Printf("  postgres CPU per check run (a new connection), calibrated: %s\n", strings.Join(costs, ", "))
	fmt.Printf("  of the collector, the runner's watch poll (every %s) alone: %.3f%%; idle child subtracted: %.3f%%\n",
		checks.DefaultPoll, 100*max(poll.res.CPU/poll.res.Elapsed-idleShare, 0), 100*idleShare)
	verdict := "met"
	if worst >= 0.02 {
		verdict = "NOT met"
	}
	fmt.Printf("ratio checks/goal: %.3fx (worst node %.3f%% of a core); goal < 1x: %s\n", worst/0.02, 100*worst, verdict)
	return nil
}

// socketDir finds the node's postgres socket: run/ on its volume, or
// the short path the node uses when that is too long for a socket.
func socketDir(n *testcluster.Node) (string, error) {
	sock := fmt.Sprintf(".s.PGSQL.%d", n.PGPort)
	for _, d := range []string{filepath.Join(n.DataDir, "run"), filepath.Join(os.TempDir(), "pgtui-"+n.Name)} {
		if _, err := os.Stat(filepath.Join(d, sock)); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("node %s: no postgres socket %s found", n.Name, sock)
}

// connCost is postgres's CPU time for one pg check: the median over
// rounds of a burst of checks back to back, as the postmaster's own and
// its reaped children's CPU time (its long-running children are not
// counted: they only add noise), minus the background rate of the same
// measured over a quiet stretch just before.
func connCost(ctx context.Context, n *testcluster.Node, sock string) (float64, error) {
	const rounds, burst, quiet = 3, 50, 2 * time.Second
	inst := pg.New(pg.Config{SocketDir: sock, Port: n.PGPort})
	pm, err := n.PostgresPid()
	if err != nil {
		return 0, err
	}
	var costs []float64
	for range rounds {
		a0, t0, err := reapedCPU(pm)
		if err != nil {
			return 0, err
		}
		time.Sleep(quiet)
		a1, t1, err := reapedCPU(pm)
		if err != nil {
			return 0, err
		}
		for range burst {
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second) // as Sources.Evaluate
			_, err := checks.QueryPG(qctx, inst)
			cancel()
			if err != nil {
				return 0, err
			}
		}
		a2, t2, err := reapedCPU(pm)
		if err != nil {
			return 0, err
		}
		bg := (a1 - a0) / t1.Sub(t0).Seconds()
		costs = append(costs, (a2-a1-bg*t2.Sub(t1).Seconds())/burst)
	}
	slices.Sort(costs)
	return costs[len(costs)/2], nil
}

// runChild runs this program as a child and decodes its result.
func runChild(ctx context.Context, self string, args []string) (result, error) {
	cmd := exec.CommandContext(ctx, self, append([]string{childArg}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives us
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, fmt.Errorf("child output %q: %w", out, err)
	}
	return r, nil
}

// child measures itself over the window and prints its result as JSON:
// idle, running the runner's watch poll alone (-poll-only), or running
// the node's check collection (-data-dir and the rest).
func child(args []string) error {
	fl := flag.NewFlagSet("child", flag.ContinueOnError)
	window := fl.Duration("window", 30*time.Second, "")
	interval := fl.Duration("interval", 5*time.Second, "")
	pollOnly := fl.Bool("poll-only", false, "run the runner without checks")
	dataDir := fl.String("data-dir", "", "the node's volume; empty: stay idle")
	sockDir := fl.String("socket-dir", "", "")
	port := fl.Int("pg-port", 0, "")
	role := fl.String("role", string(cluster.RoleLeader), "")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" && !*pollOnly {
		time.Sleep(*interval / 2)
		m0 := measure()
		time.Sleep(*window)
		return json.NewEncoder(os.Stdout).Encode(measure().minus(m0))
	}

	// What the node's runner does (nodeimage.newChecksRunner), with the
	// keeper replaced by a fixed Info read under a lock as Keeper.Info
	// does.
	var mu sync.Mutex
	info := cluster.Info{Role: cluster.Role(*role), Healthy: true, Initialized: true,
		Streaming: *role == string(cluster.RoleReplica), Generation: 1}
	keeperInfo := func() cluster.Info { mu.Lock(); defer mu.Unlock(); return info }
	conn := &counter{c: pg.New(pg.Config{SocketDir: *sockDir, Port: *port})}
	evaluate := checks.Sources{DataDir: *dataDir, PG: conn, Role: func() cluster.Role { return keeperInfo().Role }}.Evaluate
	if *pollOnly {
		evaluate = func(context.Context) []checks.Check { return nil }
	}
	runner := checks.NewRunner(checks.RunnerConfig{
		Evaluate: evaluate,
		Interval: *interval,
		Watch: func() string {
			i := keeperInfo()
			return fmt.Sprint(i.Role, i.Healthy, i.Streaming, i.Initialized, i.Generation)
		},
		Log: slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	defer func() { cancel(); <-done }()

	for runner.Runs() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(*interval / 2)
	runs0, conns0 := runner.Runs(), conn.n.Load()
	m0 := measure()
	time.Sleep(*window)
	r := measure().minus(m0)
	r.Runs, r.Conns = runner.Runs()-runs0, int(conn.n.Load()-conns0)
	var status []string
	for _, c := range runner.Results() {
		status = append(status, fmt.Sprintf("%s %s", c.Name, c.Status))
	}
	r.Status = strings.Join(status, ", ")
	return json.NewEncoder(os.Stdout).Encode(r)
}

// counter is the node's connector, counting connections.
type counter struct {
	c *pg.Instance
	n atomic.Int64
}

func (c *counter) Connect(ctx context.Context) (*pgx.Conn, error) {
	c.n.Add(1)
	return c.c.Connect(ctx)
}

// sample is a child's reading of itself at one instant.
type sample struct {
	at    time.Time
	cpu   float64
	alloc uint64
}

func measure() sample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	m := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(m)
	return sample{at: time.Now(), cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(), alloc: m[0].Value.Uint64()}
}

func (s sample) minus(s0 sample) result {
	return result{CPU: s.cpu - s0.cpu, Elapsed: s.at.Sub(s0.at).Seconds(), Alloc: s.alloc - s0.alloc}
}

// statFields are the fields of /proc/<pid>/stat after the command name
// (which is in parentheses).
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:])), nil
}

func ticks(f []string, i int) float64 {
	v, _ := strconv.ParseFloat(f[i], 64)
	return v / 100 // USER_HZ is 100 on Linux
}

// cpuSeconds is utime+stime of a process (every thread).
func cpuSeconds(pid int) (float64, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	return ticks(f, 11) + ticks(f, 12), nil
}

// reapedCPU is a process's own CPU time plus that of its children it has
// reaped, and when it was read.
func reapedCPU(pid int) (float64, time.Time, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, time.Time{}, err
	}
	return ticks(f, 11) + ticks(f, 12) + ticks(f, 13) + ticks(f, 14), time.Now(), nil
}

// treeCPU is postgres's CPU time: the postmaster's own and its reaped
// children's, plus that of its live children (single-threaded, so their
// /proc/<pid>/stat is all of them). A child that exits between two reads
// moves from the second term to the first; one exiting during a read may
// be missed, a rare loss of a few milliseconds.
func treeCPU(pm int) (float64, error) {
	total, _, err := reapedCPU(pm)
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pm, pm))
	if err != nil {
		return 0, err
	}
	for _, s := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(s)
		if v, _, err := reapedCPU(pid); err == nil { // gone: counted as reaped
			total += v
		}
	}
	return total, nil
}
