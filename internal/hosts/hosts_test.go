package hosts

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

var bin string

// settled: a leader, two streaming replicas, a sync standby that the
// leader's own report lists (until it does, the sentinel may still fall
// back to async, and a leader lost then is, by design, not replaced).
func settled(s testcluster.State) bool {
	if !testcluster.Healthy(2, true)(s) {
		return false
	}
	_, ok := s.Members[s.Data.Leader].Info.Standbys[s.Data.SyncStandby]
	return ok
}

func TestMain(m *testing.M) { os.Exit(testcluster.RunWithBinary(m, &bin)) }

// start makes three hosts and waits for a healthy cluster; the test
// skips only where namespaces cannot exist (not root, no iproute2).
func start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	if err := Supported(); err != nil {
		t.Skipf("hosts need network namespaces: %v", err)
	}
	c, err := Start(bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs(60))
		}
		c.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := c.WaitFor(ctx, "a leader and two streaming replicas", settled); err != nil {
		t.Fatal(err)
	}
	return c
}

// checkBootstrap: a cluster bootstrapped over three hosts takes writes
// through every host's proxy, on the leader, and etcd has three members.
func checkBootstrap(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every host's proxy reaches the leader: a client on any host writes.
	if err := testcluster.CreateTable(ctx, c.ProxyURL(c.Hosts[0])); err != nil {
		t.Fatal(err)
	}
	for i, h := range c.Hosts {
		conn, err := testcluster.ConnectVia(ctx, c.ProxyURL(h), nil)
		if err != nil {
			t.Fatalf("connect through %s: %v", h.Name, err)
		}
		var addr string
		err = conn.QueryRow(ctx, `INSERT INTO acked (id) VALUES ($1) RETURNING host(inet_server_addr())`, -1-i).Scan(&addr)
		conn.Close(ctx)
		if err != nil {
			t.Fatalf("write through %s: %v", h.Name, err)
		}
		if l := c.Host(st.Data.Leader); addr != l.Addr {
			t.Errorf("write through %s landed on %s, want the leader %s (%s)", h.Name, addr, l.Name, l.Addr)
		}
	}
	// The members are three, over TLS.
	ml, err := c.Client.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Members) != 3 {
		t.Errorf("etcd has %d members, want 3", len(ml.Members))
	}
}
