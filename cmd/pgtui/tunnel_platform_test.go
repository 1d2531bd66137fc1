package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/testcluster"
	"github.com/pgtui/pgtui/internal/testplatform"
	"github.com/pgtui/pgtui/tunnel"
)

// syncBuffer is an output a running command and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// cli runs pgtui commands against a real platform.
type cli struct {
	t *testing.T
	p *testplatform.Platform
}

func (c cli) run(ctx context.Context, stdin string, out, errw *syncBuffer, args ...string) error {
	d := &deps{Backend: func() (backend.Backend, error) { return c.p.Client, nil }, Out: out, Err: errw, In: strings.NewReader(stdin)}
	root := newRoot(d)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func (c cli) must(args ...string) string {
	c.t.Helper()
	var out, errw syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.run(ctx, "", &out, &errw, args...); err != nil {
		c.t.Fatalf("pgtui %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errw.String())
	}
	return out.String()
}

func (c cli) fails(want string, stdin string, args ...string) error {
	c.t.Helper()
	var out, errw syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.run(ctx, stdin, &out, &errw, args...)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		c.t.Fatalf("pgtui %s: error %v, want one line containing %q\n%s", strings.Join(args, " "), err, want, out.String())
	}
	return err
}

func TestTunnelCLIPlatform(t *testing.T) {
	bin, err := testcluster.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := testplatform.Start(bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(!t.Failed()) })
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	if _, err := p.Create(ctx, "cli-pg", 1); err != nil {
		t.Fatal(err)
	}
	c := cli{t: t, p: p}

	// wireguard create / list / remove
	file := filepath.Join(t.TempDir(), "laptop.conf")
	c.must("wireguard", "create", "personal", "iad", "laptop", file)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v %v", file, err, fi)
	}
	b, _ := os.ReadFile(file)
	if cfg, err := tunnel.ParseConfig(string(b)); err != nil || cfg.Keepalive != 15 || len(cfg.AllowedIPs) != 1 || cfg.AllowedIPs[0].Bits() != 48 {
		t.Fatalf("config: %+v %v\n%s", cfg, err, b)
	}
	if out := c.must("wireguard", "list"); !strings.Contains(out, "laptop") || !strings.Contains(out, "never") {
		t.Fatalf("wireguard list:\n%s", out)
	}
	c.fails("laptop already exists", "", "wireguard", "create", "personal", "iad", "laptop", file+".2")
	c.must("wireguard", "remove", "laptop")
	c.fails("unknown wireguard peer laptop", "", "wireguard", "remove", "laptop")

	// dig
	out := c.must("dig", "cli-pg")
	if !strings.Contains(out, "status: NOERROR") || !regexp.MustCompile(`cli-pg\.internal\.\s+5\s+IN\s+AAAA\s+fd`).MatchString(out) {
		t.Fatalf("dig cli-pg:\n%s", out)
	}
	if out := c.must("dig", "leader.cli-pg.internal", "--short"); !strings.HasPrefix(out, "fd") {
		t.Fatalf("dig leader --short: %q", out)
	}
	c.fails("no such name (NXDOMAIN)", "", "dig", "nope.internal")
	c.fails("unknown app nope", "", "dig", "x", "-a", "nope")

	testProxyCommand(t, c)

	// postgres connect: SQL from stdin, psql's status passed through
	if _, err := exec.LookPath("psql"); err == nil {
		var out, errw syncBuffer
		if err := c.run(ctx, "select 41+1 as answer;\n", &out, &errw, "postgres", "connect", "-a", "cli-pg"); err != nil || !strings.Contains(out.String(), "42") {
			t.Fatalf("postgres connect: %v\n%s%s", err, out.String(), errw.String())
		}
		err := c.run(ctx, "select 1/0;\n", &out, &errw, "postgres", "connect", "-a", "cli-pg")
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 3 {
			t.Fatalf("postgres connect with a failing statement: %v, want psql's exit status 3", err)
		}
		c.fails("unknown app nope", "", "postgres", "connect", "-a", "nope")
		// --machine: that machine's own postgres, on its port 5433.
		st, err := p.Client.Status(ctx, "cli-pg")
		if err != nil || len(st.Machines) == 0 {
			t.Fatalf("status: %v %+v", err, st)
		}
		out = syncBuffer{}
		if err := c.run(ctx, "select 'port=' || current_setting('port');\n", &out, &errw, "postgres", "connect", "-a", "cli-pg", "--machine", st.Machines[0].ID); err != nil || !strings.Contains(out.String(), "port=5433") {
			t.Fatalf("postgres connect --machine: %v\n%s%s", err, out.String(), errw.String())
		}
		c.fails("no machine 0000aaaa in cli-pg", "", "postgres", "connect", "-a", "cli-pg", "--machine", "0000aaaa")
		c.fails(`"Bad_ID" is not a machine ID`, "", "postgres", "connect", "-a", "cli-pg", "--machine", "Bad_ID")
	}

	// The CLI's own peer is reused, and shows the traffic.
	var peers []tunnel.PeerStatus
	if err := json.Unmarshal([]byte(c.must("wireguard", "list", "--json")), &peers); err != nil || len(peers) != 1 {
		t.Fatalf("wireguard list --json: %v %+v", err, peers)
	}
	if peers[0].LastHandshake.IsZero() || peers[0].RxBytes == 0 || !strings.HasPrefix(peers[0].Name, "pgtui-") {
		t.Fatalf("CLI peer %+v", peers[0])
	}
}

// testProxyCommand runs `pgtui proxy` and queries through it.
func testProxyCommand(t *testing.T, c cli) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errw syncBuffer
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, "", &out, &errw, "proxy", "0:5432", "-a", "cli-pg") }()
	re := regexp.MustCompile(`^Proxying local port (\d+) to remote \[cli-pg\.internal\]:5432\n$`)
	deadline := time.Now().Add(30 * time.Second)
	for !re.MatchString(out.String()) {
		select {
		case err := <-done:
			t.Fatalf("proxy exited: %v\n%s%s", err, out.String(), errw.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy printed %q", out.String())
		}
	}
	port := re.FindStringSubmatch(out.String())[1]
	ci, err := c.p.Client.ConnectInfo(ctx, "cli-pg")
	if err != nil {
		t.Fatal(err)
	}
	qctx, qcancel := context.WithTimeout(ctx, 20*time.Second)
	defer qcancel()
	conn, err := pgx.Connect(qctx, "postgres://postgres:"+ci.Password+"@127.0.0.1:"+port+"/postgres?sslmode=require")
	if err != nil {
		t.Fatalf("connect through pgtui proxy: %v", err)
	}
	var user string
	if err := conn.QueryRow(qctx, "select current_user").Scan(&user); err != nil || user != "postgres" {
		t.Fatalf("query through pgtui proxy: %q %v", user, err)
	}
	conn.Close(qctx)
	c.fails("local port "+port+" is already in use", "", "proxy", port+":5432", "-a", "cli-pg")
	c.fails("unknown app nope", "", "proxy", "0:5432", "-a", "nope")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("proxy after Ctrl-C: %v", err)
	}
}
