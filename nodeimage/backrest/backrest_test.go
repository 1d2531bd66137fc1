package backrest_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/nodeimage/backrest"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// env is one test's directory under /tmp (reachable by the postgres user
// when tests run as root) and its loopback address.
type env struct {
	root  string
	bin   pg.Binaries
	runAs *pg.RunAs
	host  string
	log   *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if _, err := exec.LookPath(backrest.Binary); err != nil {
		t.Fatalf("pgbackrest is not installed (make deps installs it: apt-get install pgbackrest): %v", err)
	}
	bin, err := pg.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	runAs, err := pg.SystemUser()
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("/tmp", "brt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	return &env{root: root, bin: bin, runAs: runAs, host: freeport.Loopback(), log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

func (e *env) brRunAs() *backrest.RunAs {
	if e.runAs == nil {
		return nil
	}
	return &backrest.RunAs{UID: e.runAs.UID, GID: e.runAs.GID}
}

// instance is a stopped postgres in root/name, stopped when the test ends.
func (e *env) instance(t *testing.T, name string) *pg.Instance {
	t.Helper()
	ports, err := freeport.TCP(e.host, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.root, name), 0o755); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(e.root, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	inst := pg.New(pg.Config{Bin: e.bin, DataDir: filepath.Join(e.root, name, "pgdata"), SocketDir: filepath.Join(e.root, name, "run"),
		ListenHost: e.host, Port: ports[0], RunAs: e.runAs, Log: logf, Logger: e.log})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = inst.Stop(ctx, pg.StopImmediate)
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(e.root, name+".log"))
			t.Logf("postgres %s log:\n%s", name, b)
		}
	})
	return inst
}

func (e *env) backrest(t *testing.T, stanza string, inst *pg.Instance, repo backrest.Repo) *backrest.Backrest {
	t.Helper()
	c := inst.Config()
	br, err := backrest.New(backrest.Config{Stanza: stanza, Repo: repo, Dir: filepath.Join(filepath.Dir(c.DataDir), "backrest"),
		PGPath: c.DataDir, PGPort: c.Port, PGSocket: c.SocketDir, RunAs: e.brRunAs(), Log: e.log})
	if err != nil {
		t.Fatal(err)
	}
	return br
}

func archiveParams(br *backrest.Backrest) map[string]string {
	return map[string]string{"archive_mode": "on", "archive_command": br.ArchiveCommand(), "restore_command": br.RestoreCommand()}
}

// waitFor polls cond until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func exec1(ctx context.Context, t *testing.T, inst *pg.Instance, sql string) {
	t.Helper()
	conn, err := inst.Connect(ctx)
	must(t, "connect", err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	must(t, sql, err)
}

func queryInt(ctx context.Context, t *testing.T, inst *pg.Instance, sql string) int64 {
	t.Helper()
	conn, err := inst.Connect(ctx)
	must(t, "connect", err)
	defer conn.Close(context.Background())
	var n int64
	must(t, sql, conn.QueryRow(ctx, sql).Scan(&n))
	return n
}

