// Package checks lists every machine's health checks (vm, pg, role) as
// `pgtui checks list` does, with the selected check's full output.
package checks

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the checks poll interval.
const RefreshEvery = 5 * time.Second

// Model is the checks pane of one cluster.
type Model struct {
	*views.List[backend.Check]
	c       views.Common
	cluster string
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the checks pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster}
	m.List = views.NewList(c, views.ListSpec[[]backend.Check, backend.Check]{
		Columns: columns, Every: RefreshEvery, Fetch: fetch(c.Backend, args.Cluster),
		Rows:  func(cs []backend.Check) [][]string { return rows(cs, m.c.Clock()) },
		Style: m.cellStyle,
		Head:  func() string { return c.Theme.Header.Render("Health checks of " + args.Cluster) },
		Tail:  m.detail})
	return m
}

// Title names the pane.
func (m *Model) Title() string { return "checks " + m.cluster }

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
	cmd, _ := m.List.Update(msg)
	return m, cmd
}

// detail is the selected check's full output under the table.
func (m *Model) detail() string {
	c, ok := m.Selected()
	if !ok {
		return ""
	}
	t := m.c.Theme
	lines := []string{"", "", t.Header.Render(c.Name + " on " + c.Machine)}
	for _, l := range c.Output {
		lines = append(lines, "  "+views.Truncate(l, m.Width()-2))
	}
	return strings.Join(lines, "\n")
}

// View draws the checks and the selected one's output.
func (m *Model) View() string {
	switch {
	case !m.Loaded():
		return m.c.Theme.Dim.Render("Loading checks of " + m.cluster + "…")
	case len(m.Items()) == 0:
		return "No health checks reported yet."
	}
	return m.List.View()
}
