package nodeimage_test

// Checks and metrics against real postgres: a throwaway primary and a
// streaming replica made with nodeimage/pg under /tmp, and a running
// 2-node cluster serving /checks and /metrics.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/freeport"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

const testReplPass = "repl pw"

// pgRoot is a test's directory under /tmp (short for unix sockets, and
// reachable by the postgres user when we run as root).
func pgRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "pgck")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) }) // after every instance's cleanup
	return root
}

// newPG makes an instance that is stopped when the test ends, on a
// loopback address of its own.
func newPG(t *testing.T, root, name string) *pg.Instance {
	t.Helper()
	host := freeport.Loopback()
	bin, err := pg.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	runAs, err := pg.SystemUser()
	if err != nil {
		t.Fatal(err)
	}
	inst := pg.New(pg.Config{Bin: bin, DataDir: filepath.Join(root, name, "data"), SocketDir: filepath.Join(root, "s-"+name),
		ListenHost: host, Port: freePort(t, host), RunAs: runAs, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := inst.Stop(ctx, pg.StopImmediate); err != nil {
			t.Errorf("stop postgres %s: %v", name, err)
		}
	})
	return inst
}

// startPrimary: initdb, config, start, the replication role.
func startPrimary(ctx context.Context, t *testing.T, root string) *pg.Instance {
	t.Helper()
	p := newPG(t, root, "a")
	must(t, p.Initdb(ctx))
	_, err := p.WriteConf(pg.Settings{ReplUser: "repluser"})
	must(t, err)
	must(t, p.Start(ctx))
	must(t, p.EnsureRoles(ctx, []pg.Role{{Name: "repluser", Password: testReplPass, Replication: true}}))
	return p
}

// startReplica base-backs-up the primary and streams from it via a slot.
func startReplica(ctx context.Context, t *testing.T, root string, primary *pg.Instance) *pg.Instance {
	t.Helper()
	r := newPG(t, root, "b")
	must(t, primary.EnsureSlots(ctx, []string{"b"}))
	ci := pg.ConnInfo{Host: primary.Config().ListenHost, Port: primary.Config().Port, User: "repluser", Password: testReplPass, AppName: "b", SSLMode: "disable"}
	must(t, r.BaseBackup(ctx, ci))
	_, err := r.WriteConf(pg.Settings{ReplUser: "repluser", PrimaryConnInfo: ci.String(), PrimarySlot: "b"})
	must(t, err)
	must(t, r.Start(ctx))
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// freePort: a port on host below the ephemeral range (see freeport).
func freePort(t *testing.T, host string) int {
	t.Helper()
	ps, err := freeport.TCP(host, 1)
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

// poll calls cond until it returns nil or d passes.
func poll(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.NewTimer(d)
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
			t.Fatalf("%s: not within %v: %v", what, d, err)
		case <-tick.C:
		}
	}
}

func pgCheck(ctx context.Context, inst *pg.Instance) checks.Check {
	f, err := checks.QueryPG(ctx, inst)
	return checks.PG(f, err, checks.Thresholds{})
}

// wantLines matches a check's status and lines against patterns.
func wantLines(c checks.Check, status checks.Status, patterns ...string) error {
	lines := c.Text()
	if c.Status != status || len(lines) != len(patterns) {
		return fmt.Errorf("%s check: %s %q, want %s and %d lines", c.Name, c.Status, lines, status, len(patterns))
	}
	for i, p := range patterns {
		if !regexp.MustCompile("^" + p + "$").MatchString(lines[i]) {
			return fmt.Errorf("%s check line %q does not match %q", c.Name, lines[i], p)
		}
	}
	return nil
}

const connLine = `\[✓\] connections: \d+ used, 3 reserved, 100 max`

// TestChecksOnRealPostgres: the pg check of a leader, of a streaming
// replica, of a replica cut off from its leader and of a stopped postgres;
// the three checks of a node's sources together.
func TestChecksOnRealPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := pgRoot(t)
	a := startPrimary(ctx, t, root)
	must(t, wantLines(pgCheck(ctx, a), checks.Passing, `\[✓\] replication: currently leader`, connLine))

	b := startReplica(ctx, t, root, a)
	lag := `\[✓\] replication lag: (0s|\d+(\.\d+)?(µs|ms|s))`
	poll(t, time.Minute, "replica check passing", func() error {
		return wantLines(pgCheck(ctx, b), checks.Passing, `\[✓\] leader check: connected`, lag, connLine)
	})
	conn, err := a.Connect(ctx)
	must(t, err)
	for i := range 50 {
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE t%d AS SELECT generate_series(1, 1000) AS x", i)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)
	c := pgCheck(ctx, b)
	must(t, wantLines(c, checks.Passing, `\[✓\] leader check: connected`, lag, connLine))
	t.Logf("replica right after 50 writes: %q", c.Text())

	src := checks.Sources{DataDir: root, PG: b, Role: func() cluster.Role { return cluster.RoleReplica }}
	all := src.Evaluate(ctx)
	names := []string{all[0].Name, all[1].Name, all[2].Name}
	onVolume := func(l string) bool { return strings.HasSuffix(l, " free space on "+root+"/") }
	if !slices.Equal(names, []string{"vm", "pg", "role"}) || len(all[0].Output) != 5 || !slices.ContainsFunc(all[0].Text(), onVolume) {
		t.Fatalf("node checks: %+v", all)
	}
	must(t, wantLines(all[2], checks.Passing, "replica"))

	must(t, a.Stop(ctx, pg.StopFast))
	poll(t, 30*time.Second, "replica without its leader is critical", func() error {
		return wantLines(pgCheck(ctx, b), checks.Critical, `\[✗\] leader check: not connected`, lag, connLine)
	})
	must(t, b.Stop(ctx, pg.StopFast))
	must(t, wantLines(pgCheck(ctx, b), checks.Critical, `\[✗\] postgres: not answering \(.+\)`))
}

