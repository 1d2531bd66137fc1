package wizard

import (
	"bytes"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
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

func TestWizardFormGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(fake.New()), views.Args{}))
	vt.WaitFor(t, tm, "Cluster size")
	vt.Golden(t, tm)
}

// The three classic mistakes, each explained under its field as typed.
func TestWizardValidationGolden(t *testing.T) {
	f := fake.New()
	tm := vt.Run(t, New(vt.Common(f), views.Args{}))
	vt.Keys(tm, "text:Bad_Name", "tab", "tab", "text:xyz", "tab", "tab", "ctrl+u", "text:0")
	vt.WaitFor(t, tm, "is not valid", "unknown region", "volume size 0 GB is out of range")
	vt.Keys(tm, "enter", "enter") // enter on the last field tries to create
	h := vt.Golden(t, tm)
	if len(f.Calls()) != 0 {
		t.Fatalf("invalid input reached the backend: %v (shell got %v)", f.Calls(), h.Shell)
	}
}

func TestWizardRegionSearchGolden(t *testing.T) {
	tm := vt.Run(t, New(vt.Common(fake.New()), views.Args{}))
	vt.Keys(tm, "tab", "tab", "text:lo", "down")
	vt.WaitFor(t, tm, "> lax  Los Angeles")
	vt.Golden(t, tm)
}

func TestWizardCredentialsGolden(t *testing.T) {
	f := fake.New()
	tm := vt.Run(t, New(vt.Common(f), views.Args{}))
	vt.Keys(tm, "text:md-postgres-500", "tab", "tab", "text:dfw", "ctrl+s")
	vt.WaitFor(t, tm, "won't be shown again")
	h := vt.Golden(t, tm)
	if f.Called("CreateCluster") != 1 {
		t.Fatalf("calls %v", f.Calls())
	}
	var creds bool
	for _, msg := range h.Shell {
		if msg, ok := msg.(views.CredentialsMsg); ok {
			creds = msg.Cluster == "md-postgres-500" && msg.Creds.Password == fake.SeedPassword
		}
	}
	if !creds {
		t.Fatalf("shell messages %#v: want the credentials", h.Shell)
	}
}

// filled is a wizard whose form holds a valid request.
func filled(t *testing.T, b backend.Backend) *Model {
	t.Helper()
	m := New(vt.Common(b), views.Args{})
	for _, r := range "md-postgres-500" {
		m.Update(vt.Key(string(r)))
	}
	return m
}

// TestMonitorGolden draws the monitor half way through a deployment:
// the fake delivers everything at once, so the events are fed by hand.
func TestMonitorGolden(t *testing.T) {
	m := filled(t, fake.New())
	m.SetSize(vt.Width, vt.Height)
	if cmd := m.submit(); cmd == nil {
		t.Fatal("a valid form did not start a deployment")
	}
	creds := &backend.Credentials{Username: "postgres", Password: fake.SeedPassword}
	for _, ev := range []backend.CreateEvent{
		{Step: "placed", Desired: 2, Credentials: creds},
		{Step: "progress", Desired: 2, Placed: 2, ChecksTotal: 6},
		{Step: "initdb", Machine: "6b97fa06", Message: "initdb done"},
		{Step: "healthy", Machine: "6b97fa06", Message: "machine 6b97fa06 healthy: checks passing (leader)"},
		{Step: "basebackup", Machine: "da8141e7", Message: "pg_basebackup from 6b97fa06"},
		{Step: "progress", Desired: 2, Placed: 2, Healthy: 1, ChecksTotal: 6, ChecksPassing: 3},
	} {
		m.mon.apply(ev)
	}
	teatest.RequireEqualOutput(t, []byte(m.View()+"\n"))
}

// run feeds a command's message (and what it leads to) back into the
// pane until the stream is idle, as the shell would; it returns every
// message meant for the shell.
func run(m *Model, cmd tea.Cmd) []tea.Msg {
	var shell []tea.Msg
	for queue := []tea.Cmd{cmd}; len(queue) > 0; queue = queue[1:] {
		if queue[0] == nil {
			continue
		}
		msg := queue[0]()
		if cmds := vt.Cmds(msg); cmds != nil {
			queue = append(queue, cmds...)
			continue
		}
		if r, ok := msg.(views.ResultMsg); ok {
			_, next := m.Update(r)
			queue = append(queue, next)
			continue
		}
		shell = append(shell, msg)
	}
	return shell
}

func TestFailedDeploymentReported(t *testing.T) {
	f := fake.New()
	f.CreateError = "machine 6b97fa06 never became healthy"
	m := filled(t, f)
	shell := run(m, m.submit())
	if m.step != stepMonitor || !m.mon.failed {
		t.Fatalf("step %d failed %v", m.step, m.mon.failed)
	}
	last, ok := shell[len(shell)-1].(views.ErrMsg)
	if !ok || !strings.Contains(last.Err.Error(), "never became healthy") {
		t.Fatalf("shell got %#v", shell)
	}
}

func TestTakenNameReturnsToForm(t *testing.T) {
	f := fake.New()
	vt.Seed(t, f, "md-postgres-500", 2)
	m := filled(t, f)
	shell := run(m, m.submit())
	if m.step != stepForm || len(shell) != 1 {
		t.Fatalf("step %d, shell %#v", m.step, shell)
	}
}

func TestClosedWizardDropsStream(t *testing.T) {
	m := filled(t, fake.New())
	started := m.submit()()
	m.Close()
	if _, cmd := m.Update(started); cmd != nil {
		t.Fatal("a result from before Close was used")
	}
}

func TestEscDuringDeployAsks(t *testing.T) {
	m := filled(t, fake.New())
	m.submit()
	if _, cmd := m.Update(vt.Key("esc")); cmd != nil || !m.modal.Active() {
		t.Fatal("esc while deploying left without asking")
	}
	if _, cmd := m.Update(vt.Key("y")); cmd == nil || cmd() != (views.BackMsg{}) {
		t.Fatal("yes did not leave")
	}
}

func TestCopyWritesOSC52(t *testing.T) {
	c := vt.Common(fake.New())
	m := New(c, views.Args{})
	for _, r := range "md-postgres-500" {
		m.Update(vt.Key(string(r)))
	}
	run(m, m.submit())
	if m.step != stepCreds {
		t.Fatalf("step %d", m.step)
	}
	_, cmd := m.Update(vt.Key("c"))
	if msg, ok := cmd().(views.FlashMsg); !ok || !strings.Contains(msg.Text, "Copied the connection URL") {
		t.Fatalf("copy answered %#v", msg)
	}
	if got := c.Clipboard.(*bytes.Buffer).String(); !strings.HasPrefix(got, "\x1b]52;c;") {
		t.Fatalf("clipboard got %q", got)
	}
}

func TestRegionMatching(t *testing.T) {
	f := newForm(views.MonoTheme())
	f.inputs[fRegion].SetValue("sy")
	if ms := f.regionMatches(); len(ms) != 1 || ms[0].Code != "syd" {
		t.Fatalf("sy matched %v", ms)
	}
	f.inputs[fRegion].SetValue("ord")
	if r, err := f.region(); err != nil || r.Code != "ord" {
		t.Fatalf("exact code: %v %v", r, err)
	}
}