// TestPointInTime: rows, T, more rows, drop table; a restore to T holds
// exactly the rows committed before T. Also: the configuration is 0600
// and holds the cipher passphrase, which never appears in the
// archive_command; info lists the backup; a restore into a non-empty
// directory is refused.
func TestPointInTime(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	src := e.instance(t, "src")
	repo := backrest.Repo{Path: filepath.Join(e.root, "repo"), CipherPass: "test-cipher-pass-0123456789"}
	br := e.backrest(t, "pitr", src, repo)

	fi, err := os.Stat(br.ConfigFile())
	must(t, "stat config", err)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, want 0600", fi.Mode().Perm())
	}
	if strings.Contains(br.ArchiveCommand()+br.RestoreCommand(), repo.CipherPass) {
		t.Fatal("the cipher passphrase is on a command line")
	}
	rfi, err := os.Stat(repo.Path)
	must(t, "stat repo", err)
	if rfi.Mode().Perm() != 0o700 {
		t.Fatalf("repository mode %v, want 0700", rfi.Mode().Perm())
	}

	must(t, "initdb", src.Initdb(ctx))
	_, err = src.WriteConf(pg.Settings{Params: archiveParams(br)})
	must(t, "write conf", err)
	must(t, "start", src.Start(ctx))
	must(t, "stanza-create", br.StanzaCreate(ctx))
	var last float64
	label, err := br.Backup(ctx, backrest.Full, func(p float64) { last = p })
	must(t, "backup", err)
	if last != 100 {
		t.Errorf("last progress %v%%, want 100%%", last)
	}
	info, err := br.Info(ctx)
	must(t, "info", err)
	if b, ok := info.Newest(); !ok || b.Label != label || b.Type != "full" || b.Size == 0 || b.WALStart == "" {
		t.Fatalf("info: %+v, want the full backup %s", info, label)
	}

	// The restorable window starts after the backup's stop second.
	waitFor(t, 10*time.Second, "clock past the earliest restorable moment", func() error {
		var now time.Time
		conn, err := src.Connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&now); err != nil {
			return err
		}
		if !now.After(info.Earliest()) {
			return fmt.Errorf("now %v, earliest %v", now, info.Earliest())
		}
		return nil
	})
	exec1(ctx, t, src, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)")
	var target time.Time
	conn, err := src.Connect(ctx)
	must(t, "connect", err)
	must(t, "clock", conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&target))
	_ = conn.Close(ctx)
	exec1(ctx, t, src, "INSERT INTO t SELECT generate_series(101, 150)")
	exec1(ctx, t, src, "DROP TABLE t")
	must(t, "check (archive the current WAL)", br.Check(ctx))

	dst := e.instance(t, "dst")
	dbr := e.backrest(t, "pitr", dst, repo) // the source's stanza and repository
	// Not into a directory that holds something.
	must(t, "mkdir", os.MkdirAll(dst.Config().DataDir, 0o700))
	must(t, "write", os.WriteFile(filepath.Join(dst.Config().DataDir, "x"), nil, 0o600))
	if err := dbr.Restore(ctx, backrest.Target{Time: target}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty dir: %v, want refused", err)
	}
	must(t, "rm", os.RemoveAll(dst.Config().DataDir))

	start := time.Now()
	must(t, "restore", dbr.Restore(ctx, backrest.Target{Time: target}))
	_, err = dst.WriteConf(pg.Settings{})
	must(t, "write conf", err)
	must(t, "start restored", dst.Start(ctx))
	must(t, "recovery", dst.WaitRecoveryEnd(ctx))
	t.Logf("restore and recovery to T took %v", time.Since(start).Round(time.Millisecond))
	if n := queryInt(ctx, t, dst, "SELECT count(*) FROM t"); n != 100 {
		t.Fatalf("restored %d rows, want the 100 committed before T", n)
	}
	must(t, "stop", dst.Stop(ctx, pg.StopFast))
	must(t, "clean", backrest.CleanRecovery(dst.Config().DataDir))
	auto, err := os.ReadFile(filepath.Join(dst.Config().DataDir, "postgresql.auto.conf"))
	must(t, "read auto.conf", err)
	if strings.Contains(string(auto), "recovery_target") || strings.Contains(string(auto), "restore_command") {
		t.Fatalf("recovery settings left:\n%s", auto)
	}
}

// TestRetention: with one full backup kept, a new full backup expires the
// older one and the WAL only it needed; the newest backup and the WAL
// from its start on (the restorable window) stay.
func TestRetention(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newEnv(t)
	src := e.instance(t, "ret")
	br := e.backrest(t, "ret", src, backrest.Repo{Path: filepath.Join(e.root, "repo"), CipherPass: "retention-pass", RetentionFull: 1})
	must(t, "initdb", src.Initdb(ctx))
	_, err := src.WriteConf(pg.Settings{Params: archiveParams(br)})
	must(t, "write conf", err)
	must(t, "start", src.Start(ctx))
	must(t, "stanza-create", br.StanzaCreate(ctx))
	first, err := br.Backup(ctx, backrest.Full, nil)
	must(t, "first backup", err)
	for i := 0; i < 3; i++ {
		exec1(ctx, t, src, "CREATE TABLE IF NOT EXISTS r (v int); INSERT INTO r VALUES (1); SELECT pg_switch_wal()")
	}
	must(t, "check", br.Check(ctx))
	before, err := br.Info(ctx)
	must(t, "info", err)
	second, err := br.Backup(ctx, backrest.Full, nil) // expires beyond the retention at its end
	must(t, "second backup", err)
	info, err := br.Info(ctx)
	must(t, "info", err)
	if len(info.Backups) != 1 || info.Backups[0].Label != second {
		t.Fatalf("backups after the second full: %+v, want only %s (not %s)", info.Backups, second, first)
	}
	if info.WALMin <= before.WALMin || info.WALMin > info.Backups[0].WALStart {
		t.Fatalf("archived WAL from %s (before: %s), want the old WAL gone but everything from %s kept", info.WALMin, before.WALMin, info.Backups[0].WALStart)
	}
}
