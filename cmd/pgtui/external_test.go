package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/internal/testplatform"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
	"github.com/pgtui/pgtui/views"
	"github.com/pgtui/pgtui/views/timeline"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

// extCLI runs the built pgtui binary with its own PGTUI_HOME.
type extCLI struct {
	t    *testing.T
	bin  string
	home string
}

func (c extCLI) cmd(ctx context.Context, stdin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(os.Environ(), "PGTUI_HOME="+c.home)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run returns stdout, stderr and the error of one command.
func (c extCLI) run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := c.cmd(ctx, stdin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (c extCLI) must(args ...string) string {
	c.t.Helper()
	out, errb, err := c.run("", args...)
	if err != nil {
		c.t.Fatalf("pgtui %s: %v\n%s%s", strings.Join(args, " "), err, out, errb)
	}
	return out
}

// fails wants the command to fail with one line on stderr holding want.
func (c extCLI) fails(want string, args ...string) string {
	c.t.Helper()
	out, errb, err := c.run("", args...)
	msg := strings.TrimSpace(errb)
	if err == nil || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		c.t.Fatalf("pgtui %s: err %v, stderr %q, want one line containing %q\nstdout: %s", strings.Join(args, " "), err, msg, want, out)
	}
	return msg
}

func (c extCLI) mustJSON(v any, args ...string) {
	c.t.Helper()
	out := c.must(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("pgtui %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// eventually retries f until it passes or the deadline; the error names
// the last failure.
func eventually(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func writeCreds(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func tlsFlags(f etcdtls.Files) []string {
	return []string{"--etcd-cacert", f.CACert, "--etcd-cert", f.Cert, "--etcd-key", f.Key}
}

// TestExternalCluster registers a real 3-node cluster (its etcd served
// over TLS with client certificates) with the built binary and operates
// it through the CLI: bad registrations save nothing, then status,
// checks, logs (also followed across a failover), users, db, connect,
// failover, and lifecycle commands refused; the nodes' API wants the token.
func TestExternalCluster(t *testing.T) {
	tmp := t.TempDir()
	bin, err := testcluster.BuildBinary(tmp)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := testcluster.Start(bin, testcluster.Options{Nodes: 3, EtcdTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(tc.Logs(40))
		}
		tc.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := tc.WaitFor(ctx, "a healthy 3-node cluster", testcluster.Healthy(2, true)); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(tmp, "home")
	c := extCLI{t: t, bin: bin, home: home}
	creds := writeCreds(t, tmp, "creds.env", fmt.Sprintf("PGTUI_ADMIN_PASSWORD=%s\nPGTUI_SUPERUSER_PASSWORD=%s\n", tc.Password, tc.Password), 0o600)
	ep := tc.TLS.Endpoint
	good := append([]string{"clusters", "add", tc.Name, "--etcd-endpoints", ep, "--credentials-file", creds}, tlsFlags(tc.TLS.Files)...)

	t.Run("bad registrations save nothing", func(t *testing.T) {
		c := extCLI{t: t, bin: bin, home: home}
		wrongPW := writeCreds(t, tmp, "wrong.env", "PGTUI_ADMIN_PASSWORD=not-the-password\n", 0o600)
		open := writeCreds(t, tmp, "open.env", "PGTUI_ADMIN_PASSWORD="+tc.Password+"\n", 0o644)
		// A unique loopback address where nothing listens.
		dead := fmt.Sprintf("https://127.%d.%d.1:2379", 210+time.Now().Nanosecond()%40, 1+time.Now().Nanosecond()%250)
		withArgs := func(name, endpoint, credFile string, files etcdtls.Files) []string {
			return append([]string{"clusters", "add", name, "--etcd-endpoints", endpoint, "--credentials-file", credFile}, tlsFlags(files)...)
		}
		c.fails("is not valid", withArgs("Bad_Name", ep, creds, tc.TLS.Files)...)
		c.fails("did not answer within", withArgs(tc.Name, dead, creds, tc.TLS.Files)...)
		c.fails("did not answer within", withArgs(tc.Name, ep, creds, tc.TLS.Other)...) // a certificate etcd does not trust
		c.fails("holds no pgtui cluster", withArgs("nosuch", ep, creds, tc.TLS.Files)...)
		c.fails("refused the token", withArgs(tc.Name, ep, wrongPW, tc.TLS.Files)...)
		c.fails("has mode 0644", withArgs(tc.Name, ep, open, tc.TLS.Files)...)
		c.fails("--credentials-file is required", "clusters", "add", tc.Name, "--etcd-endpoints", ep)
		c.fails("etcd endpoint", withArgs(tc.Name, "ftp://x", creds, tc.TLS.Files)...)
		var list []map[string]any
		c.mustJSON(&list, "clusters", "list")
		if len(list) != 0 {
			t.Fatalf("after failed registrations: %v", list)
		}
		if des, _ := os.ReadDir(filepath.Join(home, "external")); len(des) != 0 {
			t.Fatalf("left behind under external/: %v", des)
		}
	})

	out, errb, err := c.run("", good...)
	if err != nil {
		t.Fatalf("clusters add: %v\n%s%s", err, out, errb)
	}
	if strings.Contains(out+errb, tc.Password) {
		t.Fatal("clusters add printed the password")
	}
	dir := filepath.Join(home, "external", tc.Name)
	for _, f := range []string{"cluster.json", "credentials.env", "attachments.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", f, err, fi.Mode())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cluster.json")); strings.Contains(string(b), tc.Password) {
		t.Fatal("cluster.json holds the password")
	}
	c.fails("already registered", good...)
	var list []struct{ Name, Platform string }
	c.mustJSON(&list, "clusters", "list")
	if len(list) != 1 || list[0].Name != tc.Name || list[0].Platform != "hosts" {
		t.Fatalf("clusters list: %+v", list)
	}

	// status: three members at their addresses, all healthy.
	var st backend.ClusterStatus
	eventually(t, time.Minute, "status with 3 healthy members", func() error {
		st = backend.ClusterStatus{}
		c.mustJSON(&st, "status", "-a", tc.Name)
		if st.Platform != "hosts" || len(st.Machines) != 3 || st.Deployment.Healthy != 3 || st.Leader == "" {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	for _, m := range st.Machines {
		if n := tc.Node(m.ID); n == nil || m.PrivateIP != n.Host {
			t.Fatalf("member %s at %q, want its node's address", m.ID, m.PrivateIP)
		}
	}
	if out := c.must("status", "-a", tc.Name); !strings.Contains(out, "ADDRESS") || !strings.Contains(out, tc.Nodes[0].Host) {
		t.Fatalf("status:\n%s", out)
	}

	// checks: every node's, pg and role passing.
	var checks []backend.Check
	c.mustJSON(&checks, "checks", "list", "-a", tc.Name)
	passing := 0
	for _, ch := range checks {
		if (ch.Name == "pg" || ch.Name == "role") && ch.Status == "passing" {
			passing++
		}
	}
	if len(checks) != 9 || passing != 6 {
		t.Fatalf("checks: %+v", checks)
	}

	// logs: recent lines of every node.
	logs := c.must("logs", "-a", tc.Name, "--no-tail", "-n", "50")
	for _, n := range tc.Nodes {
		if !strings.Contains(logs, n.Name) {
			t.Fatalf("no lines of %s in logs:\n%s", n.Name, logs)
		}
	}
	if !strings.Contains(logs, "keeper") {
		t.Fatalf("logs:\n%s", logs)
	}

	// users, databases.
	var users []backend.User
	c.mustJSON(&users, "postgres", "users", "list", "-a", tc.Name)
	if !hasUser(users, "pgtuiadmin") || !hasUser(users, "postgres") {
		t.Fatalf("users: %+v", users)
	}
	c.must("postgres", "db", "create", "shop", "-a", tc.Name)
	var dbs []backend.Database
	c.mustJSON(&dbs, "postgres", "db", "list", "-a", tc.Name)
	if !hasDB(dbs, "shop") {
		t.Fatalf("db list: %+v", dbs)
	}
	c.fails("is not valid", "postgres", "db", "create", "x;drop", "-a", tc.Name)

	// connect: psql through the nodes' proxies over TLS.
	if _, err := exec.LookPath("psql"); err == nil {
		out, errb, err := c.run("select 41+1 as answer, ssl from pg_stat_ssl where pid = pg_backend_pid();\n", "postgres", "connect", "-a", tc.Name)
		if err != nil || !strings.Contains(out, "42") || !strings.Contains(out, " t") {
			t.Fatalf("postgres connect: %v\n%s%s", err, out, errb)
		}
		// --machine: that member's own postgres, bypassing the proxy.
		n := tc.Nodes[1]
		out, errb, err = c.run("select 'port=' || current_setting('port');\n", "postgres", "connect", "-a", tc.Name, "--machine", n.Name)
		if err != nil || !strings.Contains(out, fmt.Sprintf("port=%d", n.PGPort)) {
			t.Fatalf("postgres connect --machine %s: %v\n%s%s", n.Name, err, out, errb)
		}
	}

	// metrics: every member's exporter.
	var mm []backend.MachineMetrics
	c.mustJSON(&mm, "postgres", "metrics", "-a", tc.Name)
	if len(mm) != 3 {
		t.Fatalf("metrics: %+v", mm)
	}

	// failover, with a log follower open: it sees the switchover's lines.
	fctx, stopFollow := context.WithCancel(ctx)
	follower := c.cmd(fctx, "", "logs", "-a", tc.Name, "-n", "0")
	var followed syncBuffer
	follower.Stdout, follower.Stderr = &followed, &followed
	if err := follower.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stopFollow(); _ = follower.Wait() }()
	// ... and the cockpit's failover timeline over the same platform.
	eb := external.New(home, func() (external.Apps, error) { return nil, errors.New("no apps here") })
	defer eb.Close()
	com := vt.Common(eb)
	com.Clock = time.Now
	timelineTM := vt.Run(t, timeline.New(com, views.Args{Cluster: tc.Name}))
	teatest.WaitFor(t, timelineTM.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("observed")) },
		teatest.WithDuration(time.Minute))
	old := st.Leader
	out = c.must("postgres", "failover", "-a", tc.Name)
	if !strings.Contains(out, "Failover complete") || !strings.Contains(out, "(was "+old+")") {
		t.Fatalf("failover: %s", out)
	}
	eventually(t, time.Minute, "status naming a new leader", func() error {
		st = backend.ClusterStatus{}
		c.mustJSON(&st, "status", "-a", tc.Name)
		if st.Leader == old || st.Leader == "" {
			return fmt.Errorf("leader %q", st.Leader)
		}
		return nil
	})
	eventually(t, time.Minute, "the follower receiving the switchover's lines", func() error {
		if s := followed.String(); !strings.Contains(s, "promot") && !strings.Contains(s, "switchover") {
			return fmt.Errorf("followed so far:\n%s", s)
		}
		return nil
	})

	var seen []byte
	teatest.WaitFor(t, timelineTM.Output(), func(b []byte) bool {
		seen = append(seen, b...)
		return bytes.Contains(seen, []byte("new leader")) && bytes.Contains(seen, []byte("promoted")) &&
			bytes.Contains(seen, []byte("proxy switched"))
	}, teatest.WithDuration(time.Minute), teatest.WithCheckInterval(50*time.Millisecond))
	if err := timelineTM.Quit(); err != nil {
		t.Fatal(err)
	}

	// lifecycle belongs to the engine that runs the nodes.
	const owned = "runs on external hosts: its nodes are owned by the engine that started them (Docker, Podman, systemd); pgtui only operates it"
	c.fails(owned, "postgres", "destroy", tc.Name, "--yes")
	c.fails(owned, "scale", "count", "5", "-a", tc.Name)
	c.fails(owned, "scale", "vm", "shared-cpu-2x", "-a", tc.Name)
	c.fails(owned, "machine", "stop", tc.Nodes[0].Name, "-a", tc.Name)
	c.fails(owned, "machine", "start", tc.Nodes[0].Name, "-a", tc.Name)
	c.fails(owned, "postgres", "restart", "-a", tc.Name)
	c.fails(owned, "postgres", "create", "--name", tc.Name, "--org", "personal", "--region", "iad",
		"--vm-size", "shared-cpu-1x", "--volume-size", "1", "--initial-cluster-size", "1")

	t.Run("node api wants the token", func(t *testing.T) {
		n := tc.Nodes[0]
		base := fmt.Sprintf("http://%s:%d", n.Host, n.HealthPort)
		for _, tcase := range []struct {
			path, token string
			want        int
		}{
			{"/checks", "", 401}, {"/checks", "wrong", 401}, {"/checks", tc.NodeToken(), 200},
			{"/logs?lines=1", "", 401}, {"/logs?lines=1", nodeapi.Token(tc.Name, "other"), 401}, {"/logs?lines=1", tc.NodeToken(), 200},
			{"/health", "", 0}, // open: 200, or 503 while its postgres is not ready, never 401
		} {
			req, _ := http.NewRequest(http.MethodGet, base+tcase.path, nil)
			if tcase.token != "" {
				nodeapi.SetAuth(req, tcase.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tcase.want == 0 && resp.StatusCode != http.StatusUnauthorized {
				continue
			}
			if resp.StatusCode != tcase.want {
				t.Errorf("GET %s with token %q: %d, want %d", tcase.path, tcase.token, resp.StatusCode, tcase.want)
			}
		}
	})

	t.Run("attach and detach", func(t *testing.T) {
		apps := &memApps{apps: map[string]map[string]string{"web": {}}}
		b := external.New(home, func() (external.Apps, error) { return apps, nil })
		defer b.Close()
		att, err := b.Attach(ctx, backend.AttachRequest{Cluster: tc.Name, App: "web"})
		if err != nil {
			t.Fatal(err)
		}
		if apps.apps["web"]["DATABASE_URL"] != att.URL || !strings.Contains(att.URL, "sslmode=require") {
			t.Fatalf("secret %q, attachment %+v", apps.apps["web"]["DATABASE_URL"], att)
		}
		conn, err := pgx.Connect(ctx, att.URL)
		if err != nil {
			t.Fatalf("connect as the attached app: %v", err)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)"); err != nil {
			t.Fatalf("write as the attached app: %v", err)
		}
		conn.Close(ctx)
		if _, err := b.Attach(ctx, backend.AttachRequest{Cluster: tc.Name, App: "web"}); err == nil || !strings.Contains(err.Error(), "already attached") {
			t.Fatalf("second attach: %v", err)
		}
		if err := b.Detach(ctx, tc.Name, "web"); err != nil {
			t.Fatal(err)
		}
		users, err := b.ListUsers(ctx, tc.Name)
		if err != nil || hasUser(users, "web") {
			t.Fatalf("after detach: %v %+v", err, users)
		}
		if _, ok := apps.apps["web"]["DATABASE_URL"]; ok {
			t.Fatal("secret left after detach")
		}
	})

	// A host that dies shows as such, and the commands go on without it.
	var victim *testcluster.Node
	for _, n := range tc.Nodes {
		if n.Name != st.Leader {
			victim = n
			break
		}
	}
	victim.Kill()
	eventually(t, time.Minute, victim.Name+" shown unreachable with critical checks", func() error {
		st = backend.ClusterStatus{}
		c.mustJSON(&st, "status", "-a", tc.Name)
		for _, m := range st.Machines {
			if m.ID == victim.Name && m.State == "unreachable" && m.Checks.Critical == 3 {
				return nil
			}
		}
		return fmt.Errorf("%+v", st.Machines)
	})
	logs = c.must("logs", "-a", tc.Name, "--no-tail", "-n", "5")
	if !strings.Contains(logs, "logs unavailable") {
		t.Fatalf("logs with a dead node:\n%s", logs)
	}

	t.Run("attach and detach from the CLI, the app on the local platform", func(t *testing.T) {
		p, err := testplatform.Start(bin, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = p.Close(true) }()
		lc := extCLI{t: t, bin: bin, home: p.Home}
		lc.must(good...)
		lc.must("apps", "create", "shop-api")
		out := lc.must("postgres", "attach", tc.Name, "-a", "shop-api")
		if !strings.Contains(out, "DATABASE_URL") {
			t.Fatalf("attach: %s", out)
		}
		env := lc.must("run", "-a", "shop-api", "--", "sh", "-c", `printf %s "$DATABASE_URL"`)
		conn, err := pgx.Connect(ctx, env)
		if err != nil {
			t.Fatalf("connect with the attached URL %q: %v", strings.Split(env, "@")[len(strings.Split(env, "@"))-1], err)
		}
		conn.Close(ctx)
		lc.must("postgres", "detach", tc.Name, "-a", "shop-api")
		var users []backend.User
		lc.mustJSON(&users, "postgres", "users", "list", "-a", tc.Name)
		if hasUser(users, "shop_api") {
			t.Fatalf("user left after detach: %+v", users)
		}
	})

	c.must("clusters", "remove", tc.Name)
	list = nil
	c.mustJSON(&list, "clusters", "list")
	if len(list) != 0 {
		t.Fatalf("after remove: %+v", list)
	}
	c.fails("no external cluster", "clusters", "remove", tc.Name)
	if _, err := os.Stat(filepath.Join(home, "agent.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("operating the external cluster started the local agent (%v)", err)
	}
}

func hasUser(us []backend.User, name string) bool {
	for _, u := range us {
		if u.Name == name {
			return true
		}
	}
	return false
}

func hasDB(ds []backend.Database, name string) bool {
	for _, d := range ds {
		if d.Name == name {
			return true
		}
	}
	return false
}

// memApps keeps apps' secrets in memory for attach.
type memApps struct{ apps map[string]map[string]string }

func (m *memApps) ListApps(context.Context) ([]backend.App, error) {
	var out []backend.App
	for n := range m.apps {
		out = append(out, backend.App{Name: n})
	}
	return out, nil
}

func (m *memApps) ListSecrets(_ context.Context, app string) ([]backend.Secret, error) {
	var out []backend.Secret
	for k := range m.apps[app] {
		out = append(out, backend.Secret{Name: k})
	}
	return out, nil
}

func (m *memApps) SetSecrets(_ context.Context, app string, v map[string]string) error {
	for k, s := range v {
		m.apps[app][k] = s
	}
	return nil
}

func (m *memApps) UnsetSecrets(_ context.Context, app string, names []string) error {
	for _, k := range names {
		delete(m.apps[app], k)
	}
	return nil
}
