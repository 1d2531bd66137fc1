package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/pgtui/pgtui/backend/fake"
	vt "github.com/pgtui/pgtui/views/viewstest"
)

// run starts the whole cockpit at 80x24 over f.
func run(t *testing.T, f *fake.Backend) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, newModel(f), teatest.WithInitialTermSize(vt.Width, vt.Height))
}

// golden quits and compares the whole screen.
func golden(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	view := m.View()
	vt.RequireFits(t, view)
	if n := strings.Count(view, "\n") + 1; n != vt.Height {
		t.Fatalf("the screen is %d lines, want %d", n, vt.Height)
	}
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
}

func TestHomeScreen(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	golden(t, tm)
}

func TestStatusScreen(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "enter")
	vt.WaitFor(t, tm, "da8141e7  iad")
	golden(t, tm)
}

func TestHelpOverlay(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "enter")
	vt.WaitFor(t, tm, "da8141e7  iad")
	vt.Keys(tm, "?")
	vt.WaitFor(t, tm, "Keys: status")
	golden(t, tm)
}

func TestPaletteScreen(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, ":", "text:tim")
	vt.WaitFor(t, tm, "eline")
	golden(t, tm)
}

func TestCreateThenCredentials(t *testing.T) {
	tm := run(t, fake.New())
	vt.WaitFor(t, tm, "No clusters yet")
	vt.Keys(tm, "n")
	vt.WaitFor(t, tm, "Create a Postgres cluster")
	vt.Keys(tm, "text:md-postgres-500", "tab", "tab", "text:dfw", "ctrl+s")
	vt.WaitFor(t, tm, "won't be shown again")
	golden(t, tm)
}

func TestTimelineScreen(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "t")
	vt.WaitFor(t, tm, "observed")
	golden(t, tm)
}

func TestChecksAndLogsScreens(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "enter")
	vt.WaitFor(t, tm, "da8141e7  iad")
	vt.Keys(tm, "l")
	vt.WaitFor(t, tm, "exporter running on da8141e7")
	golden(t, tm)
}

func TestMetricsScreen(t *testing.T) {
	tm := run(t, seeded(t))
	vt.WaitFor(t, tm, "orders-db")
	vt.Keys(tm, "enter")
	vt.WaitFor(t, tm, "da8141e7  iad")
	vt.Keys(tm, "m")
	vt.WaitFor(t, tm, "60 samples")
	golden(t, tm)
}
