// Package viewstest runs one pane as a whole program for tests: a
// minimal stand-in for the tui shell that sizes the pane, routes its
// results back to it and records what it asks of the shell. Goldens are
// drawn at 80x24 with a fixed clock over backend/fake.
package viewstest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
	"github.com/pgtui/pgtui/views"
)

// Width and Height are the terminal every golden is drawn in.
const Width, Height = 80, 24

// Now is the fixed clock: ninety minutes after the fake's first machine.
func Now() time.Time { return fake.Epoch().Add(90 * time.Minute) }

// Common is a pane's Common over b with the default theme and the
// fixed clock; Clipboard collects copies.
func Common(b backend.Backend) views.Common {
	return views.Common{Theme: views.DefaultTheme(), Backend: b, Clock: Now, Width: Width, Height: Height,
		PaneID: 1, Clipboard: &bytes.Buffer{}}
}

// Seed adds a deployed cluster to f, as `postgres create` would.
func Seed(t testing.TB, f *fake.Backend, name string, size int) {
	t.Helper()
	req := backend.CreateRequest{Name: name, Org: "personal", Region: "iad", VMSize: "shared-cpu-1x",
		VolumeGB: 10, InitialClusterSize: size}
	if _, err := f.AddCluster(req); err != nil {
		t.Fatal(err)
	}
}

// Host runs a pane as a tea.Model.
type Host struct {
	Pane views.Pane
	// Shell is every message the pane sent to the shell, in order.
	Shell []tea.Msg
}

// Init starts the pane as the shell does when it is pushed.
func (h *Host) Init() tea.Cmd { return tea.Batch(h.Pane.Init(), h.Pane.Start()) }

// Update routes a message as the shell would.
func (h *Host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.Pane.SetSize(msg.Width, msg.Height)
		return h, nil
	case views.TaskDoneMsg:
		h.Shell = append(h.Shell, msg)
		if msg.Result != nil {
			return h.forward(msg.Result)
		}
		return h, nil
	case views.ErrMsg, views.FlashMsg, views.OpenPaneMsg, views.BackMsg, views.PSQLMsg,
		views.CredentialsMsg, views.TaskStartMsg:
		h.Shell = append(h.Shell, msg)
		return h, nil
	}
	return h.forward(msg)
}

func (h *Host) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	h.Pane, cmd = h.Pane.Update(msg)
	return h, cmd
}

// View is the pane's view with, under it, the last error or notice the
// pane sent to the shell's status line.
func (h *Host) View() string {
	status := ""
	for _, msg := range h.Shell {
		switch msg := msg.(type) {
		case views.ErrMsg:
			status = "error: " + msg.Err.Error()
		case views.FlashMsg:
			status = msg.Text
		case views.TaskDoneMsg:
			status = msg.Text
			if msg.Err != nil {
				status = "error: " + msg.Err.Error()
			}
		}
	}
	if status == "" {
		return h.Pane.View()
	}
	return h.Pane.View() + "\n\n[status] " + status
}

// Run starts p at 80x24.
func Run(t *testing.T, p views.Pane) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, &Host{Pane: p}, teatest.WithInitialTermSize(Width, Height))
}

// WaitFor waits until the program has drawn every one of texts.
func WaitFor(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, s := range texts {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// Final quits the program and returns its host (for the shell messages)
// and its last view.
func Final(t *testing.T, tm *teatest.TestModel) (*Host, string) {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	h := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Host)
	return h, h.View()
}

// Golden compares the final view with testdata/<TestName>.golden.
func Golden(t *testing.T, tm *teatest.TestModel) *Host {
	t.Helper()
	h, view := Final(t, tm)
	RequireFits(t, h.Pane.View())
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
	return h
}

// RequireFits fails when view does not fit the 80x24 terminal.
func RequireFits(t *testing.T, view string) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > Height {
		t.Errorf("view is %d lines, more than %d", len(lines), Height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > Width {
			t.Errorf("line %d is %d cells wide: %q", i+1, w, l)
		}
	}
}

// Keys sends each key name (as tea.KeyMsg) in order: "enter", "esc",
// "up", single runes, or "text:..." to type a string.
func Keys(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		if s, ok := strings.CutPrefix(k, "text:"); ok {
			tm.Type(s)
			continue
		}
		tm.Send(Key(k))
	}
}

// Key builds the tea.KeyMsg a terminal sends for a key name.
func Key(name string) tea.KeyMsg { return views.KeyMsg(name) }

// Task runs a command made by views.RunTask (a start/run sequence) to
// its end and returns how it finished.
func Task(t *testing.T, cmd tea.Cmd) views.TaskDoneMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no task command")
	}
	for _, c := range Cmds(cmd()) {
		if done, ok := c().(views.TaskDoneMsg); ok {
			return done
		}
	}
	t.Fatal("the command ran no task")
	return views.TaskDoneMsg{}
}

// Cmds unpacks a batch or sequence message into its commands (tea keeps
// the sequence type unexported, hence reflection); any other message
// yields nothing.
func Cmds(msg tea.Msg) []tea.Cmd {
	if b, ok := msg.(tea.BatchMsg); ok {
		return b
	}
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Slice || v.Type().Elem() != reflect.TypeOf(tea.Cmd(nil)) {
		return nil
	}
	out := make([]tea.Cmd, v.Len())
	for i := range out {
		out[i] = v.Index(i).Interface().(tea.Cmd)
	}
	return out
}
