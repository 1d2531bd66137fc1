package timeline

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

const name = "md-postgres-500"

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, 3)
	return f
}

func TestTimelineGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "observed")
	vt.Keys(tm, "s")
	vt.WaitFor(t, tm, "Switch md-postgres-500 over")
	vt.Golden(t, tm)
}

// machines builds a status with a leader and replicas; a leader that is
// "" or not running leaves the cluster without one.
func status(leader string, gen int64, standby string, down ...string) *backend.ClusterStatus {
	st := &backend.ClusterStatus{Name: name, Leader: leader, Generation: gen, SyncStandby: standby, Async: standby == ""}
	for _, id := range []string{"6b97fa06", "da8141e7", "0e286f3c"} {
		m := backend.MachineStatus{ID: id, State: "running", Role: "replica"}
		if id == leader {
			m.Role = "leader"
		}
		for _, d := range down {
			if d == id {
				m.State, m.Role = "stopped", ""
			}
		}
		st.Machines = append(st.Machines, m)
	}
	return st
}

// TestOutageTimelineGolden feeds a failover poll by poll: the leader
// dies, nobody leads for 3.2s, a replica takes over and a new sync
// standby joins, then a quick switchover happens between two polls.
func TestOutageTimelineGolden(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)
	t0 := vt.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tr := &m.track
	tr.observe(status("6b97fa06", 1, "da8141e7"), at(0))
	tr.observe(status("6b97fa06", 1, "da8141e7", "6b97fa06"), at(1000))
	tr.observe(status("", 2, ""), at(2000))
	tr.observe(status("da8141e7", 3, ""), at(4200))
	tr.observe(status("da8141e7", 3, "0e286f3c"), at(5200))
	tr.observe(status("0e286f3c", 4, "da8141e7"), at(6200))
	if tr.failovers != 2 || !strings.Contains(tr.outage, "<1s") {
		t.Fatalf("failovers %d, outage %q", tr.failovers, tr.outage)
	}
	teatest.RequireEqualOutput(t, []byte(m.View()+"\n"))
}

func TestOutageMeasuredFromLossToNewLeader(t *testing.T) {
	var tr tracker
	t0 := vt.Now()
	tr.observe(status("6b97fa06", 1, "da8141e7"), t0)
	tr.observe(status("", 2, ""), t0.Add(time.Second))
	tr.observe(status("", 2, ""), t0.Add(2*time.Second)) // still nobody: no new event
	tr.observe(status("da8141e7", 3, ""), t0.Add(3500*time.Millisecond))
	if tr.outage != "2.5s" {
		t.Fatalf("outage %q, want 2.5s", tr.outage)
	}
	var kinds []string
	for _, e := range tr.events {
		kinds = append(kinds, e.kind)
	}
	want := "observed,leader lost,generation,sync standby,new leader,generation"
	if got := strings.Join(kinds, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

func TestSwitchoverRunsOnceAndIsRecorded(t *testing.T) {
	f := seeded(t)
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.Update(m.Start()())
	m.Update(vt.Key("s"))
	if f.Called("Failover") != 0 || !m.Capturing() {
		t.Fatal("s did not ask first")
	}
	_, cmd := m.Update(vt.Key("y"))
	if !m.switching || m.keys.Switchover.Enabled() {
		t.Fatal("switchover key still offered while one runs")
	}
	if _, again := m.Update(vt.Key("s")); again != nil || m.Capturing() {
		t.Fatal("a second switchover was offered")
	}
	done := vt.Task(t, cmd)
	if done.Err != nil {
		t.Fatal(done.Err)
	}
	_, refresh := m.Update(done.Result)
	m.Update(refresh())
	view := m.View()
	for _, want := range []string{"requested from leader 6b97fa06", "done: 6b97fa06 -> da8141e7", "new leader", "Failovers seen 1"} {
		if !strings.Contains(view, want) {
			t.Fatalf("view lacks %q:\n%s", want, view)
		}
	}
	if f.Called("Failover") != 1 {
		t.Fatalf("calls %v", f.Calls())
	}
}

func TestStoppedTimelineDropsPolls(t *testing.T) {
	f := seeded(t)
	m := New(vt.Common(f), views.Args{Cluster: name})
	first := m.Start()
	m.Stop()
	m.Update(first())
	if m.track.seen {
		t.Fatal("a poll that landed after Stop was recorded")
	}
}

func TestSameLeaderBackIsNoFailover(t *testing.T) {
	var tr tracker
	t0 := vt.Now()
	tr.observe(status("6b97fa06", 1, "da8141e7"), t0)
	tr.observe(status("", 1, "da8141e7"), t0.Add(time.Second))
	tr.observe(status("6b97fa06", 1, "da8141e7"), t0.Add(1500*time.Millisecond))
	if tr.failovers != 0 || tr.outage != "500ms" {
		t.Fatalf("failovers %d, outage %q", tr.failovers, tr.outage)
	}
	if last := tr.events[len(tr.events)-1]; last.kind != "leader back" {
		t.Fatalf("last event %+v", last)
	}
}
