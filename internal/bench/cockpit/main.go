// Command cockpit measures how responsive the cockpit is (issue 7), at
// 80x24:
//
//  1. time to first frame: the pgtui binary started in a pseudo-terminal,
//     from exec to the first output that holds a drawn frame, beside the
//     process start floor (`pgtui version`); 20 runs with the agent
//     already running, 5 with a fresh PGTUI_HOME (the cockpit starts the
//     agent, which the bench stops again after each run);
//  2. render time of the status and logs panes (View() over backend/fake);
//  3. the root model in-process (tea.Program) on a backend/fake log
//     stream: a burst of 1,000,000 lines, then 10,000 lines/s for 30 s,
//     with a key about every 500 ms whose latency to the redrawn screen is
//     timed (beside the same with the stream idle), and memory at start,
//     after 1,000,000 lines and at the end.
//
// Run by `make bench` (about a minute); goals: first frame < 150 ms, key
// latency < 50 ms, the pane keeps up with the stream, memory stays flat.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
	"github.com/muesli/termenv"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/tui"
	"github.com/pgtui/pgtui/views"
	"github.com/pgtui/pgtui/views/logs"
	"github.com/pgtui/pgtui/views/status"
)

const (
	cols, rows = 80, 24
	cluster    = "bench-logs"
	// logsKeep is what the logs pane holds (views/logs keep).
	logsKeep = 5000
	// frame is the renderer's frame interval (bubbletea's 60 fps).
	frame = time.Second / 60
)

type config struct {
	runs     int           // cockpit starts with the agent running; pgtui version runs
	coldRuns int           // cockpit starts with a fresh home (each starts an agent)
	frames   int           // View() calls per pane
	burst    int           // log lines sent first, as fast as the pane takes them
	rate     int           // then log lines a second
	logsFor  time.Duration // for this long
	keyEvery time.Duration // a timed key about this often
	cpuProf  string        // CPU profile of the paced stream
}

func main() {
	var c config
	flag.IntVar(&c.runs, "runs", 20, "cockpit starts timed with the agent running, and runs of pgtui version")
	flag.IntVar(&c.coldRuns, "cold-runs", 5, "cockpit starts timed with a fresh PGTUI_HOME (each starts and stops an agent)")
	flag.IntVar(&c.frames, "frames", 3000, "View() calls timed per pane")
	flag.IntVar(&c.burst, "burst", 1_000_000, "log lines sent first, as fast as the pane takes them")
	flag.IntVar(&c.rate, "rate", 10000, "log lines a second after the burst")
	flag.DurationVar(&c.logsFor, "logs-for", 30*time.Second, "how long the paced log stream runs")
	flag.DurationVar(&c.keyEvery, "key-every", 500*time.Millisecond, "about how often a timed key is sent")
	flag.StringVar(&c.cpuProf, "cpuprofile", "", "write a CPU profile of the paced log stream to this file")
	flag.Parse()
	// An interrupt still stops the agents this bench started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench cockpit:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	fmt.Printf("\ncockpit: responsiveness at %dx%d (issue 7); goals: first frame < 150ms, key latency < 50ms, memory flat\n", cols, rows)
	if err := firstFrame(ctx, c.runs, c.coldRuns); err != nil {
		return err
	}
	// The in-process parts draw as in a 256-colour terminal with a dark
	// background, without asking the terminal that runs the bench.
	lipgloss.SetColorProfile(termenv.ANSI256)
	lipgloss.SetHasDarkBackground(true)
	if err := renderTimes(ctx, c.frames); err != nil {
		return err
	}
	return logStream(ctx, c)
}

// ---- 1. time to first frame ----

