package local_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/local"
)

// TestPlatformChecksAndMetrics: the agent reads every machine's checks
// from its node (seed wording for leader and replica), counts them in
// the status, reports a stopped machine's checks critical, and each
// machine serves Prometheus metrics on its private address, which the
// metrics stream samples.
func TestPlatformChecksAndMetrics(t *testing.T) {
	p := startPlatform(t)
	creds, _ := create(t, p.c, "checked", 2)
	ctx := tctx(t, 2*time.Minute)
	st := waitHealthy(t, p.c, "checked", 2, synced)
	var leader, replica backend.MachineStatus
	for _, m := range st.Machines {
		if m.Checks.Total != 3 || m.Checks.Passing < 2 {
			t.Errorf("machine %s checks %+v", m.ID, m.Checks)
		}
		// The pg check counts client backends; its own is one of them.
		if m.Connections < 1 {
			t.Errorf("machine %s connections %d, want the pg check's count (>= 1)", m.ID, m.Connections)
		}
		if m.Started.Before(m.Created) || time.Since(m.Started) > time.Hour {
			t.Errorf("machine %s started %v, created %v", m.ID, m.Started, m.Created)
		}
		if m.Role == "leader" {
			leader = m
		} else {
			replica = m
		}
	}
	start := time.Now()
	cs, err := p.c.Checks(ctx, "checked")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Checks of 2 machines: %v", time.Since(start).Round(time.Microsecond))
	if len(cs) != 6 || !slices.IsSortedFunc(cs, func(a, b backend.Check) int { return strings.Compare(a.Machine, b.Machine) }) {
		t.Fatalf("checks %+v", cs)
	}
	checkSeedWords(t, cs, leader, replica)
	metrics := get(t, "http://"+net.JoinHostPort(leader.PrivateIP, "9187")+"/metrics")
	for _, want := range []string{"\npg_up 1\n", "\npgtui_role{role=\"leader\"} 1\n", "\npg_stat_database_xact_commit{datname=\"postgres\"} "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("leader metrics lack %q", want)
		}
	}

	checkMetricsStream(t, p.c, creds.LocalURL, leader, replica)

	if err := p.c.MachineAction(ctx, "checked", replica.ID, backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	samples, err := p.c.MetricsStream(sctx, "checked", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := nextSample(t, sctx, samples)
	if len(s.Machines) != 2 || s.Leader != leader.ID || !up(s, leader.ID) || up(s, replica.ID) {
		t.Errorf("sample with the replica stopped: %+v", s)
	}
	stop()
	closed := time.NewTimer(10 * time.Second)
	defer closed.Stop()
	for open := true; open; {
		select {
		case _, open = <-samples:
		case <-closed.C:
			t.Error("the metrics stream stayed open after its context ended")
			open = false
		}
	}
	cs, err = p.c.Checks(ctx, "checked")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Machine == replica.ID && (c.Status != "critical" || !slices.Equal(c.Output, []string{"[✗] unreachable: machine is not running"})) {
			t.Errorf("stopped machine's %s check: %s %q", c.Name, c.Status, c.Output)
		}
	}
	d, err := p.c.MachineStatus(ctx, "checked", replica.ID)
	if err != nil || d.Checks != (backend.Checks{Total: 3, Critical: 3}) || d.Connections != -1 || !d.Started.IsZero() {
		t.Errorf("stopped machine status %+v %v", d, err)
	}
	lines, err := p.c.Logs(ctx, "checked", backend.LogFilter{Machine: leader.ID, Lines: 5000})
	if err != nil {
		t.Fatal(err)
	}
	logged := false
	for l := range lines {
		logged = logged || (l.Proc == "health" && strings.HasPrefix(l.Message, "[HEALTHCHECK] [role: passing] leader\n"))
	}
	if !logged {
		t.Error("no [HEALTHCHECK] line for the leader's role check in its logs")
	}
}

// checkMetricsStream: every sample lists both machines, up, with the
// leader named and times rising; commits on the leader show as its TPS
// (by the third sample at the latest, or whenever the statistics land).
// An unknown cluster is refused.
func checkMetricsStream(t *testing.T, c *local.Client, url string, leader, replica backend.MachineStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.MetricsStream(ctx, "nope", 0); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("stream of an unknown cluster: %v", err)
	}
	samples, err := c.MetricsStream(ctx, "checked", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var prev time.Time
	for n := 1; ; n++ {
		for range 20 { // committed transactions for the next sample to count
			if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
		}
		s := nextSample(t, ctx, samples)
		if !s.Time.After(prev) || s.Leader != leader.ID || len(s.Machines) != 2 {
			t.Fatalf("sample %d after one of %s: %+v", n, prev, s)
		}
		prev = s.Time
		var lead backend.MachineMetrics
		for _, m := range s.Machines {
			if !m.Up || m.Connections < 1 || m.SizeBytes <= 0 || m.TPS < 0 || m.LagSeconds < 0 || m.Region != "iad" {
				t.Fatalf("sample %d: machine %+v", n, m)
			}
			if m.Machine == leader.ID {
				lead = m
			}
		}
		if lead.TPS > 0 && n >= 3 {
			t.Logf("leader TPS %.1f in sample %d (replica %s)", lead.TPS, n, replica.ID)
			return
		}
	}
}

// nextSample waits for the stream's next sample.
func nextSample(t *testing.T, ctx context.Context, samples <-chan backend.MetricsSample) backend.MetricsSample {
	t.Helper()
	select {
	case s, ok := <-samples:
		if !ok {
			t.Fatal("the metrics stream closed")
		}
		return s
	case <-ctx.Done():
		t.Fatal("no metrics sample in time")
	}
	return backend.MetricsSample{}
}

func up(s backend.MetricsSample, id string) bool {
	for _, m := range s.Machines {
		if m.Machine == id {
			return m.Up
		}
	}
	return false
}

// checkSeedWords checks each machine's vm, pg and role check.
func checkSeedWords(t *testing.T, cs []backend.Check, leader, replica backend.MachineStatus) {
	t.Helper()
	for _, c := range cs {
		m := leader
		if c.Machine == replica.ID {
			m = replica
		}
		if c.Region != "iad" || c.Updated.IsZero() || len(c.Output) == 0 {
			t.Errorf("incomplete check %+v", c)
		}
		switch c.Name {
		case "vm":
			if len(c.Output) != 5 || !slices.ContainsFunc(c.Output, func(l string) bool { return strings.HasSuffix(l, " free space on "+m.Volume+"/") }) {
				t.Errorf("vm check of %s: %q", m.ID, c.Output)
			}
		case "pg":
			want := "[✓] replication: currently leader"
			if m.ID == replica.ID {
				want = "[✓] leader check: connected"
			}
			// The leader's check may end with its backup line.
			conns := slices.ContainsFunc(c.Output, func(l string) bool { return strings.HasPrefix(l, "[✓] connections: ") })
			if c.Status != "passing" || c.Output[0] != want || !conns {
				t.Errorf("pg check of %s %s: %s %q", m.Role, m.ID, c.Status, c.Output)
			}
		case "role":
			if c.Status != "passing" || !slices.Equal(c.Output, []string{m.Role}) {
				t.Errorf("role check of %s: %s %q", m.ID, c.Status, c.Output)
			}
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(b)
}
