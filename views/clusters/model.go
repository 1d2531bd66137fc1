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
	c        views.Common
	keys     KeyMap
	table    views.Table
	poll     views.Poller
	clusters []backend.ClusterSummary
	loaded   bool
}

var _ views.Pane = (*Model)(nil)

// New builds the pane; it reads the backend once Start is called.
func New(c views.Common, _ views.Args) *Model {
	return &Model{c: c, keys: NewKeyMap(),
		table: views.Table{Theme: c.Theme, Columns: columns},
		poll:  views.Poller{PaneID: c.PaneID, Every: refreshEvery}}
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins polling the list.
func (m *Model) Start() tea.Cmd { return m.poll.Start(list(m.c.Backend)) }

// Stop ends polling; late results are dropped.
func (m *Model) Stop() { m.poll.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "clusters" }

// Capturing is false: the list never holds text input.
func (m *Model) Capturing() bool { return false }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding { return m.keys.ShortHelp() }

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }

// FocusedCluster is the cluster under the cursor.
func (m *Model) FocusedCluster() string {
	if row := m.table.Selected(); row != nil {
		return row[0]
	}
	return ""
}

// Update handles keys and list results.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case views.ResultMsg:
		return m, m.onResult(msg)
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	return m, nil
}

func (m *Model) onResult(r views.ResultMsg) tea.Cmd {
	if !m.poll.Current(r) {
		return nil
	}
	switch msg := r.Msg.(type) {
	case views.PollTick:
		return m.poll.Fetch(list(m.c.Backend))
	case listMsg:
		next := m.poll.Landed()
		if msg.err != nil {
			return tea.Batch(next, views.Err(msg.err))
		}
		m.clusters, m.loaded = msg.clusters, true
		m.table.SetRows(rows(msg.clusters))
		return next
	}
	return nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	selected := m.FocusedCluster()
	switch {
	case key.Matches(k, m.keys.Up):
		m.table.Up()
	case key.Matches(k, m.keys.Down):
		m.table.Down()
	case key.Matches(k, m.keys.Refresh):
		if !m.poll.Busy() {
			return m.poll.Fetch(list(m.c.Backend))
		}
	case key.Matches(k, m.keys.Create):
		return views.Open(views.RouteCreate, views.Args{})
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
	case !m.loaded:
		return m.c.Theme.Dim.Render("Loading clusters…")
	case len(m.clusters) == 0:
		return "No clusters yet.\n\n" + m.c.Theme.Dim.Render("Press "+m.keys.Create.Help().Key+" to create one.")
	}
	return m.table.View(m.c.Width, m.c.Height)
}
