package pg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Awkward passwords: quotes and backslashes go through ConnInfo, the
// config file, format(%L) and PGPASSWORD.
const (
	adminUser = "pgtuiadmin"
	adminPass = `adm'in\pw`
	replPass  = `re'pl\p"ass w`
	appPass   = "app password"
)

func testRoles() []Role {
	return []Role{
		{Name: adminUser, Password: adminPass, Superuser: true},
		{Name: replUser, Password: replPass, Replication: true},
		{Name: "app", Password: appPass},
	}
}

func replConn(from *Instance, appName string) ConnInfo {
	return ConnInfo{Host: from.Config().ListenHost, Port: from.Config().Port, User: replUser, Password: replPass, AppName: appName, SSLMode: "disable"}
}

func adminConn(from *Instance) ConnInfo {
	return ConnInfo{Host: from.Config().ListenHost, Port: from.Config().Port, User: adminUser, Password: adminPass, SSLMode: "disable"}
}

func replicaSettings(of *Instance, name string) Settings {
	return Settings{ReplUser: replUser, PrimaryConnInfo: replConn(of, name).String(), PrimarySlot: name}
}

// TestPGReplicationFailover: primary a, roles and pg_hba; replica b by base
// backup streaming through a slot; sync replication; promote b; stop a
// cleanly, rewind it from b and have it stream from b.
func TestPGReplicationFailover(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a, b := f.instance(t, "a"), f.instance(t, "b")
	f.initPrimary(ctx, t, a, testRoles())
	if err := a.EnsureRoles(ctx, testRoles()); err != nil { // the ALTER path
		t.Fatal(err)
	}
	checkLogins(ctx, t, a)
	startReplica(ctx, t, a, b, "b")
	execSQL(ctx, t, a, `CREATE TABLE kv (k text PRIMARY KEY, v text)`)
	execSQL(ctx, t, a, `INSERT INTO kv VALUES ('one', '1')`)
	waitRow(ctx, t, b, "one")
	checkSync(ctx, t, a, b)

	timed(t, "promote b", func() error { return b.Promote(ctx) })
	st, err := b.Status(ctx)
	if err != nil || st.InRecovery || st.Timeline != 2 {
		t.Fatalf("b after promote: %+v %v", st, err)
	}
	if ch, err := b.WriteConf(Settings{ReplUser: replUser}); err != nil || ch != NeedReload {
		t.Fatalf("b as primary: WriteConf %v %v (postgres removed standby.signal itself)", ch, err)
	}
	must(t, b.Reload(ctx))
	execSQL(ctx, t, b, `INSERT INTO kv VALUES ('two', '2')`)
	execSQL(ctx, t, a, `INSERT INTO kv VALUES ('lost', 'diverged on a')`) // a still writable: diverges
	timed(t, "stop a (fast)", func() error { return a.Stop(ctx, StopFast) })
	if s, err := a.ClusterState(ctx); err != nil || s != "shut down" {
		t.Fatalf("a after fast stop: %q %v", s, err)
	}
	rejoin(ctx, t, b, a, "a")
	checkSlots(ctx, t, b)
}

// TestPGRewindAfterCrash: the old primary is killed (not shut down
// cleanly) after diverging; pg_rewind's crash recovery in single-user mode
// must work. Then the rejoined standby is killed too and rewound again
// (standby.signal is set aside for that recovery).
func TestPGRewindAfterCrash(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a, b := f.instance(t, "a"), f.instance(t, "b")
	f.initPrimary(ctx, t, a, testRoles())
	startReplica(ctx, t, a, b, "b")
	execSQL(ctx, t, a, `CREATE TABLE kv (k text PRIMARY KEY, v text)`)
	waitReplayed(ctx, t, a, b, "b") // replication is async here: b must have the table before it leads
	timed(t, "promote b", func() error { return b.Promote(ctx) })
	must(t, b.EnsureSlots(ctx, []string{"a"}))
	execSQL(ctx, t, b, `INSERT INTO kv VALUES ('two', '2')`)
	execSQL(ctx, t, a, `INSERT INTO kv VALUES ('lost', 'diverged on a')`)
	a.Kill()
	if s, err := a.ClusterState(ctx); err != nil || s != "in production" {
		t.Fatalf("a after kill: %q %v", s, err)
	}
	rejoin(ctx, t, b, a, "a")

	a.Kill() // now a crashed standby
	if s, err := a.ClusterState(ctx); err != nil || s != "in archive recovery" {
		t.Fatalf("standby a after kill: %q %v", s, err)
	}
	execSQL(ctx, t, b, `INSERT INTO kv VALUES ('three', '3')`)
	timed(t, "rewind crashed standby a", func() error { return a.Rewind(ctx, adminConn(b)) })
	if _, err := os.Stat(filepath.Join(a.Config().DataDir, "standby.signal")); err != nil {
		t.Errorf("standby.signal not restored after rewind: %v", err)
	}
	timed(t, "start a", func() error { return a.Start(ctx) })
	waitStreaming(ctx, t, b, a, "a")
	waitRow(ctx, t, a, "three")
}

