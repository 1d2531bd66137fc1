package machine

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

// TestMachineGolden: state and limits, the machine's checks, its events
// and its newest log lines.
func TestMachineGolden(t *testing.T) {
	c := vt.Common(seeded(t))
	c.Clock = fake.CheckTime
	tm := vt.Run(t, New(c, views.Args{Cluster: name, Machine: "6b97fa06"}))
	vt.WaitFor(t, tm, "Recent logs", "exporter running on 6b97fa06")
	vt.Golden(t, tm)
}

func TestUnknownMachineReported(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{Cluster: name, Machine: "ffffffff"})
	m.SetSize(vt.Width, vt.Height)
	_, cmd := m.Update(m.Start()())
	cmds := vt.Cmds(cmd()) // the next tick, then the error
	var errText string
	if e, ok := cmds[len(cmds)-1]().(views.ErrMsg); ok {
		errText = e.Err.Error()
	}
	if !strings.Contains(errText, "machine ffffffff of "+name) {
		t.Fatalf("error %q", errText)
	}
	if !strings.Contains(m.View(), "Loading machine ffffffff") {
		t.Fatalf("view:\n%s", m.View())
	}
}

// TestStoppedAnswerDropped: an answer that lands after Stop is dropped.
func TestStoppedAnswerDropped(t *testing.T) {
	m := New(vt.Common(seeded(t)), views.Args{Cluster: name, Machine: "6b97fa06"})
	first := m.Start()
	m.Stop()
	m.Update(first())
	if m.d != nil {
		t.Fatal("an answer after Stop was taken")
	}
}
