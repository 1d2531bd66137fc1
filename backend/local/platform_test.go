package local_test

// Integration tests of the local platform: a real agent (embedded etcd,
// `pgtui node` machines with real postgres) in a temporary PGTUI_HOME,
// driven through the Backend client.

import (
	"context"
	"fmt"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/miekg/dns"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/agent"
	"github.com/pgtui/pgtui/backend/local"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/internal/testplatform"
)

var binPath string

func TestMain(m *testing.M) {
	os.Exit(testcluster.RunWithBinary(m, &binPath))
}

// platform is a running agent in a temp home.
type platform struct {
	t      *testing.T
	home   string
	ipBase int
	stop   context.CancelFunc
	done   chan error
	c      *local.Client
}

func startPlatform(t *testing.T) *platform {
	t.Helper()
	home, err := os.MkdirTemp("/tmp", "pgth")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o755); err != nil { // postgres must reach the volumes
		t.Fatal(err)
	}
	base, claim, err := testplatform.ClaimIPBase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { claim.Close() }) // last: after the agent stopped
	p := &platform{t: t, home: home, ipBase: base}
	p.start()
	t.Cleanup(func() {
		p.shutdown()
		if !t.Failed() {
			os.RemoveAll(home)
		} else {
			t.Logf("platform home kept at %s", home)
		}
	})
	return p
}

func (p *platform) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.done = cancel, make(chan error, 1)
	go func() {
		p.done <- agent.Run(ctx, agent.Config{Home: p.home, Bin: binPath, IPBase: p.ipBase})
	}()
	p.c = local.New(p.home)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.c.Ping(context.Background()); err == nil {
			return
		}
		select {
		case err := <-p.done:
			p.t.Fatalf("agent exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatal("agent did not answer within 30s")
		}
	}
}

// shutdown stops the agent and every machine it runs.
func (p *platform) shutdown() {
	if p.stop == nil {
		return
	}
	p.stop()
	if err := <-p.done; err != nil {
		p.t.Errorf("agent: %v", err)
	}
	p.stop = nil
}

func tctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// create deploys a cluster and returns its credentials and the events.
func create(t *testing.T, b backend.Backend, name string, size int) (*backend.Credentials, []backend.CreateEvent) {
	t.Helper()
	events, err := b.CreateCluster(tctx(t, 4*time.Minute), backend.CreateRequest{
		Name: name, Org: "personal", Region: "iad", VMSize: "shared-cpu-1x", VolumeGB: 1, InitialClusterSize: size})
	if err != nil {
		t.Fatal(err)
	}
	var creds *backend.Credentials
	var all []backend.CreateEvent
	for ev := range events {
		all = append(all, ev)
		if ev.Credentials != nil {
			creds = ev.Credentials
		}
		if ev.Error != "" {
			t.Fatalf("create %s: %s", name, ev.Error)
		}
	}
	last := all[len(all)-1]
	// Deployed once every machine serves: its pg and role checks pass (the
	// vm check reports the shared host, busy while tests run).
	if last.Step != "deployed" || last.Healthy != size || last.ChecksTotal != 3*size || last.ChecksPassing < 2*size {
		t.Fatalf("create %s ended with %+v", name, last)
	}
	if creds == nil {
		t.Fatal("no credentials event")
	}
	return creds, all
}

