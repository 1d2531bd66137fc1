// Package users lists a cluster's users as `postgres users list` does,
// and creates and drops them behind a prompt and a confirm dialog.
package users

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

const refreshEvery = 5 * time.Second

// Model is the users pane of one cluster.
type Model struct {
	*views.List[backend.User]
	c       views.Common
	cluster string
	keys    KeyMap
	secret  *created // a generated password, shown until the next key
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// New builds the users pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap()}
	m.List = views.NewList(c, views.ListSpec[[]backend.User, backend.User]{
		Columns: columns, Every: refreshEvery, Fetch: list(c.Backend, args.Cluster), Rows: rows,
		Head: func() string { return c.Theme.Header.Render("Users of " + args.Cluster) },
		Tail: m.tail, Keys: &m.keys,
		Actions: []views.Action[backend.User]{{Key: &m.keys.Drop, Run: m.drop,
			Danger: func(u backend.User) string {
				return fmt.Sprintf("Drop user %s from %s? Its sessions end.", u.Name, args.Cluster)
			}}}})
	return m
}

// Stop ends refreshing and forgets a password still on screen.
func (m *Model) Stop() {
	m.List.Stop()
	m.setSecret(nil)
}

// Title names the pane.
func (m *Model) Title() string { return "users " + m.cluster }

func (m *Model) setSecret(s *created) {
	m.secret = s
	m.keys.Copy.SetEnabled(s != nil)
}

// Update handles keys, the list and finished tasks.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if tr, ok := r.Msg.(views.TaskResult); ok {
			if c, ok := tr.Value.(created); ok && c.password != "" {
				m.setSecret(&c)
			}
			return m, m.Refresh()
		}
	}
	k, isKey := msg.(tea.KeyMsg)
	if isKey && key.Matches(k, m.keys.Copy) {
		return m, views.Copy(m.c.Clipboard, m.secret.password, "the password of "+m.secret.user)
	}
	if isKey {
		m.setSecret(nil)
	}
	if cmd, ok := m.List.Update(msg); ok {
		return m, cmd
	}
	if isKey {
		return m, m.onKey(k)
	}
	return m, nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	b, id, c := m.c.Backend, m.c.PaneID, m.cluster
	switch {
	case key.Matches(k, m.keys.Create):
		var u newUser
		p := views.NewPrompt(m.c.Theme, "New user on "+c, func(v []string) (err error) { u, err = parse(v); return },
			views.Field{Label: "Name"}, views.Field{Label: "Password", Placeholder: "empty: generate one", Secret: true},
			views.Field{Label: "Superuser", Placeholder: "no"})
		m.Ask(p, func() tea.Cmd { return create(b, id, c, u) })
	}
	return nil
}

// drop drops the user (the kit asked first: Drop is dangerous).
func (m *Model) drop(u backend.User) tea.Cmd { return drop(m.c.Backend, m.c.PaneID, m.cluster, u.Name) }

// tail is a new password, under the table.
func (m *Model) tail() string {
	t := m.c.Theme
	var extra []string
	if m.secret != nil {
		extra = append(extra, "", t.Secret.Render(fmt.Sprintf("User %s  Password: %s", m.secret.user, m.secret.password)),
			t.Warning.Render("Save the password in a secure place, you won't be able to see it again!"))
	}
	return strings.Join(extra, "\n")
}

// View draws the list, a new password and any open dialog.
func (m *Model) View() string {
	if !m.Loaded() {
		return m.c.Theme.Dim.Render("Loading users of " + m.cluster + "…")
	}
	return m.List.View()
}
