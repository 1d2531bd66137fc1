package pg

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/freeport"
)

// fixture is a test's directory under /tmp (short enough for unix sockets
// and reachable by the postgres user when we run as root).
type fixture struct {
	root  string
	bin   Binaries
	runAs *RunAs
	log   *slog.Logger
	host  string       // this fixture's own loopback address (freeport.Loopback)
	ports map[int]bool // handed out by freePort
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	bin, err := FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	runAs, err := SystemUser()
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("/tmp", "pgt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) }) // runs after every instance cleanup
	lw := &testLogWriter{t: t}
	t.Cleanup(lw.close)
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &fixture{root: root, bin: bin, runAs: runAs, log: log, host: freeport.Loopback(), ports: map[int]bool{}}
}

// config is the configuration of instance name (data in root/name/data).
func (f *fixture) config(t *testing.T, name string) Config {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(f.root, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	return Config{
		Bin: f.bin, DataDir: filepath.Join(f.root, name, "data"), SocketDir: filepath.Join(f.root, "s-"+name),
		ListenHost: f.host, Port: f.freePort(t), RunAs: f.runAs, Log: logf, Logger: f.log.With("pg", name),
	}
}

// instance makes an instance that is stopped (killed if need be) when the
// test ends; on failure its postgres log's tail is shown.
func (f *fixture) instance(t *testing.T, name string) *Instance {
	t.Helper()
	inst := New(f.config(t, name))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := inst.Stop(ctx, StopImmediate); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(f.root, name+".log"))
			t.Logf("postgres %s log tail:\n%s", name, lastLines(b, 30))
		}
	})
	return inst
}

// initPrimary: initdb, settings, start, roles.
func (f *fixture) initPrimary(ctx context.Context, t *testing.T, inst *Instance, roles []Role) {
	t.Helper()
	timed(t, "initdb", func() error { return inst.Initdb(ctx) })
	if _, err := inst.WriteConf(Settings{ReplUser: replUser}); err != nil {
		t.Fatal(err)
	}
	timed(t, "start primary", func() error { return inst.Start(ctx) })
	if err := inst.EnsureRoles(ctx, roles); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a port on the fixture's address, below the ephemeral
// range (see freeport), free just now and not handed to another of this
// fixture's instances (picked one at a time, ports can repeat).
func (f *fixture) freePort(t *testing.T) int {
	t.Helper()
	for {
		ps, err := freeport.TCP(f.host, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !f.ports[ps[0]] {
			f.ports[ps[0]] = true
			return ps[0]
		}
	}
}

// waitFor polls cond until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			t.Logf("%s: after %v", what, time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		case <-tick.C:
		}
	}
}

// timed runs a step, fails the test on error and logs how long it took.
func timed(t *testing.T, what string, f func() error) {
	t.Helper()
	start := time.Now()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s: took %v", what, time.Since(start).Round(time.Millisecond))
}

// exec runs one statement over the local socket.
func execSQL(ctx context.Context, t *testing.T, inst *Instance, sql string, args ...any) {
	t.Helper()
	conn, err := inst.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryInt runs a query returning one integer.
func queryInt(ctx context.Context, inst *Instance, sql string, args ...any) (int64, error) {
	conn, err := inst.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// tcpConnect logs in over TCP with a password (scram-sha-256).
func tcpConnect(ctx context.Context, inst *Instance, user, password, db string) (*pgx.Conn, error) {
	ci := ConnInfo{Host: inst.Config().ListenHost, Port: inst.Config().Port, User: user, Password: password, DBName: db, SSLMode: "disable"}
	cfg, err := pgx.ParseConfig(ci.String())
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// processesIn lists live processes whose working directory is dir.
func processesIn(dir string) []int { return processesInDir(dir) }

// testLogWriter sends slog output to t.Log until the test has ended.
type testLogWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