// TestChecksAndMetricsServedByNodes: a 2-node cluster's nodes serve
// /checks (leader and replica in the seed's words), keep /health and
// serve Prometheus text on the metrics port.
func TestChecksAndMetricsServedByNodes(t *testing.T) {
	c, st := startCluster(t, 2, testcluster.Options{})
	leader := leaderOf(t, c, st)
	replica := other(c, leader)
	for _, tc := range []struct {
		n    *testcluster.Node
		role string
		pg   []string
	}{
		{leader, "leader", []string{`\[✓\] replication: currently leader`, connLine}},
		{replica, "replica", []string{`\[✓\] leader check: connected`, `\[✓\] replication lag: .+`, connLine}},
	} {
		url := fmt.Sprintf("http://%s/checks", net.JoinHostPort(tc.n.Host, fmt.Sprint(tc.n.HealthPort)))
		poll(t, 30*time.Second, tc.role+" serves passing pg and role checks", func() error {
			var got []checks.Check
			if err := getJSON(url, c.NodeToken(), &got); err != nil {
				return err
			}
			if len(got) != 3 || got[0].Name != "vm" || got[0].Updated.IsZero() {
				return fmt.Errorf("checks %+v", got)
			}
			if err := wantLines(got[1], checks.Passing, tc.pg...); err != nil {
				return err
			}
			return wantLines(got[2], checks.Passing, tc.role)
		})
		resp, err := http.Get(fmt.Sprintf("http://%s/health", net.JoinHostPort(tc.n.Host, fmt.Sprint(tc.n.HealthPort))))
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /health: %s", tc.role, resp.Status)
		}
		fams := scrape(t, http.DefaultClient, fmt.Sprintf("http://%s/metrics", net.JoinHostPort(tc.n.Host, fmt.Sprint(tc.n.MetricsPort))))
		if v := value(t, fams, "pg_up", nil); v != 1 {
			t.Errorf("%s pg_up %v", tc.role, v)
		}
		if v := value(t, fams, "pgtui_role", map[string]string{"role": tc.role}); v != 1 {
			t.Errorf("%s pgtui_role{role=%q} = %v", tc.role, tc.role, v)
		}
		if v := value(t, fams, "pgtui_generation", nil); v < 1 {
			t.Errorf("%s pgtui_generation %v", tc.role, v)
		}
	}
}

// getJSON GETs url with the cluster's node API token.
func getJSON(url, token string, v any) error {
	cl := http.Client{Timeout: 2 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	nodeapi.SetAuth(req, token)
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status + ": " + string(body))
	}
	return json.Unmarshal(body, v)
}

// TestChecksReplicaLagAndStoppedPostgres: a paused replay shows up as
// replication lag, and a replica postgres that does not answer turns its
// pg check critical.
func TestChecksReplicaLagAndStoppedPostgres(t *testing.T) {
	c, st := startCluster(t, 2, testcluster.Options{})
	leader := leaderOf(t, c, st)
	replica := other(c, leader)
	url := fmt.Sprintf("http://%s/checks", net.JoinHostPort(replica.Host, fmt.Sprint(replica.HealthPort)))
	pgOf := func() (checks.Check, error) {
		var got []checks.Check
		if err := getJSON(url, c.NodeToken(), &got); err != nil {
			return checks.Check{}, err
		}
		if len(got) != 3 {
			return checks.Check{}, fmt.Errorf("checks %+v", got)
		}
		return got[1], nil
	}
	execRetry(t, c.DirectURL(replica), 10*time.Second, `SELECT pg_wal_replay_pause()`)
	for i := int64(5000); i < 5010; i++ {
		execRetry(t, c.ProxyURL(leader), 10*time.Second, `INSERT INTO acked (id) VALUES ($1)`, i)
	}
	poll(t, 30*time.Second, "replication lag reported", func() error {
		pc, err := pgOf()
		if err != nil {
			return err
		}
		for _, l := range pc.Output {
			if strings.Contains(l.Text, "replication lag: ") && !strings.HasSuffix(l.Text, "lag: 0s") {
				return nil
			}
		}
		return fmt.Errorf("no lag yet: %v", pc.Output)
	})
	execRetry(t, c.DirectURL(replica), 10*time.Second, `SELECT pg_wal_replay_resume()`)

	pid, err := replica.PostgresPid()
	must(t, err)
	must(t, syscall.Kill(pid, syscall.SIGSTOP))
	defer syscall.Kill(pid, syscall.SIGCONT)
	poll(t, 30*time.Second, "pg check critical while postgres hangs", func() error {
		pc, err := pgOf()
		if err != nil {
			return err
		}
		if pc.Status != checks.Critical {
			return fmt.Errorf("pg check %s: %v", pc.Status, pc.Output)
		}
		return nil
	})
	must(t, syscall.Kill(pid, syscall.SIGCONT))
	poll(t, 30*time.Second, "pg check passing again", func() error {
		pc, err := pgOf()
		if err != nil {
			return err
		}
		if pc.Status != checks.Passing {
			return fmt.Errorf("pg check %s: %v", pc.Status, pc.Output)
		}
		return nil
	})
}
