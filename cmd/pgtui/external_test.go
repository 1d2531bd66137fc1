package main

import (
	"bytes"
	"context"
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

// extRun is one registered external cluster under test.
type extRun struct {
	t        *testing.T
	ctx      context.Context
	tc       *testcluster.Cluster
	bin, tmp string
	home     string
	c        extCLI
	creds    string   // the credentials file
	add      []string // a good `clusters add`
}

// TestExternalCluster registers a real 3-node cluster (its etcd served
// over TLS with client certificates) with the built binary and operates
// it through the CLI: bad registrations save nothing, then status,
// checks, logs (also followed across a failover), users, db, connect,
// metrics, failover (with the cockpit's timeline), attach; lifecycle
// commands are refused, the nodes' API wants the token, and a dead node
// shows as such. The local agent is never started for any of it.
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
	r := &extRun{t: t, ctx: ctx, tc: tc, bin: bin, tmp: tmp, home: home, c: extCLI{t: t, bin: bin, home: home}}
	r.creds = writeCreds(t, tmp, "creds.env", fmt.Sprintf("PGTUI_ADMIN_PASSWORD=%s\nPGTUI_SUPERUSER_PASSWORD=%s\n", tc.Password, tc.Password), 0o600)
	r.add = append([]string{"clusters", "add", tc.Name, "--etcd-endpoints", tc.TLS.Endpoint, "--credentials-file", r.creds}, tlsFlags(tc.TLS.Files)...)

	t.Run("bad registrations save nothing", r.badRegistrations)
	r.register()
	st := r.healthyStatus()
	r.readCommands()
	st = r.failover(st.Leader)
	r.lifecycleRefused()
	t.Run("node api wants the token", r.tokenRequired)
	t.Run("attach and detach", r.attachThroughBackend)
	r.deadNode(st.Leader)
	t.Run("attach and detach from the CLI, the app on the local platform", r.attachThroughCLI)
	r.remove()
}

func (r *extRun) badRegistrations(t *testing.T) {
	c, tc := extCLI{t: t, bin: r.bin, home: r.home}, r.tc
	ep := tc.TLS.Endpoint
	wrongPW := writeCreds(t, r.tmp, "wrong.env", "PGTUI_ADMIN_PASSWORD=not-the-password\n", 0o600)
	open := writeCreds(t, r.tmp, "open.env", "PGTUI_ADMIN_PASSWORD="+tc.Password+"\n", 0o644)
	// A unique loopback address where nothing listens.
	dead := fmt.Sprintf("https://127.%d.%d.1:2379", 210+time.Now().Nanosecond()%40, 1+time.Now().Nanosecond()%250)
	withArgs := func(name, endpoint, credFile string, files etcdtls.Files) []string {
		return append([]string{"clusters", "add", name, "--etcd-endpoints", endpoint, "--credentials-file", credFile}, tlsFlags(files)...)
	}
	c.fails("is not valid", withArgs("Bad_Name", ep, r.creds, tc.TLS.Files)...)
	c.fails("did not answer within", withArgs(tc.Name, dead, r.creds, tc.TLS.Files)...)
	c.fails("did not answer within", withArgs(tc.Name, ep, r.creds, tc.TLS.Other)...) // a certificate etcd does not trust
	c.fails("holds no pgtui cluster", withArgs("nosuch", ep, r.creds, tc.TLS.Files)...)
	c.fails("refused the token", withArgs(tc.Name, ep, wrongPW, tc.TLS.Files)...)
	c.fails("has mode 0644", withArgs(tc.Name, ep, open, tc.TLS.Files)...)
	c.fails("--credentials-file is required", "clusters", "add", tc.Name, "--etcd-endpoints", ep)
	c.fails("etcd endpoint", withArgs(tc.Name, "ftp://x", r.creds, tc.TLS.Files)...)
	var list []map[string]any
	c.mustJSON(&list, "clusters", "list")
	if len(list) != 0 {
		t.Fatalf("after failed registrations: %v", list)
	}
	if des, _ := os.ReadDir(filepath.Join(r.home, "external")); len(des) != 0 {
		t.Fatalf("left behind under external/: %v", des)
	}
}