// startReplica base-backs-up replica from primary and starts it streaming
// through a slot named name.
func startReplica(ctx context.Context, t *testing.T, primary, replica *Instance, name string) {
	t.Helper()
	must(t, primary.EnsureSlots(ctx, []string{name}))
	must(t, primary.EnsureSlots(ctx, []string{name})) // idempotent
	timed(t, "base backup "+name, func() error { return replica.BaseBackup(ctx, replConn(primary, name)) })
	if err := replica.BaseBackup(ctx, replConn(primary, name)); err == nil {
		t.Fatal("second base backup into an initialized data dir accepted")
	}
	fi, err := os.Stat(replica.Config().DataDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("replica data dir: %v %v", fi.Mode(), err)
	}
	if _, err := replica.WriteConf(replicaSettings(primary, name)); err != nil {
		t.Fatal(err)
	}
	timed(t, "start replica "+name, func() error { return replica.Start(ctx) })
	waitStreaming(ctx, t, primary, replica, name)
}

// rejoin rewinds the stopped old primary from the new one and starts it
// as a streaming replica; its diverged row must be gone.
func rejoin(ctx context.Context, t *testing.T, primary, old *Instance, name string) {
	t.Helper()
	must(t, primary.EnsureSlots(ctx, []string{name}))
	timed(t, "rewind "+name, func() error { return old.Rewind(ctx, adminConn(primary)) })
	if p := parseConf(mustRead(t, filepath.Join(old.Config().DataDir, "pgtui.conf")))["port"]; p != fmt.Sprint(old.Config().Port) {
		t.Errorf("rewind left port %s in pgtui.conf, want the local %d", p, old.Config().Port)
	}
	if _, err := old.WriteConf(replicaSettings(primary, name)); err != nil {
		t.Fatal(err)
	}
	timed(t, "start "+name+" as replica", func() error { return old.Start(ctx) })
	waitStreaming(ctx, t, primary, old, name)
	waitRow(ctx, t, old, "two")
	if n, err := queryInt(ctx, old, `SELECT count(*) FROM kv WHERE k = 'lost'`); err != nil || n != 0 {
		t.Errorf("diverged row after rewind: %d %v", n, err)
	}
	st, err := old.Status(ctx)
	if err != nil || !st.InRecovery || st.Timeline != 2 || st.ReceiverHost != primary.Config().ListenHost || st.WAL == 0 {
		t.Errorf("%s status after rejoin: %+v %v", name, st, err)
	}
}

func waitStreaming(ctx context.Context, t *testing.T, primary, replica *Instance, name string) {
	t.Helper()
	waitFor(t, 60*time.Second, name+" streaming", func() error {
		st, err := replica.Status(ctx)
		if err != nil {
			return err
		}
		if !st.InRecovery || !st.ReceiverStreaming {
			return fmt.Errorf("replica status %+v", st)
		}
		pst, err := primary.Status(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(pst.Standbys, func(s Standby) bool { return s.Name == name && s.State == "streaming" }) {
			return fmt.Errorf("primary standbys %+v", pst.Standbys)
		}
		return nil
	})
}

// waitReplayed waits until replica has replayed all WAL the primary had
// written when it was called.
func waitReplayed(ctx context.Context, t *testing.T, primary, replica *Instance, name string) {
	t.Helper()
	pst, err := primary.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, name+" replayed to "+fmt.Sprint(pst.WAL), func() error {
		st, err := replica.Status(ctx)
		if err == nil && st.WAL < pst.WAL {
			err = fmt.Errorf("replayed to %d", st.WAL)
		}
		return err
	})
}

func waitRow(ctx context.Context, t *testing.T, inst *Instance, key string) {
	t.Helper()
	waitFor(t, 30*time.Second, "row "+key+" on "+filepath.Base(filepath.Dir(inst.Config().DataDir)), func() error {
		n, err := queryInt(ctx, inst, `SELECT count(*) FROM kv WHERE k = $1`, key)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d rows", n)
		}
		return err
	})
}