func waitHealthy(t *testing.T, b backend.Backend, name string, n int, cond func(*backend.ClusterStatus) bool) *backend.ClusterStatus {
	t.Helper()
	ctx := tctx(t, 3*time.Minute)
	var last *backend.ClusterStatus
	for {
		st, err := b.Status(ctx, name)
		if err == nil {
			last = st
			if st.Deployment.Healthy == n && st.Deployment.Desired == n && (cond == nil || cond(st)) {
				return st
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cluster %s not healthy with %d machines: %+v", name, n, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func query(t *testing.T, url, sql string, args ...any) string {
	t.Helper()
	ctx := tctx(t, 20*time.Second)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(context.Background())
	var out string
	if err := conn.QueryRow(ctx, sql, args...).Scan(&out); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx := tctx(t, 20*time.Second)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// synced: replication is synchronous, so a failover is allowed.
func synced(s *backend.ClusterStatus) bool { return s.SyncStandby != "" }

func TestPlatformCreateAttachFailoverRestart(t *testing.T) {
	p := startPlatform(t)
	creds, events := create(t, p.c, "pg-one", 2)
	if len(creds.Password) != 48 || creds.Hostname != "pg-one.internal" || creds.ProxyPort != 5432 || creds.PGPort != 5433 {
		t.Errorf("credentials %+v", creds)
	}
	steps := map[string]bool{}
	for _, ev := range events {
		steps[ev.Step] = true
	}
	for _, s := range []string{"placed", "initdb", "basebackup", "healthy", "deployed"} {
		if !steps[s] {
			t.Errorf("no %q event in the deployment", s)
		}
	}
	// The printed password works through the proxy.
	url := creds.LocalURL
	if got := query(t, url, `SELECT current_user`); got != "postgres" {
		t.Errorf("current_user = %q", got)
	}

	// Attach creates a database and user named after the app.
	ctx := tctx(t, 2*time.Minute)
	if err := p.c.CreateApp(ctx, "web-app", ""); err != nil {
		t.Fatal(err)
	}
	att, err := p.c.Attach(ctx, backend.AttachRequest{Cluster: "pg-one", App: "web-app"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(att.URL, "@pg-one.internal:5432/web_app") {
		t.Errorf("attachment url %s", att.URL)
	}
	if _, err := p.c.Attach(ctx, backend.AttachRequest{Cluster: "pg-one", App: "web-app"}); err == nil {
		t.Error("attaching twice succeeded")
	}
	env, err := p.c.AppEnv(ctx, "web-app")
	if err != nil {
		t.Fatal(err)
	}
	if got := query(t, env["DATABASE_URL"], `SELECT current_user || '@' || current_database()`); got != "web_app@web_app" {
		t.Errorf("app connects as %s", got)
	}
	checkTLS(t, env["DATABASE_URL"])
	if err := p.c.Detach(ctx, "pg-one", "web-app"); err != nil {
		t.Fatal(err)
	}
	if got := query(t, url, `SELECT count(*)::text FROM pg_roles WHERE rolname = 'web_app'`); got != "0" {
		t.Errorf("role still there after detach")
	}
	if got := query(t, url, `SELECT count(*)::text FROM pg_database WHERE datname = 'web_app'`); got != "1" {
		t.Errorf("database removed by detach")
	}
	if err := p.c.Detach(ctx, "pg-one", "web-app"); err == nil {
		t.Error("detach of an app that is not attached succeeded")
	}

	// Write, then kill the leader machine: a new leader, the old one back as replica.
	execSQL(t, url, `CREATE TABLE t AS SELECT 42 AS v`)
	st := waitHealthy(t, p.c, "pg-one", 2, synced)
	old := st.Leader
	var oldStarted time.Time
	for _, m := range st.Machines {
		if m.ID == old {
			oldStarted = m.Started
		}
	}
	if err := p.c.MachineAction(ctx, "pg-one", old, backend.ActionKill); err != nil {
		t.Fatal(err)
	}
	st = waitHealthy(t, p.c, "pg-one", 2, func(s *backend.ClusterStatus) bool { return s.Leader != old && s.Leader != "" })
	for _, m := range st.Machines {
		if m.ID == old && m.Role != "replica" {
			t.Errorf("old leader %s is %s", old, m.Role)
		}
		// Its uptime starts again with the restarted node.
		if m.ID == old && (m.Restarts != 1 || !m.Started.After(oldStarted)) {
			t.Errorf("killed machine %s: restarts %d, started %v (before the kill %v)", old, m.Restarts, m.Started, oldStarted)
		}
	}
	if got := query(t, url, `SELECT v::text FROM t`); got != "42" {
		t.Errorf("row after failover: %s", got)
	}
	// The proxy forwards TLS to the new leader, whose certificate names
	// the first machine's address too.
	checkTLS(t, url)

	// Agent stop and start: the cluster comes back with its data.
	p.shutdown()
	p.start()
	waitHealthy(t, p.c, "pg-one", 2, synced)
	if got := query(t, url, `SELECT v::text FROM t`); got != "42" {
		t.Errorf("row after agent restart: %s", got)
	}

	// Scale to 3, then back to 2.
	if err := p.c.ScaleCount(ctx, "pg-one", 3, ""); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, p.c, "pg-one", 3, nil)
	if err := p.c.ScaleCount(ctx, "pg-one", 2, ""); err != nil {
		t.Fatal(err)
	}
	st = waitHealthy(t, p.c, "pg-one", 2, synced)
	if st.Leader == "" {
		t.Error("no leader after scaling down")
	}

	// Planned failover.
	res, err := p.c.Failover(ctx, "pg-one")
	if err != nil {
		t.Fatal(err)
	}
	if res.NewLeader == res.OldLeader {
		t.Errorf("failover kept %s", res.OldLeader)
	}
	if err := p.c.DestroyCluster(ctx, "pg-one"); err != nil {
		t.Fatal(err)
	}
	if list, _ := p.c.ListClusters(ctx); len(list) != 0 {
		t.Errorf("clusters after destroy: %+v", list)
	}
}

func TestPlatformBadInput(t *testing.T) {
	p := startPlatform(t)
	ctx := tctx(t, time.Minute)
	good := backend.CreateRequest{Name: "good", Org: "personal", Region: "iad", VMSize: "shared-cpu-1x", VolumeGB: 1, InitialClusterSize: 1}
	cases := []struct {
		name string
		mod  func(*backend.CreateRequest)
		want string
	}{
		{"bad name", func(r *backend.CreateRequest) { r.Name = "Bad_Name" }, "not valid"},
		{"unknown region", func(r *backend.CreateRequest) { r.Region = "xxx" }, "unknown region"},
		{"unknown size", func(r *backend.CreateRequest) { r.VMSize = "huge" }, "unknown VM size"},
		{"volume 0", func(r *backend.CreateRequest) { r.VolumeGB = 0 }, "volume size"},
		{"volume 501", func(r *backend.CreateRequest) { r.VolumeGB = 501 }, "volume size"},
		{"cluster size 0", func(r *backend.CreateRequest) { r.InitialClusterSize = 0 }, "cluster size"},
		{"cluster size 10", func(r *backend.CreateRequest) { r.InitialClusterSize = 10 }, "cluster size"},
	}
	for _, tc := range cases {
		req := good
		tc.mod(&req)
		_, err := p.c.CreateCluster(ctx, req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := p.c.Status(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown cluster: %v", err)
	}
	if err := p.c.ScaleCount(ctx, "nope", 0, ""); err == nil {
		t.Error("scale count 0 accepted")
	}
	if err := p.c.CreateApp(ctx, "-bad", ""); err == nil {
		t.Error("bad app name accepted")
	}
	if err := p.c.Detach(ctx, "nope", "nope"); err == nil {
		t.Error("detach of unknown app accepted")
	}
	// Nothing was created: no cluster, no volume.
	if list, _ := p.c.ListClusters(ctx); len(list) != 0 {
		t.Errorf("clusters: %+v", list)
	}
	if entries, _ := os.ReadDir(p.home + "/volumes"); len(entries) != 0 {
		t.Errorf("volumes left behind: %d", len(entries))
	}
	// A duplicate name is refused and leaves the first cluster intact.
	create(t, p.c, "dup", 1)
	events, err := p.c.CreateCluster(ctx, backend.CreateRequest{Name: "dup", Region: "iad", VMSize: "shared-cpu-1x", VolumeGB: 1, InitialClusterSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	var last backend.CreateEvent
	for ev := range events {
		last = ev
	}
	if !strings.Contains(last.Error, "already taken") {
		t.Errorf("duplicate create: %+v", last)
	}
	st := waitHealthy(t, p.c, "dup", 1, nil)

	// .internal names resolve to the machine's address.
	addr, err := os.ReadFile(p.home + "/dns.addr")
	if err != nil {
		t.Fatal(err)
	}
	ip := st.Machines[0].PrivateIP
	for _, name := range []string{"dup.internal.", "iad.dup.internal.", st.Machines[0].ID + ".vm.dup.internal.", "leader.dup.internal."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, err := dns.Exchange(m, string(addr))
		if err != nil {
			t.Fatalf("dns %s: %v", name, err)
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != ip {
			t.Errorf("dns %s = %v, want %s", name, r.Answer, ip)
		}
	}
	m := new(dns.Msg)
	m.SetQuestion("nope.internal.", dns.TypeA)
	if r, err := dns.Exchange(m, string(addr)); err != nil || r.Rcode != dns.RcodeNameError {
		t.Errorf("unknown name: rcode %v err %v, want NXDOMAIN", r, err)
	}
}

func TestPlatformSocketOwnedByAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the socket to another user")
	}
	home := t.TempDir()
	sock := home + "/agent.sock"
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sock, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := local.Ensure(tctx(t, 10*time.Second), home)
	if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("Ensure with a foreign socket: %v", err)
	}
}

func TestPlatformCorruptStateRefused(t *testing.T) {
	home, err := os.MkdirTemp("", "pgth")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	if err := os.WriteFile(home+"/state.json", []byte(`{"version":1,"clusters":{`), 0o600); err != nil {
		t.Fatal(err)
	}
	err = agent.Run(context.Background(), agent.Config{Home: home, Bin: binPath})
	if err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("agent on corrupt state: %v", err)
	}
	b, _ := os.ReadFile(home + "/state.json")
	if string(b) != `{"version":1,"clusters":{` {
		t.Error("corrupt state file was modified")
	}
}

func TestPlatformLogs(t *testing.T) {
	p := startPlatform(t)
	create(t, p.c, "logged", 1)
	ctx := tctx(t, time.Minute)
	lines, err := p.c.Logs(ctx, "logged", backend.LogFilter{Lines: 1000})
	if err != nil {
		t.Fatal(err)
	}
	procs := map[string]int{}
	for l := range lines {
		procs[l.Proc]++
		if l.Time.IsZero() || l.Machine == "" || l.Region != "iad" {
			t.Errorf("incomplete line %+v", l)
		}
	}
	for _, want := range []string{"postgres", "keeper", "sentinel", "proxy"} {
		if procs[want] == 0 {
			t.Errorf("no %s lines (got %v)", want, procs)
		}
	}
	// The exporter's summary: postgres up, a database size, connections.
	ms, err := p.c.Metrics(ctx, "logged")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || !ms[0].Up || ms[0].SizeBytes <= 0 || ms[0].Connections < 1 || ms[0].TPS < 0 {
		t.Errorf("metrics %+v", ms)
	}
	// Following: a new line appears once something happens.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	follow, err := p.c.Logs(fctx, "logged", backend.LogFilter{Follow: true, Lines: 1})
	if err != nil {
		t.Fatal(err)
	}
	<-follow // the one past line
	st, err := p.c.Status(ctx, "logged")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.c.MachineAction(ctx, "logged", st.Machines[0].ID, backend.ActionRestart); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-follow:
		t.Logf("followed: %s %s", l.Proc, l.Message)
	case <-ctx.Done():
		t.Fatal("no new line while following")
	}
}

// waitSQL retries f until it returns nil or the deadline passes.
func waitSQL(t *testing.T, what string, f func(context.Context) error) {
	t.Helper()
	ctx := tctx(t, time.Minute)
	var err error
	for ctx.Err() == nil {
		if err = f(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s: %v", what, err)
}

func TestPlatformReadOnlyAndSSL(t *testing.T) {
	p := startPlatform(t)
	creds, _ := create(t, p.c, "guarded", 1)
	ctx := tctx(t, 2*time.Minute)
	plain := withSSLMode(t, creds.LocalURL, "disable")
	write := func(ctx context.Context, url string) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS ro (v int); INSERT INTO ro VALUES (1)`)
		return err
	}
	// The printed URL verifies the server against the cluster's CA.
	if !strings.Contains(creds.LocalURL, "sslmode=verify-full") || !strings.Contains(creds.LocalURL, "sslrootcert=") {
		t.Errorf("create's URL %s does not verify the server", creds.LocalURL)
	}
	waitSQL(t, "write over TLS", func(ctx context.Context) error { return write(ctx, creds.LocalURL) })
	checkTLS(t, creds.LocalURL)
	// A client that offers no TLS matches no pg_hba line.
	if err := write(ctx, plain); err == nil || !strings.Contains(err.Error(), "no pg_hba.conf entry") {
		t.Errorf("plain connection while TLS is on: %v, want refused by pg_hba", err)
	}
	cfg, err := p.c.ClusterConfig(ctx, "guarded")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.CA, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("config has no CA: %q", cfg.CA)
	}

	// A threshold above the volume's free space turns the leader read-only.
	waitSQL(t, "free space reported", func(ctx context.Context) error {
		if cfg, err = p.c.ClusterConfig(ctx, "guarded"); err == nil && cfg.FreePct == 0 {
			return fmt.Errorf("no free space figure yet")
		}
		return err
	})
	above := float64(int(cfg.FreePct) + 1)
	if above > 99 {
		t.Skipf("volume is %.1f%% free: no threshold above it", cfg.FreePct)
	}
	if _, err := p.c.UpdateConfig(ctx, "guarded", backend.ConfigUpdate{ReadOnlyBelowPct: &above}); err != nil {
		t.Fatal(err)
	}
	waitSQL(t, "leader refuses writes", func(ctx context.Context) error {
		err := write(ctx, creds.LocalURL)
		if err != nil && strings.Contains(err.Error(), "read-only transaction") {
			return nil
		}
		return fmt.Errorf("write not refused: %v", err)
	})
	// The keeper publishes the state right after it applies it.
	waitSQL(t, "config says read-only", func(ctx context.Context) error {
		if cfg, err := p.c.ClusterConfig(ctx, "guarded"); err != nil || !cfg.ReadOnly {
			return fmt.Errorf("config %+v, err %v", cfg, err)
		}
		return nil
	})
	off := 0.0
	if _, err := p.c.UpdateConfig(ctx, "guarded", backend.ConfigUpdate{ReadOnlyBelowPct: &off}); err != nil {
		t.Fatal(err)
	}
	waitSQL(t, "leader accepts writes again", func(ctx context.Context) error { return write(ctx, creds.LocalURL) })

	checkReadOnlyByHand(t, p.c, creds.LocalURL, write)

	// SSL off: a client that requires TLS is refused, a plain one gets in.
	no := false
	if _, err := p.c.UpdateConfig(ctx, "guarded", backend.ConfigUpdate{SSL: &no}); err != nil {
		t.Fatal(err)
	}
	waitSQL(t, "TLS refused", func(ctx context.Context) error {
		if err := write(ctx, creds.LocalURL); err == nil {
			return fmt.Errorf("TLS still accepted")
		}
		return nil
	})
	if err := write(ctx, plain); err != nil {
		t.Fatalf("plain connection after ssl off: %v", err)
	}
}

// withSSLMode is url with its sslmode replaced and no root certificate.
func withSSLMode(t *testing.T, raw, mode string) string {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("sslrootcert")
	q.Set("sslmode", mode)
	u.RawQuery = q.Encode()
	return u.String()
}

// checkTLS connects with pgx and with libpq (psql) on the URL exactly as
// given and checks that the session is encrypted (pg_stat_ssl).
func checkTLS(t *testing.T, url string) {
	t.Helper()
	const q = `SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()`
	if got := query(t, url, q); got != "true" {
		t.Errorf("pgx on %s: ssl = %s", url, got)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql is missing (make deps installs postgresql-client): %v", err)
	}
	out, err := exec.Command(psql, "-XAtc", q, url).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Errorf("psql on %s: %v: %s", url, err, out)
	}
}

// checkReadOnlyByHand: --read-only refuses writes, shows in status, the
// pg check and pgtui_read_only, and ends a session that overrides
// default_transaction_read_only and writes; --read-write undoes it.
func checkReadOnlyByHand(t *testing.T, c *local.Client, url string, write func(context.Context, string) error) {
	t.Helper()
	ctx := tctx(t, 2*time.Minute)
	// A session opened before, which will try to override the setting.
	rogue, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close(context.Background())
	yes := true
	if _, err := c.UpdateConfig(ctx, "guarded", backend.ConfigUpdate{ReadOnly: &yes}); err != nil {
		t.Fatal(err)
	}
	waitSQL(t, "read-only by hand refuses writes", func(ctx context.Context) error {
		err := write(ctx, url)
		if err != nil && strings.Contains(err.Error(), "read-only transaction") {
			return nil
		}
		return fmt.Errorf("write not refused: %v", err)
	})
	var st *backend.ClusterStatus
	waitSQL(t, "status says read-only by hand", func(ctx context.Context) error {
		if st, err = c.Status(ctx, "guarded"); err != nil || !st.ReadOnly || !strings.Contains(st.ReadOnlyReason, "by hand") {
			return fmt.Errorf("status %+v, err %v", st, err)
		}
		return nil
	})
	cfg, err := c.ClusterConfig(ctx, "guarded")
	if err != nil || !cfg.ReadOnlyByHand || !cfg.ReadOnly {
		t.Errorf("config %+v, err %v", cfg, err)
	}
	var leaderIP string
	for _, m := range st.Machines {
		if m.ID == st.Leader {
			leaderIP = m.PrivateIP
		}
	}
	if m := get(t, "http://"+net.JoinHostPort(leaderIP, "9187")+"/metrics"); !strings.Contains(m, "\npgtui_read_only{reason=\"by_hand\"} 1\n") {
		t.Errorf("metrics lack pgtui_read_only{reason=\"by_hand\"} 1")
	}
	waitSQL(t, "pg check says read-only", func(ctx context.Context) error {
		cs, err := c.Checks(ctx, "guarded")
		if err != nil {
			return err
		}
		for _, ch := range cs {
			if ch.Name == "pg" && ch.Status == "passing" && strings.Contains(strings.Join(ch.Output, "\n"), "mode: read-only, set by hand") {
				return nil
			}
		}
		return fmt.Errorf("checks %+v", cs)
	})

	// SET cannot undo it: the session that writes anyway is ended before
	// its transaction commits, and nothing it wrote stays.
	if _, err := rogue.Exec(ctx, `SET default_transaction_read_only = off`); err != nil {
		t.Fatal(err)
	}
	tx, err := rogue.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ro VALUES (-1)`); err != nil {
		t.Fatalf("the overriding session could not even start its write: %v", err)
	}
	waitSQL(t, "the overriding session is ended", func(ctx context.Context) error {
		if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
			return nil
		}
		return fmt.Errorf("session still alive")
	})
	if got := query(t, url, `SELECT count(*)::text FROM ro WHERE v = -1`); got != "0" {
		t.Errorf("the overriding session's write stayed: %s rows", got)
	}

	no := false
	if _, err := c.UpdateConfig(ctx, "guarded", backend.ConfigUpdate{ReadOnly: &no}); err != nil {
		t.Fatal(err)
	}
	waitSQL(t, "read-write again", func(ctx context.Context) error { return write(ctx, url) })
	waitSQL(t, "status says read-write", func(ctx context.Context) error {
		if st, err := c.Status(ctx, "guarded"); err != nil || st.ReadOnly {
			return fmt.Errorf("status %+v, err %v", st, err)
		}
		return nil
	})
}