// register adds the cluster: saved 0600, the password shown nowhere.
func (r *extRun) register() {
	t, c, tc := r.t, r.c, r.tc
	out, errb, err := c.run("", r.add...)
	if err != nil {
		t.Fatalf("clusters add: %v\n%s%s", err, out, errb)
	}
	if strings.Contains(out+errb, tc.Password) {
		t.Fatal("clusters add printed the password")
	}
	dir := filepath.Join(r.home, "external", tc.Name)
	for _, f := range []string{"cluster.json", "credentials.env", "attachments.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", f, err, fi.Mode())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cluster.json")); strings.Contains(string(b), tc.Password) {
		t.Fatal("cluster.json holds the password")
	}
	c.fails("already registered", r.add...)
	var list []struct{ Name, Platform string }
	c.mustJSON(&list, "clusters", "list")
	if len(list) != 1 || list[0].Name != tc.Name || list[0].Platform != "hosts" {
		t.Fatalf("clusters list: %+v", list)
	}
}

// healthyStatus waits for three healthy members at their addresses.
func (r *extRun) healthyStatus() backend.ClusterStatus {
	t, c, tc := r.t, r.c, r.tc
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
	return st
}

// readCommands: checks, logs, users, databases, connect and metrics.
func (r *extRun) readCommands() {
	t, c, tc := r.t, r.c, r.tc
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
	logs := c.must("logs", "-a", tc.Name, "--no-tail", "-n", "50")
	for _, n := range tc.Nodes {
		if !strings.Contains(logs, n.Name) || !strings.Contains(logs, "keeper") {
			t.Fatalf("no keeper lines of %s in logs:\n%s", n.Name, logs)
		}
	}
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
	r.connect()
	var mm []backend.MachineMetrics
	c.mustJSON(&mm, "postgres", "metrics", "-a", tc.Name)
	if len(mm) != 3 {
		t.Fatalf("metrics: %+v", mm)
	}
}

// connect: psql through the nodes' proxies over TLS, and on one member.
func (r *extRun) connect() {
	t, c, tc := r.t, r.c, r.tc
	if _, err := exec.LookPath("psql"); err != nil {
		t.Log("psql not installed: postgres connect not run")
		return
	}
	out, errb, err := c.run("select 41+1 as answer, ssl from pg_stat_ssl where pid = pg_backend_pid();\n", "postgres", "connect", "-a", tc.Name)
	if err != nil || !strings.Contains(out, "42") || !strings.Contains(out, " t") {
		t.Fatalf("postgres connect: %v\n%s%s", err, out, errb)
	}
	n := tc.Nodes[1]
	out, errb, err = c.run("select 'port=' || current_setting('port');\n", "postgres", "connect", "-a", tc.Name, "--machine", n.Name)
	if err != nil || !strings.Contains(out, fmt.Sprintf("port=%d", n.PGPort)) {
		t.Fatalf("postgres connect --machine %s: %v\n%s%s", n.Name, err, out, errb)
	}
}

// failover switches over with a log follower and the cockpit's timeline
// open: both see it. It returns the status naming the new leader.
func (r *extRun) failover(old string) backend.ClusterStatus {
	t, c, tc := r.t, r.c, r.tc
	fctx, stopFollow := context.WithCancel(r.ctx)
	follower := c.cmd(fctx, "", "logs", "-a", tc.Name, "-n", "0")
	var followed syncBuffer
	follower.Stdout, follower.Stderr = &followed, &followed
	if err := follower.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stopFollow(); _ = follower.Wait() }()
	timelineTM := r.openTimeline()
	out := c.must("postgres", "failover", "-a", tc.Name)
	if !strings.Contains(out, "Failover complete") || !strings.Contains(out, "(was "+old+")") {
		t.Fatalf("failover: %s", out)
	}
	var st backend.ClusterStatus
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
	return st
}

// openTimeline runs the cockpit's failover timeline pane over the
// external platform, on the real clock.
func (r *extRun) openTimeline() *teatest.TestModel {
	eb := external.New(r.home, func() (external.Apps, error) { return nil, errors.New("no apps here") })
	r.t.Cleanup(eb.Close)
	com := vt.Common(eb)
	com.Clock = time.Now
	tm := vt.Run(r.t, timeline.New(com, views.Args{Cluster: r.tc.Name}))
	teatest.WaitFor(r.t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("observed")) },
		teatest.WithDuration(time.Minute))
	return tm
}

