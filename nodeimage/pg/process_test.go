package pg

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPGKillAndStale: Kill fences postgres (postmaster and backends) and
// closes Done; a postmaster left on the data dir by another Instance (an
// earlier node process) is stopped by Start; crash recovery after Kill.
func TestPGKillAndStale(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := f.instance(t, "a")
	f.initPrimary(ctx, t, a, nil)
	if !isClosed(New(a.Config()).Done()) {
		t.Error("Done of a never-started instance is not closed")
	}
	execSQL(ctx, t, a, `CREATE TABLE t (id int)`)
	// A second instance on the same data dir stands in for a restarted node.
	a2 := New(a.Config())
	t.Cleanup(func() { a2.Kill() })
	old := a.Pid()
	timed(t, "start over a running postmaster", func() error { return a2.Start(ctx) })
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the earlier postmaster was not stopped")
	}
	if a.Running() || !a2.Running() || a2.Pid() == old {
		t.Fatalf("running: first %v second %v", a.Running(), a2.Running())
	}
	// An open session: its backend must die with the postmaster.
	conn, err := a2.Connect(ctx)
	must(t, err)
	defer conn.Close(context.Background())
	var backend int
	must(t, conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend))
	execSQL(ctx, t, a2, `INSERT INTO t VALUES (1)`)
	pid := a2.Pid()
	timed(t, "kill", func() error { a2.Kill(); return nil })
	if !isClosed(a2.Done()) || a2.Running() || a2.Pid() != 0 {
		t.Fatal("Done not closed after Kill")
	}
	if alive(pid) || alive(backend) {
		t.Errorf("alive after Kill: postmaster %v backend %v", alive(pid), alive(backend))
	}
	if left := processesIn(a.Config().DataDir); len(left) > 0 {
		t.Errorf("processes left in the data dir after Kill: %v", left)
	}
	a2.Kill() // no-op
	must(t, a2.Stop(ctx, StopFast))
	timed(t, "start after kill (crash recovery)", func() error { return a.Start(ctx) })
	if n, err := queryInt(ctx, a, `SELECT count(*) FROM t`); err != nil || n != 1 {
		t.Errorf("row after crash recovery: %d %v", n, err)
	}
	timed(t, "stop smart", func() error { return a.Stop(ctx, StopSmart) })
	if s, err := a.ClusterState(ctx); err != nil || s != "shut down" {
		t.Errorf("after smart stop: %q %v", s, err)
	}
	if err := a.RemoveData(); err != nil || a.Initialized() {
		t.Errorf("RemoveData: %v", err)
	}
}

// TestPGStopTimeout: when ctx ends before a smart shutdown finishes (a
// session stays open), Stop kills postgres and says so.
func TestPGStopTimeout(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := f.instance(t, "a")
	f.initPrimary(ctx, t, a, nil)
	conn, err := a.Connect(ctx)
	must(t, err)
	defer conn.Close(context.Background())
	sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer scancel()
	if err := a.Stop(sctx, StopSmart); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop with a session open: %v", err)
	}
	if a.Running() {
		t.Error("still running")
	}
}

// TestPGStartFailure: a postgres that cannot start reports its log.
func TestPGStartFailure(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := f.instance(t, "a")
	timed(t, "initdb", func() error { return a.Initdb(ctx) })
	if err := a.Initdb(ctx); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second initdb: %v", err)
	}
	if _, err := a.WriteConf(Settings{Params: map[string]string{"shared_buffers": "lots"}}); err != nil {
		t.Fatal(err)
	}
	err := a.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Fatalf("start with a bad setting: %v", err)
	}
	if a.Running() {
		t.Error("running after a failed start")
	}
	ch, err := a.WriteConf(Settings{})
	if err != nil || ch != NeedRestart {
		t.Fatalf("fixed settings: %v %v", ch, err)
	}
	// Another process on the port: a distinct error naming the holder.
	squat, err := net.Listen("tcp", net.JoinHostPort(a.cfg.ListenHost, "0")) // held, so no race
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.cfg
	cfg.Port = squat.Addr().(*net.TCPAddr).Port
	b := New(cfg) // a on the squatted port
	t.Cleanup(b.Kill)
	if _, err := b.WriteConf(Settings{}); err != nil {
		t.Fatal(err)
	}
	err = b.Start(ctx)
	_ = squat.Close()
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), fmt.Sprintf("LISTEN %s held by pid %d", squat.Addr(), os.Getpid())) {
		t.Fatalf("start with the port taken: %v", err)
	}
	t.Logf("port taken: %v", err)
	if _, err := a.WriteConf(Settings{}); err != nil { // a's own port again
		t.Fatal(err)
	}
	timed(t, "start", func() error { return a.Start(ctx) })
	if ch, err := a.WriteConf(Settings{Params: map[string]string{"max_connections": "50"}}); err != nil || ch != NeedRestart {
		t.Fatalf("max_connections: %v %v", ch, err)
	}
	if ch, err := a.WriteConf(Settings{Params: map[string]string{"max_connections": "50"}}); err != nil || ch != NeedRestart {
		t.Errorf("restart still pending: %v %v", ch, err)
	}
	must(t, a.Stop(ctx, StopFast))
	must(t, a.Start(ctx))
	if ch, err := a.WriteConf(Settings{Params: map[string]string{"max_connections": "50"}}); err != nil || ch != Unchanged {
		t.Errorf("after restart: %v %v", ch, err)
	}
}

