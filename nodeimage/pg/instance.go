package pg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
)

// Config is one postgres instance's place and identity.
type Config struct {
	Bin        Binaries
	DataDir    string // PGDATA
	SocketDir  string // unix socket directory; created 0700 owned by RunAs
	ListenHost string // listen_addresses
	Port       int
	RunAs      *RunAs
	Log        io.Writer // postgres stdout+stderr; nil discards
	Logger     *slog.Logger
}

// Instance is one local postgres. Its methods are safe for concurrent use.
type Instance struct {
	cfg Config
	log *slog.Logger

	life sync.Mutex // serialises Start's launch, Rewind and RemoveData

	mu             sync.Mutex
	proc           *os.Process
	done           chan struct{} // closed when proc has exited and been reaped
	tail           *tailBuffer   // the current child's last output
	pendingRestart bool          // WriteConf reported NeedRestart since the last start
}

// New prepares an instance; nothing runs until Start. DataDir and
// SocketDir are made absolute.
func New(cfg Config) *Instance {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		cfg.DataDir = abs
	}
	if abs, err := filepath.Abs(cfg.SocketDir); err == nil {
		cfg.SocketDir = abs
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
// wal_log_hints) and scram-sha-256 for TCP. DataDir must be absent or empty.
func (i *Instance) Initdb(ctx context.Context) error {
	dir := i.cfg.DataDir
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("initdb %s: data dir is not empty", dir)
	}
	if err := mkdirOwned(dir, 0o700, i.cfg.RunAs); err != nil {
		return fmt.Errorf("initdb %s: %w", dir, err)
	}
	out, err := i.run(ctx, nil, i.cfg.Bin.Path("initdb"), "-D", dir, "-U", "postgres",
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--data-checksums")
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", dir, err, lastLines(out, 20))
	}
	return nil
}

// run executes a tool as RunAs and returns its combined output. The tool
// dies with our process (parent-death signal) and when ctx ends.
func (i *Instance) run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	dir := i.workDir()
	cmd := command(i.cfg.RunAs, dir, name, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = dir
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	exited, err := startPinned(cmd)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop()
	err = <-exited
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return out.Bytes(), err
}

// workDir is the tools' working and home directory: the data dir's
// parent when RunAs can enter it, else /tmp.
func (i *Instance) workDir() string {
	parent := filepath.Dir(i.cfg.DataDir)
	fi, err := os.Stat(parent)
	if err != nil || (i.cfg.RunAs != nil && !searchable(fi, i.cfg.RunAs)) {
		return os.TempDir()
	}
	return parent
}

// startPinned starts cmd from a goroutine locked to its OS thread that
// stays until the child has exited: the parent-death signal (SIGKILL) is
// sent when that thread ends, so the child dies when our process does,
// even by SIGKILL. The returned channel yields cmd.Wait's result.
func startPinned(cmd *exec.Cmd) (<-chan error, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}

// Running reports whether our postgres child is alive.
func (i *Instance) Running() bool { return !isClosed(i.Done()) }

// Done is closed when the current child exits (closed if none runs).
func (i *Instance) Done() <-chan struct{} {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.done
}

// Pid is the postmaster's process id, 0 when not running.
func (i *Instance) Pid() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc == nil || isClosed(i.done) {
		return 0
	}
	return i.proc.Pid
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// RemoveData deletes the data directory (and a leftover base backup).
func (i *Instance) RemoveData() error {
	i.life.Lock()
	defer i.life.Unlock()
	if i.Running() {
		return fmt.Errorf("remove %s: postgres is running", i.cfg.DataDir)
	}
	for _, d := range []string{i.cfg.DataDir + ".tmp", i.cfg.DataDir} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("remove %s: %w", d, err)
		}
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
	if len(t.buf) > 16384 {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-8192:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(lastLines(t.buf, 20))
}

// syncBuffer is a bytes.Buffer safe for a child's stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.buf.Bytes()...)
}

func lastLines(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}
