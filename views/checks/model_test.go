package checks

import (
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
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
	vt.Seed(t, f, name, 2)
	return f
}

func TestChecksGolden(t *testing.T) {
	c := vt.Common(seeded(t))
	c.Clock = fake.CheckTime // when the fake's checks were last run
	tm := vt.Run(t, New(c, views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "role")
	vt.Keys(tm, "down")
	vt.WaitFor(t, tm, "pg on 6b97fa06")
	vt.Golden(t, tm)
}

func TestStaleChecksDropped(t *testing.T) {
	f := seeded(t)
	m := New(vt.Common(f), views.Args{Cluster: name})
	first := m.Start()
	m.Stop()
	m.Update(first())
	if m.List.Loaded() {
		t.Fatal("a result that landed after Stop was used")
	}
	m.Update(m.Start()())
	if !m.List.Loaded() || !strings.Contains(m.View(), "vm on 6b97fa06") {
		t.Fatalf("view:\n%s", m.View())
	}
}

// TestChecksFilterGolden: the filter keeps the checks whose cells match
// (here one check name across machines) and the detail follows it.
func TestChecksFilterGolden(t *testing.T) {
	c := vt.Common(seeded(t))
	c.Clock = fake.CheckTime
	tm := vt.Run(t, New(c, views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "role")
	vt.Keys(tm, "/", "text:pg", "enter")
	vt.WaitFor(t, tm, "/pg (esc clears)")
	vt.Golden(t, tm)
}
