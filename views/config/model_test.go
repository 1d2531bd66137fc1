package config

import (
	"os"
	"strings"
	"testing"

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

func seeded(t *testing.T) *fake.Backend {
	f := fake.New()
	vt.Seed(t, f, name, 2)
	return f
}

func TestConfigGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(seeded(t)), views.Args{Cluster: name}))
	vt.WaitFor(t, tm, "max lag")
	vt.Keys(tm, "enter")
	vt.WaitFor(t, tm, "Turn TLS off for "+name+"?")
	vt.Golden(t, tm)
}

func loaded(t *testing.T, f *fake.Backend) *Model {
	m := New(vt.Common(f), views.Args{Cluster: name})
	m.SetSize(vt.Width, vt.Height)
	m.Update(m.Start()())
	return m
}

// TestTLSChangeAsksFirst: enter on TLS opens a confirm dialog; no
// answers nothing, yes changes it.
func TestTLSChangeAsksFirst(t *testing.T) {
	f := seeded(t)
	m := loaded(t, f)
	m.Update(vt.Key("enter"))
	if !m.Capturing() {
		t.Fatal("no dialog")
	}
	m.Update(vt.Key("n"))
	if m.Capturing() {
		t.Fatal("no changed the setting or left the dialog open")
	}
	m.Update(vt.Key("enter"))
	_, cmd := m.Update(vt.Key("y"))
	done := vt.Task(t, cmd)
	if c := changed(t, done); c.SSL {
		t.Fatalf("TLS still on after the change: %+v", c)
	}
}

// changed is the configuration a finished change answered.
func changed(t *testing.T, done views.TaskDoneMsg) *backend.ClusterConfig {
	t.Helper()
	if done.Err != nil {
		t.Fatal(done.Err)
	}
	c, ok := done.Result.(views.ResultMsg).Msg.(views.TaskResult).Value.(*backend.ClusterConfig)
	if !ok {
		t.Fatalf("task answered %#v", done.Result)
	}
	return c
}

// TestThresholdPromptValidates: a bad percentage keeps the prompt open
// with the error; a good one is sent.
func TestThresholdPromptValidates(t *testing.T) {
	f := seeded(t)
	m := loaded(t, f)
	m.Update(vt.Key("down"))
	m.Update(vt.Key("enter"))
	for _, r := range "99" {
		m.Update(vt.Key(string(r)))
	}
	m.Update(vt.Key("enter"))
	if !m.Capturing() || !strings.Contains(m.View(), "from 0 (never)") {
		t.Fatalf("view:\n%s", m.View())
	}
	m.Update(vt.Key("backspace"))
	m.Update(vt.Key("backspace"))
	m.Update(vt.Key("5"))
	_, cmd := m.Update(vt.Key("enter"))
	if c := changed(t, vt.Task(t, cmd)); c.ReadOnlyBelowPct != 5 {
		t.Fatalf("threshold %g after setting 5", c.ReadOnlyBelowPct)
	}
}

// TestFixedRowsHaveNoChangeKey: read-only now and replication are shown,
// not changed.
func TestFixedRowsHaveNoChangeKey(t *testing.T) {
	m := loaded(t, seeded(t))
	m.Update(vt.Key("down"))
	m.Update(vt.Key("down"))
	if m.keys.Edit.Enabled() {
		t.Fatal("change offered on read-only now")
	}
	m.Update(vt.Key("enter"))
	if m.Capturing() {
		t.Fatal("enter on a fixed row opened a dialog")
	}
}
