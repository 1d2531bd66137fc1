package backups

import (
	"os"
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

// TestBackupsGolden: the list with the restorable window, after a full
// backup taken with b.
func TestBackupsGolden(t *testing.T) {
	f := seeded(t)
	tm := vt.Run(t, New(vt.Common(f), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "Restorable from")
	vt.Keys(tm, "b")
	vt.WaitFor(t, tm, "F  full")
	vt.Golden(t, tm)
}

// TestRestoreWizardGolden: the wizard shows the window and refuses a
// time outside it (the backend's check) without creating anything.
func TestRestoreWizardGolden(t *testing.T) {
	f := seeded(t)
	tm := vt.Run(t, New(vt.Common(f), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "Restorable from")
	vt.Keys(tm, "R")
	vt.WaitFor(t, tm, "Restore "+name+" into a new cluster")
	vt.Golden(t, tm)
}

func TestParse(t *testing.T) {
	if r, err := parse(name, []string{"copy", "", ""}); err != nil || !r.Latest {
		t.Fatalf("empty time and backup: %+v %v, want latest", r, err)
	}
	if r, err := parse(name, []string{"copy", "2026-12-02 10:00:00+00", ""}); err != nil || r.Time.IsZero() {
		t.Fatalf("time: %+v %v", r, err)
	}
	if _, err := parse(name, []string{"copy", "2026-12-02 10:00:00+00", "20210210-232121F"}); err == nil {
		t.Fatal("time and backup both accepted")
	}
	if _, err := parse(name, []string{name, "", ""}); err == nil {
		t.Fatal("restore into the source accepted")
	}
}
