package clusters

import (
	"os"
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
	second := m.poll.Fetch(list(f)) // a manual refresh overtakes the first request
	stale := first()
	m.Update(stale.(views.ResultMsg))
	if m.loaded {
		t.Fatal("a superseded result was applied")
	}
	m.Stop()
	m.Update(second())
	if m.loaded {
		t.Fatal("a result that arrived after Stop was applied")
	}
	cmd := m.Start()
	m.Update(cmd())
	if !m.loaded || len(m.table.Rows) != 2 {
		t.Fatalf("current result not applied: loaded=%v rows=%d", m.loaded, len(m.table.Rows))
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
