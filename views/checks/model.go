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
	list    *views.List[backend.Check]
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the checks pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster}
	m.list = views.NewList(c, views.ListSpec[[]backend.Check, backend.Check]{
		Columns: columns, Every: RefreshEvery, Fetch: fetch(c.Backend, args.Cluster),
		Rows:  func(cs []backend.Check) [][]string { return rows(cs, m.c.Clock()) },
		Style: m.cellStyle,
		Head:  func() string { return c.Theme.Header.Render("Health checks of " + args.Cluster) },
		Tail:  m.detail})
	return m
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins polling.
func (m *Model) Start() tea.Cmd { return m.list.Start() }

// Stop ends polling; late results are dropped.
func (m *Model) Stop() { m.list.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "checks " + m.cluster }

// Capturing is true while the filter is typed.
func (m *Model) Capturing() bool { return m.list.Capturing() }

// TakesEsc is true while a filter is set.
func (m *Model) TakesEsc() bool { return m.list.TakesEsc() }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h; m.list.SetSize(w, h) }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding { return m.list.ShortHelp(m.list.Keys.Up, m.list.Keys.Down) }

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.list.HelpGroup()} }

func (m *Model) cellStyle(c backend.Check, col int) (lipgloss.Style, bool) {
	if col != statusCol {
		return lipgloss.Style{}, false
	}
	switch c.Status {
	case "passing":
		return m.c.Theme.Good, true
	case "warning":
		return m.c.Theme.Warning, true
	}
	return m.c.Theme.Bad, true
}

// Update handles keys and results.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	cmd, _ := m.list.Update(msg)
	return m, cmd
}

// detail is the selected check's full output under the table.
func (m *Model) detail() string {
	c, ok := m.list.Selected()
	if !ok {
		return ""
	}
	t := m.c.Theme
	lines := []string{"", "", t.Header.Render(c.Name + " on " + c.Machine)}
	for _, l := range c.Output {
		lines = append(lines, "  "+views.Truncate(l, m.c.Width-2))
	}
	return strings.Join(lines, "\n")
}

// View draws the checks and the selected one's output.
func (m *Model) View() string {
	switch {
	case !m.list.Loaded():
		return m.c.Theme.Dim.Render("Loading checks of " + m.cluster + "…")
	case len(m.list.Items()) == 0:
		return "No health checks reported yet."
	}
	return m.list.View()
}