// lifecycleRefused: the engine that runs the nodes owns their lifecycle.
func (r *extRun) lifecycleRefused() {
	c, name, node := r.c, r.tc.Name, r.tc.Nodes[0].Name
	const owned = "runs on external hosts: its nodes are owned by the engine that started them (Docker, Podman, systemd); pgtui only operates it"
	c.fails(owned, "postgres", "destroy", name, "--yes")
	c.fails(owned, "scale", "count", "5", "-a", name)
	c.fails(owned, "scale", "vm", "shared-cpu-2x", "-a", name)
	c.fails(owned, "machine", "stop", node, "-a", name)
	c.fails(owned, "machine", "start", node, "-a", name)
	c.fails(owned, "postgres", "restart", "-a", name)
	c.fails(owned, "postgres", "create", "--name", name, "--org", "personal", "--region", "iad",
		"--vm-size", "shared-cpu-1x", "--volume-size", "1", "--initial-cluster-size", "1")
}

func (r *extRun) tokenRequired(t *testing.T) {
	tc := r.tc
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
}

func (r *extRun) attachThroughBackend(t *testing.T) {
	ctx, name := r.ctx, r.tc.Name
	apps := &memApps{apps: map[string]map[string]string{"web": {}}}
	b := external.New(r.home, func() (external.Apps, error) { return apps, nil })
	defer b.Close()
	att, err := b.Attach(ctx, backend.AttachRequest{Cluster: name, App: "web"})
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
	if _, err := b.Attach(ctx, backend.AttachRequest{Cluster: name, App: "web"}); err == nil || !strings.Contains(err.Error(), "already attached") {
		t.Fatalf("second attach: %v", err)
	}
	if err := b.Detach(ctx, name, "web"); err != nil {
		t.Fatal(err)
	}
	users, err := b.ListUsers(ctx, name)
	if err != nil || hasUser(users, "web") {
		t.Fatalf("after detach: %v %+v", err, users)
	}
	if _, ok := apps.apps["web"]["DATABASE_URL"]; ok {
		t.Fatal("secret left after detach")
	}
}

// deadNode kills a replica's node: it shows unreachable with critical
// checks, and logs go on without it.
func (r *extRun) deadNode(leader string) {
	t, c, tc := r.t, r.c, r.tc
	var victim *testcluster.Node
	for _, n := range tc.Nodes {
		if n.Name != leader {
			victim = n
			break
		}
	}
	victim.Kill()
	eventually(t, time.Minute, victim.Name+" shown unreachable with critical checks", func() error {
		var st backend.ClusterStatus
		c.mustJSON(&st, "status", "-a", tc.Name)
		for _, m := range st.Machines {
			if m.ID == victim.Name && m.State == "unreachable" && m.Checks.Critical == 3 {
				return nil
			}
		}
		return fmt.Errorf("%+v", st.Machines)
	})
	if logs := c.must("logs", "-a", tc.Name, "--no-tail", "-n", "5"); !strings.Contains(logs, "logs unavailable") {
		t.Fatalf("logs with a dead node:\n%s", logs)
	}
}

func (r *extRun) attachThroughCLI(t *testing.T) {
	ctx, name := r.ctx, r.tc.Name
	p, err := testplatform.Start(r.bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close(true) }()
	lc := extCLI{t: t, bin: r.bin, home: p.Home}
	lc.must(r.add...)
	lc.must("apps", "create", "shop-api")
	if out := lc.must("postgres", "attach", name, "-a", "shop-api"); !strings.Contains(out, "DATABASE_URL") {
		t.Fatalf("attach: %s", out)
	}
	env := lc.must("run", "-a", "shop-api", "--", "sh", "-c", `printf %s "$DATABASE_URL"`)
	conn, err := pgx.Connect(ctx, env)
	if err != nil {
		t.Fatalf("connect with the attached URL: %v", err)
	}
	conn.Close(ctx)
	lc.must("postgres", "detach", name, "-a", "shop-api")
	var users []backend.User
	lc.mustJSON(&users, "postgres", "users", "list", "-a", name)
	if hasUser(users, "shop_api") {
		t.Fatalf("user left after detach: %+v", users)
	}
}

// remove forgets the cluster; the local agent was never started.
func (r *extRun) remove() {
	t, c, name := r.t, r.c, r.tc.Name
	c.must("clusters", "remove", name)
	var list []struct{ Name string }
	c.mustJSON(&list, "clusters", "list")
	if len(list) != 0 {
		t.Fatalf("after remove: %+v", list)
	}
	c.fails("no external cluster", "clusters", "remove", name)
	if _, err := os.Stat(filepath.Join(r.home, "agent.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("operating the external cluster started the local agent (%v)", err)
	}
}
