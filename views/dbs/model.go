// Package dbs lists a cluster's databases as `postgres db list` does,
// and creates and drops them (dropping asks for the name).
package dbs

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

const refreshEvery = 5 * time.Second

// Model is the databases pane of one cluster.
type Model struct {
	c       views.Common
	cluster string
	keys    KeyMap
	list    *views.List[backend.Database]
	modal   views.Modal
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the databases pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap()}
	m.list = views.NewList(c, views.ListSpec[[]backend.Database, backend.Database]{
		Columns: columns, Every: refreshEvery, Fetch: list(c.Backend, args.Cluster), Rows: rows,
		Head: func() string { return c.Theme.Header.Render("Databases of " + args.Cluster) },
		Tail: func() string { return m.modal.View(m.c.Width) }})
	return m
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins refreshing the list.
func (m *Model) Start() tea.Cmd { return m.list.Start() }

// Stop ends refreshing.
func (m *Model) Stop() { m.list.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "dbs " + m.cluster }

// Capturing is true while the filter is typed or a dialog is open.
func (m *Model) Capturing() bool { return m.modal.Active() || m.list.Capturing() }

// TakesEsc is true while a filter is set.
func (m *Model) TakesEsc() bool { return m.list.TakesEsc() }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h; m.list.SetSize(w, h) }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding {
	if m.modal.Active() {
		return views.NewDialogKeys().ShortHelp()
	}
	return m.list.ShortHelp(m.keys.ShortHelp()...)
}

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding {
	return append([][]key.Binding{m.list.HelpGroup()}, m.keys.FullHelp()...)
}

// Update handles keys, the list and finished tasks.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && m.modal.Active() {
		return m, m.modal.Update(k)
	}
	if r, ok := msg.(views.ResultMsg); ok {
		if _, ok := r.Msg.(views.TaskResult); ok {
			return m, m.list.Refresh()
		}
	}
	if cmd, ok := m.list.Update(msg); ok {
		return m, cmd
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		return m, m.onKey(k)
	}
	return m, nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	b, id, c := m.c.Backend, m.c.PaneID, m.cluster
	switch {
	case key.Matches(k, m.keys.Create):
		var name string
		p := views.NewPrompt(m.c.Theme, "New database on "+c,
			func(v []string) error { name = v[0]; return backend.ValidateIdentifier(name) },
			views.Field{Label: "Name"})
		m.modal.Open(p, func() tea.Cmd { return create(b, id, c, name) })
	case key.Matches(k, m.keys.Drop):
		if d, ok := m.list.Selected(); ok {
			m.modal.Open(views.NewTypeConfirm(m.c.Theme,
				fmt.Sprintf("Drop database %s from %s? Its data is deleted.", d.Name, c), d.Name),
				func() tea.Cmd { return drop(b, id, c, d.Name) })
		}
	}
	return nil
}

// View draws the list and any open dialog.
func (m *Model) View() string {
	if !m.list.Loaded() {
		return m.c.Theme.Dim.Render("Loading databases of " + m.cluster + "…")
	}
	return m.list.View()
}
