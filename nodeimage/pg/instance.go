package pg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config is one postgres instance's place and identity.
type Config struct {
	Bin        Binaries
	DataDir    string
	SocketDir  string
	ListenHost string
	Port       int
	RunAs      *RunAs
	Log        io.Writer
	Logger     *slog.Logger
}

// Instance is one local postgres. Its methods are safe for concurrent use.
type Instance struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	proc *os.Process
	done chan struct{} // closed when proc exits
	tail *tailBuffer
}

// New prepares an instance; nothing runs until Start.
func New(cfg Config) *Instance {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	closed := make(chan struct{})
	close(closed)
	return &Instance{cfg: cfg, log: cfg.Logger, done: closed, tail: &tailBuffer{}}
}

// Config returns the instance's configuration.
func (i *Instance) Config() Config { return i.cfg }

// Initialized reports whether the data directory holds a cluster.
func (i *Instance) Initialized() bool {
	_, err := os.Stat(filepath.Join(i.cfg.DataDir, "PG_VERSION"))
	return err == nil
}

// Initdb creates a new cluster with checksums (pg_rewind needs them or
// wal_log_hints) and scram-sha-256 for TCP.
func (i *Instance) Initdb(ctx context.Context) error {
	if err := i.mkdirOwned(i.cfg.DataDir, 0o700); err != nil {
		return err
	}
	if entries, _ := os.ReadDir(i.cfg.DataDir); len(entries) > 0 {
		return fmt.Errorf("initdb: data dir %s is not empty", i.cfg.DataDir)
	}
	out, err := i.run(ctx, nil, i.cfg.Bin.Path("initdb"), "-D", i.cfg.DataDir, "-U", "postgres",
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--data-checksums")
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", i.cfg.DataDir, err, lastLines(out, 20))
	}
	return nil
}

func (i *Instance) mkdirOwned(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return chown(dir, i.cfg.RunAs)
}

// run executes a tool as RunAs and returns its combined output.
func (i *Instance) run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := command(i.cfg.RunAs, name, args...)
	cmd.Env = append(append(os.Environ(), "HOME="+filepath.Dir(i.cfg.DataDir)), env...)
	cmd.Dir = filepath.Dir(i.cfg.DataDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop()
	err := cmd.Wait()
	return out.Bytes(), err
}

// Running reports whether our postgres child is alive.
func (i *Instance) Running() bool {
	select {
	case <-i.Done():
		return false
	default:
		return true
	}
}

// Done is closed when the current child exits (closed if none runs).
func (i *Instance) Done() <-chan struct{} {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.done
}

// Start runs postgres as a child and waits until it accepts connections
// (or, for a standby that cannot become consistent yet, 30 seconds).
func (i *Instance) Start(ctx context.Context) error {
	if i.Running() {
		return nil
	}
	if err := i.mkdirOwned(i.cfg.SocketDir, 0o700); err != nil {
		return err
	}
	if err := i.stopStale(); err != nil {
		return err
	}
	done, err := i.spawn()
	if err != nil {
		return fmt.Errorf("start postgres %s: %w", i.cfg.DataDir, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := i.Connect(cctx)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("postgres %s exited during start:\n%s", i.cfg.DataDir, i.tail.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			i.log.Warn("postgres running but not accepting connections yet", "err", err)
			return nil
		}
	}
}

// spawn starts postgres from a goroutine locked to its OS thread for the
// child's whole life: the parent-death signal fires when that thread ends,
// so when the node process dies (even by SIGKILL) postgres dies with it.
func (i *Instance) spawn() (<-chan struct{}, error) {
	cmd := command(i.cfg.RunAs, i.cfg.Bin.Path("postgres"), "-D", i.cfg.DataDir)
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.Dir = i.cfg.DataDir
	w := io.MultiWriter(i.cfg.Log, i.tail)
	cmd.Stdout, cmd.Stderr = w, w
	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		i.mu.Lock()
		i.proc, i.done = cmd.Process, done
		i.mu.Unlock()
		started <- nil
		err := cmd.Wait()
		i.log.Info("postgres exited", "err", err)
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

// stopStale stops a postmaster left from an earlier node process.
func (i *Instance) stopStale() error {
	b, err := os.ReadFile(filepath.Join(i.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("postgres")) {
		return nil // stale pid file; postgres removes it itself
	}
	i.log.Warn("stopping a postgres left running by an earlier node", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// StopMode is how postgres shuts down.
type StopMode int

// Smart waits for clients; Fast disconnects them and checkpoints;
// Immediate aborts (crash recovery at next start).
const (
	StopSmart StopMode = iota
	StopFast
	StopImmediate
)

// Stop shuts postgres down and waits; when ctx ends first it kills it.
func (i *Instance) Stop(ctx context.Context, mode StopMode) error {
	i.mu.Lock()
	proc, done := i.proc, i.done
	i.mu.Unlock()
	if proc == nil || !i.Running() {
		return nil
	}
	sig := map[StopMode]syscall.Signal{StopSmart: syscall.SIGTERM, StopFast: syscall.SIGINT, StopImmediate: syscall.SIGQUIT}[mode]
	_ = proc.Signal(sig)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		i.Kill()
		return fmt.Errorf("stop postgres %s: %w (killed)", i.cfg.DataDir, ctx.Err())
	}
}

// Kill sends SIGKILL to postgres's whole process group and waits.
func (i *Instance) Kill() {
	i.mu.Lock()
	proc, done := i.proc, i.done
	i.mu.Unlock()
	if proc == nil || !i.Running() {
		return
	}
	_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
	<-done
}

// CheckpointWAL reads the latest checkpoint location from pg_control (the
// shutdown checkpoint after a clean stop).
func (i *Instance) CheckpointWAL(ctx context.Context) (uint64, error) {
	out, err := i.run(ctx, nil, i.cfg.Bin.Path("pg_controldata"), "-D", i.cfg.DataDir)
	if err != nil {
		return 0, fmt.Errorf("pg_controldata: %w\n%s", err, lastLines(out, 5))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Latest checkpoint location" {
			return ParseLSN(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("pg_controldata: no latest checkpoint location")
}

// RemoveData deletes the data directory.
func (i *Instance) RemoveData() error {
	if err := os.RemoveAll(i.cfg.DataDir); err != nil {
		return fmt.Errorf("remove %s: %w", i.cfg.DataDir, err)
	}
	return nil
}

// tailBuffer keeps the last few KB of postgres output for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 8192 {
		t.buf = t.buf[len(t.buf)-8192:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(lastLines(t.buf, 20))
}

func lastLines(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}