func firstFrame(ctx context.Context, runs, coldRuns int) error {
	dir, err := os.MkdirTemp("", "pgtui-bcockpit")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := testcluster.BuildBinary(dir)
	if err != nil {
		return err
	}
	var floor, warm, cold, warmList, coldList []time.Duration
	for range runs {
		d, err := timeVersion(ctx, bin)
		if err != nil {
			return err
		}
		floor = append(floor, d)
	}
	// Agent running: one home, the agent started beforehand.
	home, err := newHome()
	if err != nil {
		return err
	}
	err = func() error {
		defer stopAgent(bin, home)
		if out, err := agentCmd(ctx, bin, home, "start").CombinedOutput(); err != nil {
			return fmt.Errorf("agent start: %v: %s", err, out)
		}
		for range runs {
			d, err := timeCockpit(ctx, bin, home)
			if err != nil {
				return err
			}
			warm, warmList = append(warm, d.frame), append(warmList, d.listed)
		}
		return nil
	}()
	if err != nil {
		return err
	}
	// Fresh home each time: the cockpit starts the agent, stopped after.
	for range coldRuns {
		home, err := newHome()
		if err != nil {
			return err
		}
		d, err := timeCockpit(ctx, bin, home)
		stopAgent(bin, home)
		if err != nil {
			return err
		}
		cold, coldList = append(cold, d.frame), append(coldList, d.listed)
	}
	fmt.Printf("\nfirst frame: exec -> first output holding a whole frame (title bar and footer), then -> clusters listed, in a %dx%d pty (%d runs, %d with a fresh home)\n", cols, rows, runs, coldRuns)
	fmt.Printf("  %-46s %8s %8s %8s\n", "", "p50", "p90", "max")
	row := func(name string, ds []time.Duration) {
		fmt.Printf("  %-46s %8s %8s %8s\n", name, ms(pct(ds, 50)), ms(pct(ds, 90)), ms(pct(ds, 100)))
	}
	row("pgtui version (process start floor, to exit)", floor)
	row("cockpit, agent already running: first frame", warm)
	row("  clusters listed", warmList)
	row("cockpit, fresh PGTUI_HOME: first frame", cold)
	row("  clusters listed (the agent started)", coldList)
	fmt.Printf("  ratio p50 to the floor: %.1fx agent running, %.1fx fresh home; goal < 150ms\n",
		ratio(pct(warm, 50), pct(floor, 50)), ratio(pct(cold, 50), pct(floor, 50)))
	return nil
}

// newHome is a fresh PGTUI_HOME: /tmp, 0755 (postgres must reach it).
func newHome() (string, error) {
	home, err := os.MkdirTemp("/tmp", "pgtui-bcockpit-home")
	if err != nil {
		return "", err
	}
	return home, os.Chmod(home, 0o755)
}

func agentCmd(ctx context.Context, bin, home string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, append([]string{"agent"}, args...)...)
	cmd.Env = append(os.Environ(), "PGTUI_HOME="+home)
	return cmd
}

// stopAgent stops home's agent, kills whatever of bin still runs in home
// (by pid) and removes home.
func stopAgent(bin, home string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := agentCmd(ctx, bin, home, "stop").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "agent stop (%s): %v: %s\n", home, err, out)
	}
	// The agent is still exiting when its socket is gone: give it time.
	left := leftovers(bin, home)
	for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = leftovers(bin, home) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range left {
		if p, err := os.FindProcess(pid); err == nil {
			fmt.Fprintf(os.Stderr, "killing leftover pid %d of %s\n", pid, home)
			_ = p.Kill()
		}
	}
	_ = os.RemoveAll(home)
}

// leftovers are the processes running bin with PGTUI_HOME=home.
func leftovers(bin, home string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	want := []byte("PGTUI_HOME=" + home + "\x00")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != bin {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, want) {
			out = append(out, pid)
		}
	}
	return out
}

func timeVersion(ctx context.Context, bin string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, "version")
	var out bytes.Buffer
	cmd.Stdout = &out
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("pgtui version: %w", err)
	}
	d := time.Since(t0)
	if out.Len() == 0 {
		return 0, errors.New("pgtui version printed nothing")
	}
	return d, nil
}

// cockpitTimes are the times from exec to the first whole frame (title
// bar and footer) and to the clusters pane drawn (the platform reached).
type cockpitTimes struct{ frame, listed time.Duration }