// helperConfig is what TestPGParentDeath hands its helper process.
type helperConfig struct {
	Config
	LogPath string
}

// TestPGParentDeath: when the process that started postgres is killed
// with SIGKILL, postgres dies too (parent-death signal), and the next
// start on the data dir works.
func TestPGParentDeath(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	becomeSubreaper(t)
	a := f.instance(t, "a")
	timed(t, "initdb", func() error { return a.Initdb(ctx) })
	_, err := a.WriteConf(Settings{})
	must(t, err)
	cfg := a.Config()
	cfg.Log, cfg.Logger = nil, nil
	hc, err := json.Marshal(helperConfig{Config: cfg, LogPath: f.root + "/a.log"})
	must(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPGHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTUI_PG_TEST_HELPER="+string(hc))
	stdin, err := cmd.StdinPipe()
	must(t, err)
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := readReady(t, stdout)
	t.Cleanup(func() {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	waitFor(t, 10*time.Second, "postgres gone after its parent was killed", func() error {
		if alive(pid) {
			return fmt.Errorf("postmaster %d alive", pid)
		}
		if left := processesIn(cfg.DataDir); len(left) > 0 {
			return fmt.Errorf("processes in the data dir: %v", left)
		}
		return nil
	})
	timed(t, "start after parent death", func() error { return a.Start(ctx) })
	must(t, a.Stop(ctx, StopFast))
}

// becomeSubreaper makes this process adopt orphans (the helper's
// postgres) and reaps them at the end: where PID 1 does not reap, they
// would stay as zombies.
func becomeSubreaper(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		t.Logf("PR_SET_CHILD_SUBREAPER: %v", e)
		return
	}
	t.Cleanup(func() {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0)
		for _, pid := range childrenOf(os.Getpid()) {
			if st, _, _ := procStat(pid); st == 'Z' {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
		}
	})
}

// readReady reads the helper's "READY <pid>" line.
func readReady(t *testing.T, stdout io.Reader) int {
	t.Helper()
	lines := make(chan string)
	go func() { // ends when the helper's stdout closes
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("helper exited before READY")
			}
			var pid int
			if _, err := fmt.Sscanf(l, "READY %d", &pid); err == nil {
				go func() {
					for range lines { // drain until the helper exits
					}
				}()
				return pid
			}
			t.Logf("helper: %s", l)
		case <-deadline:
			t.Fatal("no READY from helper")
		}
	}
}

// TestPGHelperProcess is TestPGParentDeath's child: it starts postgres,
// reports its pid and waits for stdin to close (or to be killed).
func TestPGHelperProcess(t *testing.T) {
	raw := os.Getenv("PGTUI_PG_TEST_HELPER")
	if raw == "" {
		t.Skip("helper process for TestPGParentDeath")
	}
	var hc helperConfig
	if err := json.Unmarshal([]byte(raw), &hc); err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	logf, err := os.OpenFile(hc.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		hc.Log = logf
	}
	inst := New(hc.Config)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := inst.Start(ctx); err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	fmt.Printf("READY %d\n", inst.Pid())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = inst.Stop(ctx, StopFast)
	os.Exit(0)
}
