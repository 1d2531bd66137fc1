package local_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/agent"
)

func requirePgBackRest(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		t.Fatalf("pgbackrest is not installed (make deps installs it: apt-get install pgbackrest): %v", err)
	}
}

// backupNow takes a backup, retrying while the new leader's stanza is
// being created.
func backupNow(t *testing.T, b backend.Backend, name, typ string) string {
	t.Helper()
	ctx := tctx(t, 2*time.Minute)
	for {
		id, err := func() (string, error) {
			events, err := b.CreateBackup(ctx, name, typ)
			if err != nil {
				return "", err
			}
			var pcts []float64
			for ev := range events {
				if ev.Error != "" {
					return "", fmt.Errorf("%s", ev.Error)
				}
				if ev.Done {
					if len(pcts) == 0 || pcts[len(pcts)-1] != 100 {
						t.Errorf("backup progress %v: want it to reach 100", pcts)
					}
					return ev.ID, nil
				}
				pcts = append(pcts, ev.Percent)
			}
			return "", fmt.Errorf("stream ended")
		}()
		if err == nil {
			return id
		}
		if !strings.Contains(err.Error(), "not ready") && !strings.Contains(err.Error(), "no leader") {
			t.Fatalf("backup of %s: %v", name, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("backup of %s: %v", name, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// restore deploys a restored cluster and returns its credentials.
func restore(t *testing.T, b backend.Backend, req backend.RestoreRequest) *backend.Credentials {
	t.Helper()
	start := time.Now()
	events, err := b.Restore(tctx(t, 4*time.Minute), req)
	if err != nil {
		t.Fatalf("restore %s into %s: %v", req.Source, req.Target, err)
	}
	var creds *backend.Credentials
	var last backend.CreateEvent
	for ev := range events {
		if ev.Credentials != nil {
			creds = ev.Credentials
		}
		if ev.Error != "" {
			t.Fatalf("restore into %s: %s", req.Target, ev.Error)
		}
		last = ev
	}
	if last.Step != "deployed" || creds == nil {
		t.Fatalf("restore into %s ended with %+v", req.Target, last)
	}
	t.Logf("restore into %s deployed in %v", req.Target, time.Since(start).Round(time.Millisecond))
	// Known gap (see the session note): a restored leader can pass its
	// checks while bootstrap still runs postgres to create the roles, and
	// that postgres's fast stop then waits seconds for the archiver (no
	// stanza yet), so "deployed" can come a moment before the leader
	// serves. The test waits for a query through the URL it was given.
	waitSQL(t, "the restored cluster answers", func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, creds.LocalURL)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, "SELECT 1")
		return err
	})
	return creds
}

func serverNow(t *testing.T, url string) time.Time {
	t.Helper()
	ctx := tctx(t, 20*time.Second)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var now time.Time
	if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

func clusterNames(t *testing.T, b backend.Backend) string {
	t.Helper()
	cs, err := b.ListClusters(tctx(t, 20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

// TestPlatformBackupPointInTime: rows, T, more rows, DROP TABLE; a
// restore to T into a new cluster holds exactly the rows before T, the
// source untouched. Bad input (a time outside the window, an unknown
// backup, an existing target) is refused with one line and creates
// nothing. The repository is 0700 and its key 0600 with the secrets.
func TestPlatformBackupPointInTime(t *testing.T) {
	requirePgBackRest(t)
	p := startPlatform(t)
	creds, _ := create(t, p.c, "bk-src", 1)
	url := creds.LocalURL
	ctx := tctx(t, 3*time.Minute)

	id := backupNow(t, p.c, "bk-src", "full")
	l, err := p.c.ListBackups(ctx, "bk-src")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 1 || l.Backups[0].ID != id || l.Backups[0].Type != "full" || l.Backups[0].Size == 0 || l.Earliest.IsZero() {
		t.Fatalf("backup list %+v, want the full backup %s", l, id)
	}
	repo := filepath.Join(p.home, "backups", "bk-src")
	if fi, err := os.Stat(repo); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("repository %s: %v %v, want mode 0700", repo, fi.Mode(), err)
	}
	sec, err := os.ReadFile(filepath.Join(p.home, "clusters", "bk-src", "secrets.env"))
	if err != nil || !strings.Contains(string(sec), "PGTUI_BACKUP_CIPHER_PASS=") {
		t.Fatalf("secrets hold no cipher key: %v", err)
	}

	// Rows committed after the earliest restorable moment, then T.
	waitSQL(t, "clock past the earliest restorable moment", func(ctx context.Context) error {
		if now := serverNow(t, url); !now.After(l.Earliest) {
			return fmt.Errorf("now %v, earliest %v", now, l.Earliest)
		}
		return nil
	})
	execSQL(t, url, `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)`)
	target := serverNow(t, url)
	execSQL(t, url, `INSERT INTO t SELECT generate_series(101, 150)`)
	execSQL(t, url, `DROP TABLE t`)

	// Bad input first: one line each, nothing created.
	before := clusterNames(t, p.c)
	for _, bad := range []struct {
		req  backend.RestoreRequest
		want string
	}{
		{backend.RestoreRequest{Source: "bk-src", Target: "bk-early", Time: l.Backups[0].Start.Add(-time.Hour)}, "outside the restorable window"},
		{backend.RestoreRequest{Source: "bk-src", Target: "bk-future", Time: time.Now().Add(time.Hour)}, "outside the restorable window"},
		{backend.RestoreRequest{Source: "bk-src", Target: "bk-unknown", BackupID: "20200101-000000F"}, "not found"},
		{backend.RestoreRequest{Source: "bk-src", Target: "bk-src", Latest: true}, "new cluster"},
		{backend.RestoreRequest{Source: "bk-none", Target: "bk-x", Latest: true}, "not found"},
	} {
		_, err := p.c.Restore(ctx, bad.req)
		if err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("restore %+v: %v, want one line saying %q", bad.req, err, bad.want)
		}
	}

	start := time.Now()
	rc := restore(t, p.c, backend.RestoreRequest{Source: "bk-src", Target: "bk-pitr", Time: target, InitialClusterSize: 1})
	t.Logf("point-in-time restore: %v", time.Since(start).Round(time.Millisecond))
	if got := query(t, rc.LocalURL, `SELECT count(*)::text || ',' || max(id)::text FROM t`); got != "100,100" {
		t.Errorf("restored rows (count,max) %s, want 100,100: exactly those before T", got)
	}
	// The restored cluster is a cluster of its own: writable, new password.
	execSQL(t, rc.LocalURL, `INSERT INTO t VALUES (1000)`)
	if rc.Password == creds.Password {
		t.Error("the restored cluster kept the source's password")
	}
	// The source is untouched: its table is still dropped.
	if got := query(t, url, `SELECT count(*)::text FROM pg_tables WHERE tablename = 't'`); got != "0" {
		t.Errorf("source changed by the restore: table t exists")
	}
	// An existing target name is refused, nothing created.
	_, err = p.c.Restore(ctx, backend.RestoreRequest{Source: "bk-src", Target: "bk-pitr", Latest: true})
	if err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("restore into an existing cluster: %v", err)
	}
	if got, want := clusterNames(t, p.c), before+",bk-pitr"; !sameSet(got, want) {
		t.Errorf("clusters %s, want %s: a refused restore created something", got, want)
	}
}

func sameSet(a, b string) bool {
	m := map[string]int{}
	for _, s := range strings.Split(a, ",") {
		m[s]++
	}
	for _, s := range strings.Split(b, ",") {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestPlatformBackupAcrossFailover: a writer commits rows through the
// proxy while the leader is killed and goes on on the new leader; a
// restore to the latest moment holds every acknowledged row.
func TestPlatformBackupAcrossFailover(t *testing.T) {
	requirePgBackRest(t)
	testStart := time.Now()
	p := startPlatform(t)
	creds, _ := create(t, p.c, "bk-ha", 2)
	t.Logf("created: %v into the test", time.Since(testStart).Round(time.Millisecond))
	url := creds.LocalURL
	backupNow(t, p.c, "bk-ha", "full")
	execSQL(t, url, `CREATE TABLE w (id int PRIMARY KEY)`)
	st := waitHealthy(t, p.c, "bk-ha", 2, synced)
	old := st.Leader
	// The writer goes through the other machine's proxy, which lives on.
	for _, m := range st.Machines {
		if m.ID != old {
			url = strings.Replace(url, st.Machines[0].PrivateIP, m.PrivateIP, 1)
		}
	}

	var mu sync.Mutex
	var acked []int
	wctx, stopWriter := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		next := 1
		var conn *pgx.Conn
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		for wctx.Err() == nil {
			if conn == nil {
				cctx, cancel := context.WithTimeout(wctx, 2*time.Second)
				c, err := pgx.Connect(cctx, url)
				cancel()
				if err != nil {
					time.Sleep(50 * time.Millisecond) // retry pace while there is no leader
					continue
				}
				conn = c
			}
			ectx, cancel := context.WithTimeout(wctx, 5*time.Second)
			_, err := conn.Exec(ectx, `INSERT INTO w VALUES ($1)`, next)
			cancel()
			if err != nil {
				conn.Close(context.Background())
				conn = nil
				next++ // unknown outcome: never reuse the id
				continue
			}
			mu.Lock()
			acked = append(acked, next)
			mu.Unlock()
			next++
		}
	}()
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitSQL(t, "rows before the kill", func(context.Context) error {
		if n := ackedCount(); n < 50 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
	if err := p.c.MachineAction(tctx(t, 30*time.Second), "bk-ha", old, backend.ActionKill); err != nil {
		t.Fatal(err)
	}
	atKill := ackedCount()
	// A new leader; the old one rejoins on its own meanwhile.
	waitSQL(t, "a new leader", func(ctx context.Context) error {
		st, err := p.c.Status(ctx, "bk-ha")
		if err != nil {
			return err
		}
		if st.Leader == old || st.Leader == "" {
			return fmt.Errorf("leader %q", st.Leader)
		}
		return nil
	})
	atFailover := ackedCount()
	waitSQL(t, "rows on the new leader", func(context.Context) error {
		if n := ackedCount(); n < atFailover+50 {
			return fmt.Errorf("%d rows, %d at the failover", n, atFailover)
		}
		return nil
	})
	stopWriter()
	<-done
	mu.Lock()
	want := append([]int(nil), acked...)
	mu.Unlock()

	t.Logf("writes done: %v into the test", time.Since(testStart).Round(time.Millisecond))
	rc := restore(t, p.c, backend.RestoreRequest{Source: "bk-ha", Target: "bk-latest", Latest: true, InitialClusterSize: 1})
	ctx := tctx(t, 30*time.Second)
	conn, err := pgx.Connect(ctx, rc.LocalURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id FROM w`)
	if err != nil {
		t.Fatal(err)
	}
	have := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, id := range want {
		if !have[id] {
			missing++
		}
	}
	t.Logf("acknowledged %d rows (%d before the kill, %d when the new leader was named), restored %d", len(want), atKill, atFailover, len(have))
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged rows missing from the latest restore", missing, len(want))
	}
}

// TestPlatformBackupHealth: status and the pg check carry the backup
// line and the leader exports the backup metrics; an unreachable
// repository turns the line critical with its reason while the cluster
// keeps taking writes, and it passes again once the repository is back.
func TestPlatformBackupHealth(t *testing.T) {
	requirePgBackRest(t)
	p := startPlatformWith(t, func(c *agent.Config) { c.BackupArchiveGrace = 2 * time.Second })
	creds, _ := create(t, p.c, "bk-health", 1)
	url := creds.LocalURL
	backupNow(t, p.c, "bk-health", "full")
	execSQL(t, url, `CREATE TABLE h (id serial PRIMARY KEY)`)
	waitBackupLine(t, p.c, "bk-health", false, "last backup ")
	st, err := p.c.Status(tctx(t, 20*time.Second), "bk-health")
	if err != nil {
		t.Fatal(err)
	}
	metrics := get(t, "http://"+st.Machines[0].PrivateIP+":9187/metrics")
	for _, m := range []string{"pgtui_backup_last_success_timestamp_seconds ", "pgtui_wal_archive_lag_seconds "} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %s", m)
		}
	}

	// The repository becomes unreachable to the nodes (as a lost mount
	// would); writes go on.
	repo := filepath.Join(p.home, "backups", "bk-health")
	if err := os.Chmod(repo, 0); err != nil {
		t.Fatal(err)
	}
	writes := 0
	writeAndSwitch := func() {
		execSQL(t, url, `INSERT INTO h DEFAULT VALUES; SELECT pg_switch_wal()`)
		writes++
	}
	line := waitBackupLineWhile(t, p.c, "bk-health", true, "WAL archiving failing", writeAndSwitch)
	t.Logf("critical after %d writes: %s", writes, line)
	if err := os.Chmod(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	waitBackupLineWhile(t, p.c, "bk-health", false, "WAL archived", writeAndSwitch)
	if got := query(t, url, `SELECT count(*)::text FROM h`); got != fmt.Sprint(writes) {
		t.Errorf("%s rows, want the %d written while the repository was away", got, writes)
	}
}

func startPlatformWith(t *testing.T, tweak func(*agent.Config)) *platform {
	t.Helper()
	p := startPlatform(t)
	p.shutdown()
	p.tweak = tweak
	p.start()
	return p
}

func waitBackupLine(t *testing.T, b backend.Backend, name string, critical bool, want string) string {
	t.Helper()
	return waitBackupLineWhile(t, b, name, critical, want, nil)
}

// waitBackupLineWhile polls status until its backup line has the state
// and text wanted, calling each (if set) between polls.
func waitBackupLineWhile(t *testing.T, b backend.Backend, name string, critical bool, want string, each func()) string {
	t.Helper()
	var last string
	waitSQL(t, fmt.Sprintf("backup line %q (critical %v)", want, critical), func(ctx context.Context) error {
		if each != nil {
			each()
		}
		st, err := b.Status(ctx, name)
		if err != nil {
			return err
		}
		last = st.Backup
		if st.BackupCritical != critical || !strings.Contains(st.Backup, want) {
			return fmt.Errorf("backup line %q, critical %v", st.Backup, st.BackupCritical)
		}
		return nil
	})
	return last
}
