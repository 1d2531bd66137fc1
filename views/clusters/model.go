// Package clusters is the cockpit's home pane: every cluster with its
// state, region, healthy machines and leader.
package clusters

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// refreshEvery is how often the list is re-read while shown.
const refreshEvery = 5 * time.Second

// Model is the clusters pane.
type Model struct {
	*views.List[backend.ClusterSummary]
	c    views.Common
	keys KeyMap
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the pane; it reads the backend once Start is called.
func New(c views.Common, _ views.Args) *Model {
	m := &Model{c: c, keys: NewKeyMap()}
	m.List = views.NewList(c, views.ListSpec[[]backend.ClusterSummary, backend.ClusterSummary]{
		Columns: columns, Every: refreshEvery, Fetch: list(c.Backend), Rows: rows,
		Head: func() string { return c.Theme.Header.Render("Clusters") }, Keys: m.keys})
	return m
}

// Title names the pane.
func (m *Model) Title() string { return "clusters" }

// FocusedCluster is the cluster under the cursor.
func (m *Model) FocusedCluster() string {
	if c, ok := m.Selected(); ok {
		return c.Name
	}
	return ""
}

// Update handles keys and list results.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if cmd, ok := m.List.Update(msg); ok {
		return m, cmd
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		return m, m.onKey(k)
	}
	return m, nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	selected := m.FocusedCluster()
	switch {
	case key.Matches(k, m.keys.Create):
		return views.Open(views.RouteCreate, views.Args{})
	case key.Matches(k, m.keys.Apps):
		return views.Open(views.RouteApps, views.Args{})
	case selected == "":
		return nil
	case key.Matches(k, m.keys.Open):
		return views.Open(views.RouteStatus, views.Args{Cluster: selected})
	case key.Matches(k, m.keys.Users):
		return views.Open(views.RouteUsers, views.Args{Cluster: selected})
	case key.Matches(k, m.keys.DBs):
		return views.Open(views.RouteDBs, views.Args{Cluster: selected})
	case key.Matches(k, m.keys.Timeline):
		return views.Open(views.RouteTimeline, views.Args{Cluster: selected})
	}
	return nil
}

// View draws the list, or what stands in for it.
func (m *Model) View() string {
	switch {
	case !m.Loaded():
		return m.c.Theme.Dim.Render("Loading clusters…")
	case len(m.Items()) == 0:
		return "No clusters yet.\n\n" + m.c.Theme.Dim.Render("Press "+m.keys.Create.Help().Key+" to create one.")
	}
	return m.List.View()
}
