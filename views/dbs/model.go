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
	*views.List[backend.Database]
	c       views.Common
	cluster string
	keys    KeyMap
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the databases pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap()}
	m.List = views.NewList(c, views.ListSpec[[]backend.Database, backend.Database]{
		Columns: columns, Every: refreshEvery, Fetch: list(c.Backend, args.Cluster), Rows: rows,
		Head: func() string { return c.Theme.Header.Render("Databases of " + args.Cluster) },
		Keys: m.keys})
	return m
}

// Title names the pane.
func (m *Model) Title() string { return "dbs " + m.cluster }

// Update handles keys, the list and finished tasks.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if _, ok := r.Msg.(views.TaskResult); ok {
			return m, m.Refresh()
		}
	}
	if cmd, ok := m.List.Update(msg); ok {
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
		m.Ask(p, func() tea.Cmd { return create(b, id, c, name) })
	case key.Matches(k, m.keys.Drop):
		if d, ok := m.Selected(); ok {
			m.Ask(views.NewTypeConfirm(m.c.Theme,
				fmt.Sprintf("Drop database %s from %s? Its data is deleted.", d.Name, c), d.Name),
				func() tea.Cmd { return drop(b, id, c, d.Name) })
		}
	}
	return nil
}

// View draws the list and any open dialog.
func (m *Model) View() string {
	if !m.Loaded() {
		return m.c.Theme.Dim.Render("Loading databases of " + m.cluster + "…")
	}
	return m.List.View()
}
