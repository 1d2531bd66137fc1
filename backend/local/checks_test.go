package local_test

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// TestPlatformChecksAndMetrics: the agent reads every machine's checks
// from its node (seed wording for leader and replica), counts them in
// the status, reports a stopped machine's checks critical, and each
// machine serves Prometheus metrics on its private address.
func TestPlatformChecksAndMetrics(t *testing.T) {
	p := startPlatform(t)
	create(t, p.c, "checked", 2)
	ctx := tctx(t, 2*time.Minute)
	st := waitHealthy(t, p.c, "checked", 2, synced)
	var leader, replica backend.MachineStatus
	for _, m := range st.Machines {
		if m.Checks.Total != 3 || m.Checks.Passing < 2 {
			t.Errorf("machine %s checks %+v", m.ID, m.Checks)
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

	if err := p.c.MachineAction(ctx, "checked", replica.ID, backend.ActionStop); err != nil {
		t.Fatal(err)
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
	if err != nil || d.Checks != (backend.Checks{Total: 3, Critical: 3}) {
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
			if c.Status != "passing" || c.Output[0] != want || !strings.HasPrefix(c.Output[len(c.Output)-1], "[✓] connections: ") {
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