// timeCockpit starts the cockpit in a pty and times its first frame and
// the clusters pane. The pty answers the queries a terminal answers
// (background colour, cursor position). Then q quits the cockpit.
func timeCockpit(ctx context.Context, bin, home string) (cockpitTimes, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PGTUI_HOME="+home, "TERM=xterm-256color")
	t0 := time.Now()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		return cockpitTimes{}, err
	}
	listed := make(chan time.Duration, 1)
	var first time.Duration // written by the reader before it sends on listed
	readDone := make(chan struct{})
	var seen bytes.Buffer // what the cockpit wrote, for an error message
	go func() {           // ends when the cockpit exits (EIO) or f closes
		defer close(readDone)
		buf := make([]byte, 32<<10)
		done := false
		for {
			n, err := f.Read(buf)
			if n > 0 {
				at := time.Since(t0)
				answerQueries(f, buf[:n])
				if !done {
					seen.Write(buf[:n])
					s := ansi.Strip(seen.String())
					if first == 0 && isFrame(s) {
						first = at
					}
					if first != 0 && strings.Contains(s, "clusters") {
						done = true
						listed <- at
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends when the cockpit is gone (killed below at worst)
	var d cockpitTimes
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	select {
	case d.listed = <-listed:
		d.frame = first
	case err = <-exited:
		<-readDone
		f.Close()
		return d, fmt.Errorf("the cockpit exited before drawing (%v): %q", err, seen.String())
	case <-timeout.C:
		err = errors.New("no clusters pane within 20s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	_, _ = f.Write([]byte("q"))
	quit := time.NewTimer(5 * time.Second)
	defer quit.Stop()
	select {
	case <-exited:
	case <-quit.C:
		_ = cmd.Process.Kill()
		<-exited
		if err == nil {
			err = errors.New("the cockpit did not quit on q within 5s")
		}
	}
	f.Close()
	<-readDone
	if err != nil {
		return d, fmt.Errorf("%w; output: %q", err, seen.String())
	}
	return d, nil
}

// answerQueries replies as a dark terminal to what termenv asks.
func answerQueries(f *os.File, out []byte) {
	if bytes.Contains(out, []byte("\x1b]11;?")) {
		_, _ = f.Write([]byte("\x1b]11;rgb:1e1e/1e1e/1e1e\x1b\\"))
	}
	if bytes.Contains(out, []byte("\x1b[6n")) {
		_, _ = f.Write([]byte("\x1b[1;1R"))
	}
}

// isFrame: the title bar and the footer are drawn.
func isFrame(s string) bool {
	return strings.Contains(s, "pgtui") && strings.Contains(s, "? help")
}

// ---- 2. render time ----

func renderTimes(ctx context.Context, frames int) error {
	f := fake.New()
	if _, err := f.AddCluster(backend.CreateRequest{Name: cluster, Org: "personal", Region: "iad",
		VMSize: "shared-cpu-1x", VolumeGB: 10, InitialClusterSize: 3}); err != nil {
		return err
	}
	f.LogBurst = logsKeep + 1000
	common := views.Common{Theme: views.DefaultTheme(), Backend: f, Clock: time.Now, Width: cols, Height: rows, PaneID: 1}
	args := views.Args{Cluster: cluster}

	st := status.New(common, args)
	st.Update(st.Start()())
	if v := st.View(); !strings.Contains(v, "leader") {
		return fmt.Errorf("status pane not loaded:\n%s", v)
	}

	lg := logs.New(common, args)
	defer lg.Stop()
	want := fmt.Sprintf("generated line %d", f.LogBurst)
	for cmd := lg.Start(); cmd != nil; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_, cmd = lg.Update(cmd())
		if f.GeneratedLogLines() >= int64(f.LogBurst) && strings.Contains(lg.View(), want) {
			break
		}
	}
	fmt.Printf("\nrender: View() of a pane at %dx%d over backend/fake (%d frames each)\n", cols, rows, frames)
	fmt.Printf("  %-46s %8s %8s %12s\n", "", "p50", "p90", "alloc/frame")
	for _, p := range []struct {
		name string
		pane views.Pane
	}{{"status pane (3 machines)", st}, {fmt.Sprintf("logs pane (%d lines kept)", logsKeep), lg}} {
		ds, alloc := timeView(p.pane, frames)
		fmt.Printf("  %-46s %8s %8s %12s\n", p.name, us(pct(ds, 50)), us(pct(ds, 90)), kb(alloc))
	}
	return nil
}

// timeView times each of n View() calls and returns the bytes allocated
// per call.
func timeView(p views.Pane, n int) ([]time.Duration, uint64) {
	ds := make([]time.Duration, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range ds {
		t0 := time.Now()
		_ = p.View()
		ds[i] = time.Since(t0)
	}
	runtime.ReadMemStats(&after)
	return ds, (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// ---- 3. the log stream through the root model ----

// headerRE is the logs pane's header state; the timed key (m, next
// machine) changes it.
var (
	headerRE = regexp.MustCompile(`(all machines|machine [0-9a-f]{8}), (following|paused|stream ended)`)
	seqRE    = regexp.MustCompile(`generated line (\d+)`)
)

// screen is the program's output: it keeps the tail of the text drawn
// (escape sequences removed), the newest generated line drawn and when
// the logs header last changed.
type screen struct {
	mu       sync.Mutex
	tail     string
	seq      int64
	header   string
	headerAt time.Time
	frames   int
	wrote    chan struct{} // a write happened; buffered 1
}

func newScreen() *screen { return &screen{wrote: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	at := time.Now()
	text := ansi.Strip(string(p))
	var seq int64
	for _, m := range seqRE.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.ParseInt(m[1], 10, 64); err == nil && n > seq {
			seq = n
		}
	}
	hs := headerRE.FindAllString(text, -1)
	s.mu.Lock()
	s.frames++
	s.tail += text
	if len(s.tail) > 64<<10 {
		s.tail = s.tail[len(s.tail)-32<<10:]
	}
	s.seq = max(s.seq, seq)
	if len(hs) > 0 && hs[len(hs)-1] != s.header {
		s.header, s.headerAt = hs[len(hs)-1], at
	}
	s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *screen) state() (seq int64, header string, headerAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq, s.header, s.headerAt
}

// waitFor waits until ok accepts the screen's tail, newest seq and header.
func (s *screen) waitFor(ctx context.Context, what string, timeout time.Duration, ok func(tail string, seq int64, header string) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		s.mu.Lock()
		done := ok(s.tail, s.seq, s.header)
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-s.wrote:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// mem is the process's resident set and Go heap after a collection.
type mem struct{ rss, heap uint64 }

func readMem() mem {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := mem{heap: ms.HeapAlloc}
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			m.rss = kb << 10
		}
	}
	return m
}

// streamRun is one run of the root model on a stream of burst lines,
// then rate lines a second for dur, with the timed keys.
type streamRun struct {
	burst, rate int
	dur         time.Duration
	burstTook   time.Duration
	elapsed     time.Duration // of the paced part
	drawn, made int64         // in the paced part
	inFlight    int64         // made but not drawn at the end
	total       int64         // lines generated in all
	lat         []time.Duration
	missed      int
	mem         []mem // start, after the burst, end
}

func logStream(ctx context.Context, c config) error {
	idle := &streamRun{dur: min(5*time.Second, c.logsFor)}
	if err := idle.run(ctx, c, ""); err != nil {
		return err
	}
	load := &streamRun{burst: c.burst, rate: c.rate, dur: c.logsFor}
	if err := load.run(ctx, c, c.cpuProf); err != nil {
		return err
	}
	fmt.Printf("\nlogs: the root model in-process (tea.Program over backend/fake), logs pane of a 2-machine cluster\n")
	fmt.Printf("  burst: %d lines drawn in %s = %.0f lines/s\n", load.burst, load.burstTook.Round(time.Millisecond),
		float64(load.burst)/load.burstTook.Seconds())
	fmt.Printf("  paced: target %d lines/s for %s: produced %d (%.0f/s), drawn %d (%.0f/s = %.1f%% of target), %d in flight at the end\n",
		load.rate, load.elapsed.Round(time.Millisecond), load.made, float64(load.made)/load.elapsed.Seconds(),
		load.drawn, float64(load.drawn)/load.elapsed.Seconds(), 100*float64(load.drawn)/(float64(load.rate)*load.elapsed.Seconds()), load.inFlight)
	fmt.Printf("  key latency: m (next machine) -> header redrawn; goal < 50ms\n")
	fmt.Printf("  %-46s %8s %8s %8s %7s\n", "", "p50", "p99", "max", "missed")
	for _, r := range []struct {
		name string
		run  *streamRun
	}{{"stream idle (floor)", idle}, {fmt.Sprintf("during %d lines/s", load.rate), load}} {
		if len(r.run.lat) == 0 {
			fmt.Printf("  %-46s %8s %8s %8s %7d\n", r.name, "-", "-", "-", r.run.missed)
			continue
		}
		fmt.Printf("  %-46s %8s %8s %8s %7d\n", fmt.Sprintf("%s, %d keys", r.name, len(r.run.lat)+r.run.missed),
			ms(pct(r.run.lat, 50)), ms(pct(r.run.lat, 99)), ms(pct(r.run.lat, 100)), r.run.missed)
	}
	fmt.Printf("  %-46s %8s %14s\n", "memory (whole process)", "RSS", "heap after GC")
	for i, name := range []string{"start (clusters pane)", fmt.Sprintf("after %d lines", load.burst),
		fmt.Sprintf("end (%d lines)", load.total)} {
		fmt.Printf("  %-46s %8s %14s\n", name, mb(load.mem[i].rss), mb(load.mem[i].heap))
	}
	return nil
}

func (r *streamRun) run(ctx context.Context, c config, cpuProf string) error {
	f := fake.New()
	if _, err := f.AddCluster(backend.CreateRequest{Name: cluster, Org: "personal", Region: "iad",
		VMSize: "shared-cpu-1x", VolumeGB: 10, InitialClusterSize: 2}); err != nil {
		return err
	}
	f.LogBurst, f.LogRate = r.burst, r.rate
	in, keys, err := os.Pipe()
	if err != nil {
		return err
	}
	defer in.Close()
	defer keys.Close()
	scr := newScreen()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := tui.New(tui.Options{Backend: f, Getenv: func(string) string { return "" }})
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(scr), tea.WithoutSignalHandler())
	ran := make(chan error, 1)
	go func() { _, err := p.Run(); ran <- err }() // ends on q, or on ctx
	p.Send(tea.WindowSizeMsg{Width: cols, Height: rows})
	if err := scr.waitFor(ctx, "the clusters pane", 10*time.Second, func(tail string, _ int64, _ string) bool {
		return strings.Contains(tail, cluster)
	}); err != nil {
		return err
	}
	r.mem = append(r.mem, readMem())

	// Open the logs pane with the palette; the burst starts at once.
	if _, err := keys.WriteString(":"); err != nil {
		return err
	}
	if err := scr.waitFor(ctx, "the palette", 5*time.Second, func(tail string, _ int64, _ string) bool {
		return strings.Contains(tail, "tab completes")
	}); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := keys.WriteString("logs " + cluster + "\r"); err != nil {
		return err
	}
	burst := int64(r.burst)
	if err := scr.waitFor(ctx, fmt.Sprintf("the logs pane with line %d", burst), 5*time.Minute, func(_ string, seq int64, header string) bool {
		return header != "" && seq >= burst
	}); err != nil {
		return err
	}
	r.burstTook = time.Since(t0)
	r.mem = append(r.mem, readMem())

	if cpuProf != "" {
		pf, err := os.Create(cpuProf)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	// Paced: a key about every keyEvery, timed to the redrawn header. The
	// interval is jittered by up to a frame either way (60 fps), or every
	// key would land at the same point of the renderer's frame clock.
	// Lines are numbered in order: those after the newest one drawn now
	// count for the paced part (made or in flight).
	seq0, _, _ := scr.state()
	tStart := time.Now()
	wait := time.NewTimer(c.keyEvery)
	defer wait.Stop()
	for time.Since(tStart) < r.dur {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait.C:
		}
		wait.Reset(c.keyEvery + time.Duration(rand.Int64N(int64(2*frame))) - frame)
		_, before, _ := scr.state()
		sent := time.Now()
		if _, err := keys.WriteString("m"); err != nil {
			return err
		}
		err := scr.waitFor(ctx, "the key's effect", 2*time.Second, func(_ string, _ int64, header string) bool {
			return header != before
		})
		if err != nil {
			r.missed++
			continue
		}
		_, _, at := scr.state()
		r.lat = append(r.lat, at.Sub(sent))
	}
	r.elapsed = time.Since(tStart)
	seq1, _, _ := scr.state()
	made1 := f.GeneratedLogLines()
	r.drawn, r.made, r.inFlight, r.total = seq1-seq0, made1-seq0, made1-seq1, made1
	r.mem = append(r.mem, readMem())

	if _, err := keys.WriteString("q"); err != nil {
		return err
	}
	quit := time.NewTimer(5 * time.Second)
	defer quit.Stop()
	select {
	case err := <-ran:
		if err != nil {
			return fmt.Errorf("cockpit: %w", err)
		}
	case <-quit.C:
		cancel()
		<-ran
		return errors.New("the cockpit did not quit on q within 5s")
	}
	return nil
}

// ---- figures ----

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max((len(s)*p+99)/100-1, 0)
	return s[i]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d.Nanoseconds())/1000) }
func kb(b uint64) string        { return fmt.Sprintf("%.1f KB", float64(b)/1024) }
func mb(b uint64) string        { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
