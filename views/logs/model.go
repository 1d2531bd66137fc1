// Package logs follows a cluster's log lines (every process of every
// machine) as `pgtui logs` does, keeping the newest in a bounded buffer.
package logs

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// keep is how many lines the pane holds.
const keep = 5000

// Model is the logs pane of one cluster.
type Model struct {
	c        views.Common
	cluster  string
	keys     KeyMap
	buf      *ring
	machines []string // in order of first line
	machine  string   // "" = all
	paused   bool
	scroll   int // lines up from the newest while paused
	drain    views.Drain[backend.LogLine]
	filter   views.Filter // by text: process, level and message
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the logs pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	return &Model{c: c, cluster: args.Cluster, keys: NewKeyMap(), buf: newRing(keep),
		drain:  views.Drain[backend.LogLine]{PaneID: c.PaneID, Max: drainMax},
		filter: views.NewFilter(c.Theme)}
}

// Init does nothing: Start opens the stream.
func (m *Model) Init() tea.Cmd { return nil }

// Start opens the stream afresh (the backend replays recent lines).
func (m *Model) Start() tea.Cmd {
	m.buf.reset()
	return m.drain.Open(open(m.c.Backend, m.cluster))
}

// Stop ends the stream; lines still in flight are dropped.
func (m *Model) Stop() { m.drain.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "logs " + m.cluster }

// Capturing is true while the filter is typed.
func (m *Model) Capturing() bool { return m.filter.Typing() }

// TakesEsc is true while a filter is set: esc clears it.
func (m *Model) TakesEsc() bool { return m.filter.Set() }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding {
	if m.filter.Typing() {
		return m.filter.Keys()
	}
	return append(m.keys.ShortHelp(), m.filter.Keys()...)
}

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding {
	return append(m.keys.FullHelp(), m.filter.Keys())
}

// Update handles the stream and keys.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if lines, cmd, ok := m.drain.Update(msg); ok {
		for _, l := range lines {
			m.add(l)
		}
		return m, cmd
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		m.onKey(k)
	}
	return m, nil
}

func (m *Model) add(l backend.LogLine) {
	if !contains(m.machines, l.Machine) {
		m.machines = append(m.machines, l.Machine)
	}
	m.buf.add(l)
	if m.paused {
		m.scroll++
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (m *Model) onKey(k tea.KeyMsg) {
	if handled, changed := m.filter.Update(k); handled {
		if changed {
			m.scroll = 0
		}
		return
	}
	switch {
	case key.Matches(k, m.keys.Pause):
		m.paused = !m.paused
		m.scroll = 0
	case key.Matches(k, m.keys.Up):
		m.paused = true
		m.scroll = min(m.scroll+1, max(m.buf.n-1, 0))
	case key.Matches(k, m.keys.Down):
		m.scroll = max(m.scroll-1, 0)
	case key.Matches(k, m.keys.Machine):
		m.machine = nextMachine(m.machines, m.machine)
		m.scroll = 0
	}
}

// nextMachine cycles "" (all) -> each machine -> "".
func nextMachine(ms []string, cur string) string {
	if cur == "" {
		if len(ms) == 0 {
			return ""
		}
		return ms[0]
	}
	for i, id := range ms {
		if id == cur && i+1 < len(ms) {
			return ms[i+1]
		}
	}
	return ""
}

// View draws the newest lines that fit (or older ones while scrolled).
func (m *Model) View() string {
	t := m.c.Theme
	which := "all machines"
	if m.machine != "" {
		which = "machine " + m.machine
	}
	state := "following"
	switch {
	case m.drain.Ended():
		state = "stream ended"
	case m.paused:
		state = "paused"
	}
	head := t.Header.Render(fmt.Sprintf("Logs of %s", m.cluster)) + t.Dim.Render(fmt.Sprintf("  %s, %s", which, state))
	if f := m.filter.View(); f != "" {
		head += "  " + f
	}
	room := max(m.c.Height-2, 1)
	lines := m.buf.window(m.scroll, room, m.keep)
	out := make([]string, 0, 2+len(lines))
	out = append(out, head, "")
	for _, l := range lines {
		out = append(out, views.Truncate(format(l), m.c.Width))
	}
	if len(lines) == 0 {
		out = append(out, t.Dim.Render("No log lines yet."))
	}
	return strings.Join(out, "\n")
}

// keep reports whether a line passes the machine choice and the filter
// (its process, level and message).
func (m *Model) keep(l *backend.LogLine) bool {
	if m.machine != "" && l.Machine != m.machine {
		return false
	}
	// Joined only when a filter is set: without one a line costs nothing.
	return m.filter.Value() == "" || m.filter.Match(l.Proc+" "+l.Level+" "+l.Message)
}

// format is a log line for an 80-column screen: time, machine, process,
// level, message.
func format(l backend.LogLine) string {
	level := l.Level
	if level == "" {
		level = "info"
	}
	return fmt.Sprintf("%s %s %-8s [%s] %s", l.Time.Format("15:04:05"), l.Machine, l.Proc, level,
		strings.ReplaceAll(l.Message, "\n", "↩︎"))
}
