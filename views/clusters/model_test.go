package clusters

import (
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

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, "md-postgres-500", 2)
	vt.Seed(t, f, "orders-db", 3)
	return f
}

func TestClustersGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{}))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "down")
	vt.WaitFor(t, tm, "> orders-db")
	vt.Golden(t, tm)
}

// TestClustersHostsGolden: a registered external cluster is listed with
// its platform.
func TestClustersHostsGolden(t *testing.T) {
	f := seeded(t)
	vt.Seed(t, f, "hosts-db", 3)
	if err := f.SetPlatform("hosts-db", "hosts"); err != nil {
		t.Fatal(err)
	}
	tm := vt.Run(t, New(vt.Common(f), views.Args{}))
	vt.WaitFor(t, tm, "hosts-db")
	vt.Golden(t, tm)
}

func TestClustersEmpty(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(fake.New()), views.Args{}))
	vt.WaitFor(t, tm, "No clusters yet")
	vt.Golden(t, tm)
}

// load runs the pane's first fetch synchronously.
func load(t *testing.T, m *Model) {
	t.Helper()
	cmd := m.Start()
	if cmd == nil {
		t.Fatal("Start fetched nothing")
	}
	m.Update(cmd())
}

func TestEnterOpensStatusOfSelected(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{})
	load(t, m)
	m.Update(vt.Key("down"))
	_, cmd := m.Update(vt.Key("enter"))
	got := cmd()
	want := views.OpenPaneMsg{Route: views.RouteStatus, Args: views.Args{Cluster: "orders-db"}}
	if got != want {
		t.Fatalf("enter sent %#v, want %#v", got, want)
	}
	if m.FocusedCluster() != "orders-db" {
		t.Fatalf("focused %q", m.FocusedCluster())
	}
}

func TestStaleAndStoppedResultsDropped(t *testing.T) {
	f := seeded(t)
	m := New(vt.Common(f), views.Args{})
	first := m.Start()
	second := m.List.Refresh() // a manual refresh overtakes the first request
	stale := first()
	m.Update(stale.(views.ResultMsg))
	if m.List.Loaded() {
		t.Fatal("a superseded result was applied")
	}
	m.Stop()
	m.Update(second())
	if m.List.Loaded() {
		t.Fatal("a result that arrived after Stop was applied")
	}
	cmd := m.Start()
	m.Update(cmd())
	if !m.List.Loaded() || len(m.List.Items()) != 2 {
		t.Fatalf("current result not applied: loaded=%v rows=%d", m.List.Loaded(), len(m.List.Items()))
	}
}

func TestNewKeyWorksWithoutClusters(t *testing.T) {
	m := New(vt.Common(fake.New()), views.Args{})
	load(t, m)
	_, cmd := m.Update(vt.Key("n"))
	if got := cmd(); got != (views.OpenPaneMsg{Route: views.RouteCreate}) {
		t.Fatalf("n sent %#v", got)
	}
	if _, cmd := m.Update(vt.Key("enter")); cmd != nil {
		t.Fatalf("enter on an empty list did something: %#v", cmd())
	}
}

func TestRows(t *testing.T) {
	got := rows([]backend.ClusterSummary{{Name: "a", State: "deployed", Region: "iad", Healthy: 1, Machines: 2},
		{Name: "b", State: "running", Platform: "hosts", Region: "hosts", Healthy: 3, Machines: 3, Leader: "n1"}})
	for i, want := range [][]string{{"a", "deployed", "local", "iad", "1/2", "-"}, {"b", "running", "hosts", "hosts", "3/3", "n1"}} {
		for j := range want {
			if got[i][j] != want[j] {
				t.Fatalf("rows = %v, want %v", got[i], want)
			}
		}
	}
	var _ tea.Model = (*vt.Host)(nil)
}

// TestClustersFilterGolden: `/` narrows the list as it is typed, the
// header shows the filter, enter keeps it, and esc clears it.
func TestClustersFilterGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{}))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "/", "text:ORD", "enter")
	vt.WaitFor(t, tm, "/ORD (esc clears)")
	vt.Golden(t, tm)
}

func TestFilterEscClearsThenEnterOpens(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{})
	load(t, m)
	m.Update(vt.Key("/"))
	if !m.Capturing() {
		t.Fatal("typing a filter does not capture keys")
	}
	for _, r := range "md" {
		m.Update(vt.Key(string(r)))
	}
	m.Update(vt.Key("enter"))
	if m.Capturing() || !m.TakesEsc() || m.FocusedCluster() != "md-postgres-500" {
		t.Fatalf("after enter: capturing=%v takesEsc=%v focused=%q", m.Capturing(), m.TakesEsc(), m.FocusedCluster())
	}
	_, cmd := m.Update(vt.Key("enter"))
	if got := cmd(); got != (views.OpenPaneMsg{Route: views.RouteStatus, Args: views.Args{Cluster: "md-postgres-500"}}) {
		t.Fatalf("enter on the filtered row sent %#v", got)
	}
	m.Update(vt.Key("esc"))
	if m.TakesEsc() || len(m.List.Items()) != 2 || !strings.Contains(m.View(), "orders-db") {
		t.Fatal("esc did not clear the filter")
	}
}

// TestMouseClickSelectsAndWheelScrolls: a click on a row (Y relative to
// the pane) selects it; the wheel moves the cursor.
func TestMouseClickSelectsAndWheelScrolls(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{})
	load(t, m)
	// "Clusters", blank, column header, md-postgres-500, orders-db.
	m.Update(tea.MouseMsg{X: 4, Y: 4, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.FocusedCluster() != "orders-db" {
		t.Fatalf("click on line 4 focused %q", m.FocusedCluster())
	}
	m.Update(tea.MouseMsg{Y: 4, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if m.FocusedCluster() != "md-postgres-500" {
		t.Fatalf("wheel up focused %q", m.FocusedCluster())
	}
	m.Update(tea.MouseMsg{X: 4, Y: 9, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.FocusedCluster() != "md-postgres-500" {
		t.Fatalf("a click below the rows moved the cursor to %q", m.FocusedCluster())
	}
}
