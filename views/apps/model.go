// Package apps lists the apps (`apps list`) with the selected one's
// secrets by name and digest (`secrets list`), and attaches an app to a
// cluster or detaches it (`postgres attach|detach`).
package apps

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the list's poll interval.
const RefreshEvery = 5 * time.Second

// KeyMap is the apps pane's keys; detach, which drops a user, asks for
// the cluster's name first.
type KeyMap struct {
	Attach key.Binding
	Detach key.Binding
}

// ShortHelp is the pane's part of the footer.
func (k *KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Attach, k.Detach} }

// FullHelp is the pane's column of the help overlay.
func (k *KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Attach, k.Detach}} }

// Model is the apps pane.
type Model struct {
	*views.List[app]
	c    views.Common
	keys KeyMap
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

var columns = []string{"Name", "Org", "Kind", "Secrets", "Created"}

// New builds the apps pane.
func New(c views.Common, _ views.Args) *Model {
	m := &Model{c: c, keys: KeyMap{
		Attach: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "attach to cluster")),
		Detach: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "detach from cluster")),
	}}
	m.List = views.NewList(c, views.ListSpec[[]app, app]{
		Columns: columns, Every: RefreshEvery, Fetch: fetch(c.Backend), Rows: rows,
		Head: func() string { return c.Theme.Header.Render("Apps") },
		Tail: m.secrets, Keys: &m.keys})
	return m
}

func rows(as []app) [][]string {
	out := make([][]string, len(as))
	for i, a := range as {
		kind, secrets := "app", strconv.Itoa(len(a.secrets))
		if a.Postgres {
			kind, secrets = "postgres", "-"
		}
		out[i] = []string{a.Name, a.Org, kind, secrets, a.Created.Format("2006-01-02 15:04")}
	}
	return out
}

// Title names the pane.
func (m *Model) Title() string { return "apps" }

// Update handles keys, answers and finished attaches.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if tr, ok := r.Msg.(views.TaskResult); ok {
			cmd := m.Refresh()
			if v, ok := tr.Value.(string); ok && tr.Err == nil {
				cmd = tea.Batch(cmd, views.Flash("The connection string is in the app's secret "+v))
			}
			return m, cmd
		}
	}
	cmd, ok := m.List.Update(msg)
	if !ok {
		if k, isKey := msg.(tea.KeyMsg); isKey {
			cmd = m.onKey(k)
		}
	}
	a, sel := m.Selected()
	m.keys.Attach.SetEnabled(sel && !a.Postgres)
	m.keys.Detach.SetEnabled(sel && !a.Postgres)
	return m, cmd
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	a, ok := m.Selected()
	if !ok || a.Postgres {
		return nil
	}
	b, id, t := m.c.Backend, m.c.PaneID, m.c.Theme
	switch {
	case key.Matches(k, m.keys.Attach):
		var req backend.AttachRequest
		p := views.NewPrompt(t, "Attach "+a.Name+" to a cluster", func(v []string) (err error) { req, err = parseAttach(a.Name, v); return },
			views.Field{Label: "Cluster"}, views.Field{Label: "Database", Placeholder: "default: the app's name"},
			views.Field{Label: "User", Placeholder: "default: the app's name"},
			views.Field{Label: "Variable", Placeholder: "DATABASE_URL"})
		m.Ask(p, func() tea.Cmd { return attach(b, id, req) })
	case key.Matches(k, m.keys.Detach):
		var cluster string
		p := views.NewPrompt(t, fmt.Sprintf("Detach %s: its database user is dropped and its secret unset", a.Name),
			func(v []string) error { cluster = v[0]; return backend.ValidateName(cluster) },
			views.Field{Label: "Cluster"})
		m.Ask(p, func() tea.Cmd { return detach(b, id, cluster, a.Name) })
	}
	return nil
}

// secrets are the selected app's secrets under the table.
func (m *Model) secrets() string {
	a, ok := m.Selected()
	if !ok || a.Postgres {
		return ""
	}
	t := m.c.Theme
	lines := []string{"", "", t.Header.Render("Secrets of " + a.Name)}
	if len(a.secrets) == 0 {
		lines = append(lines, t.Dim.Render("  none"))
	}
	for _, s := range a.secrets {
		lines = append(lines, views.Truncate(fmt.Sprintf("  %-20s %s  %s", s.Name, s.Digest, s.Created.Format("2006-01-02 15:04")), m.Width()))
	}
	return strings.Join(lines, "\n")
}

// View draws the apps and the selected one's secrets.
func (m *Model) View() string {
	switch {
	case !m.Loaded():
		return m.c.Theme.Dim.Render("Loading apps…")
	case len(m.Items()) == 0:
		return "No apps yet.\n\n" + m.c.Theme.Dim.Render("`pgtui apps create NAME` makes one.")
	}
	return m.List.View()
}
