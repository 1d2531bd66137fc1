// Package checks lists every machine's health checks (vm, pg, role) as
// `pgtui checks list` does, with the selected check's full output.
package checks

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the checks poll interval.
const RefreshEvery = 5 * time.Second

// Model is the checks pane of one cluster.
type Model struct {
	c       views.Common
	cluster string
	keys    KeyMap
	table   views.Table
	poll    views.Poller
	checks  []backend.Check
	loaded  bool
}

var _ views.Pane = (*Model)(nil)

// New builds the checks pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap(),
		table: views.Table{Theme: c.Theme, Columns: columns},
		poll:  views.Poller{PaneID: c.PaneID, Every: RefreshEvery}}
	m.table.CellStyle = m.cellStyle
	return m
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins polling.
func (m *Model) Start() tea.Cmd { return m.poll.Start(fetch(m.c.Backend, m.cluster)) }

// Stop ends polling; late results are dropped.
func (m *Model) Stop() { m.poll.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "checks " + m.cluster }

// Capturing is false: the list holds no text input.
func (m *Model) Capturing() bool { return false }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding { return m.keys.ShortHelp() }

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }

func (m *Model) cellStyle(row, col int) (lipgloss.Style, bool) {
	if col != statusCol || row >= len(m.checks) {
		return lipgloss.Style{}, false
	}
	switch m.checks[row].Status {
	case "passing":
		return m.c.Theme.Good, true
	case "warning":
		return m.c.Theme.Warning, true
	}
	return m.c.Theme.Bad, true
}

// Update handles keys and results.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case views.ResultMsg:
		if !m.poll.Current(msg) {
			return m, nil
		}
		switch r := msg.Msg.(type) {
		case views.PollTick:
			return m, m.poll.Fetch(fetch(m.c.Backend, m.cluster))
		case checksMsg:
			next := m.poll.Landed()
			if r.err != nil {
				return m, tea.Batch(next, views.Err(r.err))
			}
			m.checks, m.loaded = r.checks, true
			m.table.SetRows(rows(r.checks, m.c.Clock()))
			return m, next
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			m.table.Up()
		case key.Matches(msg, m.keys.Down):
			m.table.Down()
		case key.Matches(msg, m.keys.Refresh):
			if !m.poll.Busy() {
				return m, m.poll.Fetch(fetch(m.c.Backend, m.cluster))
			}
		}
	}
	return m, nil
}

// View draws the checks and the selected one's output.
func (m *Model) View() string {
	t := m.c.Theme
	switch {
	case !m.loaded:
		return t.Dim.Render("Loading checks of " + m.cluster + "…")
	case len(m.checks) == 0:
		return "No health checks reported yet."
	}
	detail := ""
	if m.table.Cursor < len(m.checks) {
		c := m.checks[m.table.Cursor]
		lines := []string{"", t.Header.Render(c.Name + " on " + c.Machine)}
		for _, l := range c.Output {
			lines = append(lines, "  "+views.Truncate(l, m.c.Width-2))
		}
		detail = strings.Join(lines, "\n")
	}
	head := t.Header.Render("Health checks of " + m.cluster)
	room := max(m.c.Height-2-lipgloss.Height(detail), 3)
	return head + "\n\n" + m.table.View(m.c.Width, room) + "\n" + detail
}
