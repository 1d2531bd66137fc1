package status

import (
	"context"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
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

func seeded(t *testing.T, size int) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, size)
	return f
}

func TestStatusGolden(t *testing.T) {
	f := seeded(t, 3)
	if err := f.MachineAction(context.Background(), name, "0e286f3c", backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	tm := vt.Run(t, New(vt.Common(f), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "0e286f3c")
	vt.Golden(t, tm)
}

func TestStatusDestroyDialogGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t, 2)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "da8141e7")
	vt.Keys(tm, "D", "text:md-postgres")
	vt.WaitFor(t, tm, "Type md-postgres-500 to confirm")
	vt.Golden(t, tm)
}

// TestStatusHostsGolden: a cluster on external hosts shows its members'
// addresses and offers no lifecycle keys.
func TestStatusHostsGolden(t *testing.T) {
	f := seeded(t, 3)
	if err := f.SetPlatform(name, "hosts"); err != nil {
		t.Fatal(err)
	}
	tm := vt.Run(t, New(vt.Common(f), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "external hosts")
	vt.Golden(t, tm)
	m := loaded(t, f)
	for _, k := range []string{"+", "-", "R", "D", "S", "s", "K"} {
		if _, cmd := m.Update(vt.Key(k)); cmd != nil || m.Modal.Active() {
			t.Fatalf("key %s offered a lifecycle action on an external cluster", k)
		}
	}
}

// loaded is a status pane with its first result applied.
func loaded(t *testing.T, f *fake.Backend) *Model {
	t.Helper()
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.Update(m.Start()())
	if m.st == nil {
		t.Fatal("first status not applied")
	}
	return m
}

// runTask runs a task command to its end and feeds the result back, as
// the shell does; it returns what the pane answered with.
func runTask(t *testing.T, m *Model, cmd tea.Cmd) tea.Msg {
	t.Helper()
	done := vt.Task(t, cmd)
	if done.Err != nil {
		t.Fatalf("task failed: %v", done.Err)
	}
	_, next := m.Update(done.Result)
	if next == nil {
		return nil
	}
	return next()
}

func TestScaleUpAsksThenScales(t *testing.T) {
	f := seeded(t, 2)
	m := loaded(t, f)
	if _, cmd := m.Update(vt.Key("+")); cmd != nil || !m.Capturing() {
		t.Fatal("+ did not open a confirm dialog")
	}
	if !strings.Contains(m.View(), "scale md-postgres-500 to 3 machines?") {
		t.Fatalf("dialog text missing:\n%s", m.View())
	}
	if f.Called("ScaleCount") != 0 {
		t.Fatal("scaled before the answer")
	}
	_, cmd := m.Update(vt.Key("y"))
	refreshed := runTask(t, m, cmd)
	if f.Called("ScaleCount") != 1 || m.Capturing() {
		t.Fatalf("calls %v, capturing %v", f.Calls(), m.Capturing())
	}
	m.Update(refreshed)
	if len(m.st.Machines) != 3 {
		t.Fatalf("after scale %d machines", len(m.st.Machines))
	}
}

func TestCancelledDialogDoesNothing(t *testing.T) {
	f := seeded(t, 2)
	m := loaded(t, f)
	m.Update(vt.Key("R"))
	if _, cmd := m.Update(vt.Key("esc")); cmd != nil || m.Capturing() {
		t.Fatal("esc did not close the dialog")
	}
	if f.Called("Restart") != 0 {
		t.Fatal("restarted after cancel")
	}
}

func TestDestroyNeedsTheName(t *testing.T) {
	f := seeded(t, 2)
	m := loaded(t, f)
	m.Update(vt.Key("D"))
	for _, r := range "wrong" {
		m.Update(vt.Key(string(r)))
	}
	if _, cmd := m.Update(vt.Key("enter")); cmd != nil || !m.Capturing() {
		t.Fatal("a wrong name was accepted")
	}
	m.Update(vt.Key("ctrl+u"))
	for _, r := range name {
		m.Update(vt.Key(string(r)))
	}
	_, cmd := m.Update(vt.Key("enter"))
	if got := runTask(t, m, cmd); got != (views.BackMsg{}) {
		t.Fatalf("after destroy the pane sent %#v, want BackMsg", got)
	}
	if f.Called("DestroyCluster") != 1 {
		t.Fatalf("calls %v", f.Calls())
	}
}

func TestMachineKeysFollowSelection(t *testing.T) {
	f := seeded(t, 2)
	if err := f.MachineAction(context.Background(), name, "da8141e7", backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	m := loaded(t, f)
	if !m.keys.Stop.Enabled() || m.keys.Start.Enabled() {
		t.Fatal("running machine: stop should be on, start off")
	}
	m.Update(vt.Key("down"))
	if m.keys.Stop.Enabled() || !m.keys.Start.Enabled() {
		t.Fatal("stopped machine: start should be on, stop off")
	}
	if _, cmd := m.Update(vt.Key("S")); cmd != nil || m.Capturing() {
		t.Fatal("stop offered on a stopped machine")
	}
	m.Update(vt.Key("s"))
	_, cmd := m.Update(vt.Key("y"))
	runTask(t, m, cmd)
	if f.Called("MachineAction") != 2 {
		t.Fatalf("calls %v", f.Calls())
	}
}

func TestStaleStatusDropped(t *testing.T) {
	f := seeded(t, 2)
	m := loaded(t, f)
	old := m.ListPane.Refresh()
	if err := f.ScaleCount(context.Background(), name, 3, ""); err != nil {
		t.Fatal(err)
	}
	oldMsg := old()
	if _, cmd := m.Update(vt.Key("r")); cmd != nil {
		t.Fatal("r fetched while a fetch was in flight")
	}
	fresh := m.ListPane.Refresh()
	m.Update(fresh())
	m.Update(oldMsg) // arrives last, but is older
	if len(m.st.Machines) != 3 {
		t.Fatalf("stale result overwrote the fresh one: %d machines", len(m.st.Machines))
	}
}

func TestPSQLKeyAsksTheShell(t *testing.T) {
	m := loaded(t, seeded(t, 2))
	_, cmd := m.Update(vt.Key("p"))
	if got := cmd(); got != (views.PSQLMsg{Cluster: name}) {
		t.Fatalf("p sent %#v", got)
	}
}

func TestMetricsKeyOpensMetrics(t *testing.T) {
	m := loaded(t, seeded(t, 2))
	_, cmd := m.Update(vt.Key("m"))
	if got := cmd(); got != (views.OpenPaneMsg{Route: views.RouteMetrics, Args: views.Args{Cluster: name}}) {
		t.Fatalf("m sent %#v", got)
	}
}

func TestEnterOpensTheMachine(t *testing.T) {
	m := loaded(t, seeded(t, 2))
	m.Update(vt.Key("down"))
	_, cmd := m.Update(vt.Key("enter"))
	want := views.OpenPaneMsg{Route: views.RouteMachine, Args: views.Args{Cluster: name, Machine: "da8141e7"}}
	if got := cmd(); got != want {
		t.Fatalf("enter sent %#v, want %#v", got, want)
	}
}