// checkLogins: scram over TCP; the replication user may only replicate.
func checkLogins(ctx context.Context, t *testing.T, a *Instance) {
	t.Helper()
	var stored string
	conn, err := a.Connect(ctx)
	must(t, err)
	defer conn.Close(context.Background())
	must(t, conn.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = 'app'`).Scan(&stored))
	if len(stored) < 14 || stored[:14] != "SCRAM-SHA-256$" {
		t.Errorf("app password not stored as scram")
	}
	for _, c := range []struct{ user, pass, db string }{{"app", appPass, "postgres"}, {adminUser, adminPass, "postgres"}} {
		conn, err := tcpConnect(ctx, a, c.user, c.pass, c.db)
		if err != nil {
			t.Fatalf("tcp login %s: %v", c.user, err)
		}
		_ = conn.Close(ctx)
	}
	if conn, err := tcpConnect(ctx, a, "app", "wrong", "postgres"); err == nil {
		_ = conn.Close(ctx)
		t.Error("wrong password accepted")
	}
	conn2, err := tcpConnect(ctx, a, replUser, replPass, "postgres")
	var pgErr *pgconn.PgError
	if err == nil {
		_ = conn2.Close(ctx)
		t.Error("replication user logged in to a database")
	} else if !errors.As(err, &pgErr) || pgErr.Code != "28000" {
		t.Errorf("replication user: want pg_hba reject (28000), got %v", err)
	}
	checkReplicationLogin(ctx, t, a)
}

// checkReplicationLogin opens a physical replication connection.
func checkReplicationLogin(ctx context.Context, t *testing.T, a *Instance) {
	t.Helper()
	ci := replConn(a, "probe")
	cfg, err := pgconn.ParseConfig(ci.String() + " replication=true")
	must(t, err)
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("replication login: %v", err)
	}
	defer conn.Close(context.Background())
	res, err := conn.Exec(ctx, "IDENTIFY_SYSTEM").ReadAll()
	if err != nil || len(res) != 1 || len(res[0].Rows) != 1 {
		t.Fatalf("IDENTIFY_SYSTEM: %v %v", res, err)
	}
}

// checkSync: naming b in synchronous_standby_names needs only a reload.
func checkSync(ctx context.Context, t *testing.T, a, b *Instance) {
	t.Helper()
	s := Settings{ReplUser: replUser, SyncStandbyNames: "b"}
	if ch, err := a.WriteConf(s); err != nil || ch != NeedReload {
		t.Fatalf("sync WriteConf: %v %v", ch, err)
	}
	must(t, a.Reload(ctx))
	waitFor(t, 30*time.Second, "b synchronous", func() error {
		st, err := a.Status(ctx)
		if err == nil && (st.SyncStandbyNames != "b" || len(st.Standbys) != 1 || st.Standbys[0].SyncState != "sync") {
			err = fmt.Errorf("%+v", st)
		}
		return err
	})
	execSQL(ctx, t, a, `INSERT INTO kv VALUES ('sync', 's')`)
	s.SyncStandbyNames = ""
	if ch, err := a.WriteConf(s); err != nil || ch != NeedReload {
		t.Fatalf("async WriteConf: %v %v", ch, err)
	}
	must(t, a.Reload(ctx))
	waitFor(t, 30*time.Second, "a async", func() error {
		st, err := a.Status(ctx)
		if err == nil && (st.SyncStandbyNames != "" || len(st.Standbys) != 1 || st.Standbys[0].SyncState != "async") {
			err = fmt.Errorf("%+v", st)
		}
		return err
	})
}

// checkSlots: DropSlotsExcept drops inactive slots not kept, never active;
// slots and roles can be managed while clients are held read-only.
func checkSlots(ctx context.Context, t *testing.T, p *Instance) {
	t.Helper()
	if ch, err := p.WriteConf(Settings{ReplUser: replUser, ReadOnly: true}); err != nil || ch != NeedReload {
		t.Fatalf("read-only WriteConf: %v %v", ch, err)
	}
	must(t, p.Reload(ctx))
	waitFor(t, 10*time.Second, "read-only", func() error {
		st, err := p.Status(ctx)
		if err == nil && !st.ReadOnly {
			err = fmt.Errorf("%+v", st)
		}
		return err
	})
	must(t, p.EnsureRoles(ctx, testRoles()))
	must(t, p.EnsureSlots(ctx, []string{"x1", "x2"}))
	must(t, p.DropSlotsExcept(ctx, []string{"x2"}))
	slots := func() []string {
		conn, err := p.Connect(ctx)
		must(t, err)
		defer conn.Close(context.Background())
		rows, _ := conn.Query(ctx, `SELECT slot_name FROM pg_replication_slots ORDER BY 1`)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		must(t, err)
		return names
	}
	if got := slots(); !slices.Equal(got, []string{"a", "x2"}) {
		t.Errorf("slots after DropSlotsExcept(x2): %v", got)
	}
	must(t, p.DropSlotsExcept(ctx, nil))
	if got := slots(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("slots after DropSlotsExcept(nil): %v (a is active)", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}
