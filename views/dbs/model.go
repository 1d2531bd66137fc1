// Package dbs lists a cluster's databases as `postgres db list` does,
// and creates and drops them (dropping asks for the name).
package dbs

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

const refreshEvery = 5 * time.Second

// Model is the databases pane of one cluster.
type Model struct {
	c       views.Common
	cluster string
	keys    KeyMap
	table   views.Table
	poll    views.Poller
	loaded  bool
	modal   views.Modal
}

var _ views.Pane = (*Model)(nil)

// New builds the databases pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	return &Model{c: c, cluster: args.Cluster, keys: NewKeyMap(),
		table: views.Table{Theme: c.Theme, Columns: columns},
		poll:  views.Poller{PaneID: c.PaneID, Every: refreshEvery}}
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins refreshing the list.
func (m *Model) Start() tea.Cmd { return m.poll.Start(list(m.c.Backend, m.cluster)) }

// Stop ends refreshing.
func (m *Model) Stop() { m.poll.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "dbs " + m.cluster }

// Capturing is true while the prompt or a dialog is open.
func (m *Model) Capturing() bool { return m.modal.Active() }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding {
	if m.modal.Active() {
		return views.NewDialogKeys().ShortHelp()
	}
	return m.keys.ShortHelp()
}

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }

// Update handles keys, the list and finished tasks.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case views.ResultMsg:
		return m, m.onResult(msg)
	case tea.KeyMsg:
		if m.modal.Active() {
			return m, m.modal.Update(msg)
		}
		return m, m.onKey(msg)
	}
	return m, nil
}

func (m *Model) onResult(r views.ResultMsg) tea.Cmd {
	if _, ok := r.Msg.(views.TaskResult); ok {
		return m.poll.Fetch(list(m.c.Backend, m.cluster))
	}
	if !m.poll.Current(r) {
		return nil
	}
	switch msg := r.Msg.(type) {
	case views.PollTick:
		return m.poll.Fetch(list(m.c.Backend, m.cluster))
	case listMsg:
		next := m.poll.Landed()
		if msg.err != nil {
			return tea.Batch(next, views.Err(msg.err))
		}
		m.loaded = true
		m.table.SetRows(rows(msg.dbs))
		return next
	}
	return nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	b, id, c := m.c.Backend, m.c.PaneID, m.cluster
	switch {
	case key.Matches(k, m.keys.Up):
		m.table.Up()
	case key.Matches(k, m.keys.Down):
		m.table.Down()
	case key.Matches(k, m.keys.Refresh):
		if !m.poll.Busy() {
			return m.poll.Fetch(list(b, c))
		}
	case key.Matches(k, m.keys.Create):
		var name string
		p := views.NewPrompt(m.c.Theme, "New database on "+c,
			func(v []string) error { name = v[0]; return backend.ValidateIdentifier(name) },
			views.Field{Label: "Name"})
		m.modal.Open(p, func() tea.Cmd { return create(b, id, c, name) })
	case key.Matches(k, m.keys.Drop):
		if row := m.table.Selected(); row != nil {
			name := row[0]
			m.modal.Open(views.NewTypeConfirm(m.c.Theme,
				fmt.Sprintf("Drop database %s from %s? Its data is deleted.", name, c), name),
				func() tea.Cmd { return drop(b, id, c, name) })
		}
	}
	return nil
}

// View draws the list and any open dialog.
func (m *Model) View() string {
	t := m.c.Theme
	if !m.loaded {
		return t.Dim.Render("Loading databases of " + m.cluster + "…")
	}
	tail := m.modal.View(m.c.Width)
	used := 2 + lipgloss.Height(tail)
	return t.Header.Render("Databases of "+m.cluster) + "\n\n" + m.table.View(m.c.Width, max(m.c.Height-used, 2)) + tail
}
