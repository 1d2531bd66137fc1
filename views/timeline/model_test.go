package timeline

import (
	"context"
	"fmt"
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
	for i, id := range []string{"6b97fa06", "da8141e7", "0e286f3c"} {
		m := backend.MachineStatus{ID: id, State: "running", Role: "replica", PrivateIP: fmt.Sprintf("127.0.1.%d", i+2)}
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
	m.Update(vt.Cmds(m.Start()())[0]()) // the first poll
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
	first := vt.Cmds(m.Start()())[0]
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

// TestMergedTimelineGolden watches a switchover on the fake from both
// sides: the pane's polls and the nodes' log lines (the sentinel's
// decisions, the promotion, the proxies, the old leader rejoining),
// merged by time. The test drives the pane's commands itself, with the
// pane's clock stepped alongside the fake's (which dates the switchover
// lines at its reading, four seconds after its epoch for this seed).
func TestMergedTimelineGolden(t *testing.T) {
	f := seeded(t)
	now := fake.Epoch().Add(3 * time.Second)
	c := vt.Common(f)
	c.Clock = func() time.Time { return now }
	m := New(c, views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)

	start := vt.Cmds(m.Start()()) // the poll, then the stream
	if len(start) != 2 {
		t.Fatalf("Start made %d commands", len(start))
	}
	m.Update(start[0]())
	_, wait := m.Update(start[1]())
	_, wait = m.Update(wait()) // the fake's fixed lines: none is an event

	now = fake.Epoch().Add(4 * time.Second)
	_, poll := m.Update(vt.Key("r"))
	m.Update(poll())
	m.Update(vt.Key("s"))
	_, run := m.Update(vt.Key("y"))
	now = fake.Epoch().Add(5500 * time.Millisecond)
	done := vt.Task(t, run) // the fake logs the switchover to the open stream as it runs
	_, wait = m.Update(wait())
	if wait == nil {
		t.Fatal("the stream was not re-armed")
	}
	_, poll = m.Update(done.Result)
	m.Update(poll())

	view := m.View()
	vt.RequireFits(t, view)
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
}

// TestStaleLogResultsAreDropped: what a stream sends after Stop, or
// after a restart opened a new one, never reaches the timeline, and Stop
// ends the stream.
func TestStaleLogResultsAreDropped(t *testing.T) {
	f := seeded(t)
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)
	decision := line(10, "da8141e7", "sentinel", "leader 6b97fa06 is gone (lease expired); promoting da8141e7 kind=failover generation=2")
	ch := make(chan backend.LogLine, 2)
	open := func(context.Context) (<-chan backend.LogLine, error) { return ch, nil }

	opened := m.logs.Open(open)()
	m.Stop()
	if _, cmd := m.Update(opened); cmd != nil {
		t.Fatal("a stream opened before Stop was followed")
	}

	_, wait := m.Update(m.logs.Open(open)())
	if wait == nil {
		t.Fatal("the current stream was not followed")
	}
	ch <- decision
	_, next := m.Update(wait())
	if next == nil || len(m.track.events) != 1 || m.track.events[0].kind != "failover" {
		t.Fatalf("the current stream's decision: %+v", m.track.events)
	}
	ch <- decision
	late := next()
	m.Close()
	if _, cmd := m.Update(late); cmd != nil || len(m.track.events) != 1 {
		t.Fatal("a batch that landed after Close was taken")
	}
}

// TestLinesFromBeforeTheStreamAreReplay: the backend replays past lines
// first; the timeline starts at the pane's Start.
func TestLinesFromBeforeTheStreamAreReplay(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{Cluster: name})
	m.Start()
	m.onLines([]backend.LogLine{
		line(-5000, "da8141e7", "sentinel", "old news kind=failover generation=2"),
		line(0, "da8141e7", "sentinel", "now kind=sync generation=2"),
	})
	if len(m.track.events) != 1 || m.track.events[0].detail != "now" {
		t.Fatalf("events %+v", m.track.events)
	}
	m.Stop()
}

// TestViewFitsAndFollowsTheTail: at 80x24 a long detail is cut at the
// edge and the newest events are the ones shown, at the bottom.
func TestViewFitsAndFollowsTheTail(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)
	tr := &m.track
	tr.observe(status("6b97fa06", 1, "da8141e7"), vt.Now())
	for i := range maxEvents + 40 {
		tr.apply(fact{kind: factDecision, at: vt.Now().Add(time.Duration(i+1) * time.Second), event: "sync",
			detail: fmt.Sprintf("decision %d: %s", i, strings.Repeat("a long reason ", 10))})
	}
	if len(tr.events) != maxEvents {
		t.Fatalf("kept %d events", len(tr.events))
	}
	view := m.View()
	vt.RequireFits(t, view)
	lines := strings.Split(view, "\n")
	if len(lines) != vt.Height {
		t.Fatalf("%d lines, want the whole %d", len(lines), vt.Height)
	}
	last := lines[len(lines)-1]
	if !strings.Contains(last, fmt.Sprintf("decision %d:", maxEvents+39)) || !strings.HasSuffix(last, "…") {
		t.Fatalf("last line %q", last)
	}
}
