// Package wireguard lists the gateway's WireGuard peers with their last
// handshake and traffic (`pgtui wireguard list`), creates one showing
// its configuration once, and removes one behind a confirm dialog.
package wireguard

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the peers' poll interval (handshakes and traffic move).
const RefreshEvery = 5 * time.Second

// KeyMap is the peers pane's keys.
type KeyMap struct {
	Create key.Binding
	Remove key.Binding
	Copy   key.Binding
}

// ShortHelp is the pane's part of the footer.
func (k *KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Create, k.Remove, k.Copy} }

// FullHelp is the pane's column of the help overlay.
func (k *KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Create, k.Remove, k.Copy}} }

// Model is the peers pane.
type Model struct {
	*views.List[api.PeerStatus]
	c      views.Common
	g      gateway
	keys   KeyMap
	config *created // a new peer's configuration, shown until the next key
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

var columns = []string{"Name", "Org", "Region", "Address", "Handshake", "Received", "Sent"}

// New builds the peers pane.
func New(c views.Common, _ views.Args) *Model {
	m := &Model{c: c, g: gateway(c.WireGuard), keys: KeyMap{
		Create: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new peer")),
		Remove: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "remove peer")),
		Copy:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy config")),
	}}
	m.keys.Copy.SetEnabled(false)
	m.List = views.NewList(c, views.ListSpec[[]api.PeerStatus, api.PeerStatus]{
		Columns: columns, Every: RefreshEvery, Fetch: list(m.g),
		Rows: func(ps []api.PeerStatus) [][]string { return rows(ps, m.c.Clock()) },
		Head: func() string { return c.Theme.Header.Render("WireGuard peers") },
		Tail: m.tail, Keys: &m.keys,
		Actions: []views.Action[api.PeerStatus]{{Key: &m.keys.Remove,
			Run: func(p api.PeerStatus) tea.Cmd { return remove(m.g, m.c.PaneID, p.Name) },
			Danger: func(p api.PeerStatus) string {
				return fmt.Sprintf("Remove WireGuard peer %s? Its tunnel stops working.", p.Name)
			}}}})
	return m
}

func rows(ps []api.PeerStatus, now time.Time) [][]string {
	out := make([][]string, len(ps))
	for i, p := range ps {
		hs := "never"
		if !p.LastHandshake.IsZero() {
			hs = views.Duration(now.Sub(p.LastHandshake)) + " ago"
		}
		out[i] = []string{p.Name, p.Org, p.Region, p.Address.String(), hs, views.Bytes(p.RxBytes), views.Bytes(p.TxBytes)}
	}
	return out
}

// Title names the pane.
func (m *Model) Title() string { return "wireguard" }

// Stop ends polling and forgets a configuration still on screen.
func (m *Model) Stop() {
	m.List.Stop()
	m.setConfig(nil)
}

func (m *Model) setConfig(c *created) {
	m.config = c
	m.keys.Copy.SetEnabled(c != nil)
}

// Update handles keys, answers and finished tasks.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if tr, ok := r.Msg.(views.TaskResult); ok {
			if c, ok := tr.Value.(created); ok {
				m.setConfig(&c)
			}
			return m, m.Refresh()
		}
	}
	k, isKey := msg.(tea.KeyMsg)
	if isKey && !m.Capturing() && m.config != nil && key.Matches(k, m.keys.Copy) {
		return m, views.Copy(m.c.Clipboard, m.config.config, "the configuration of "+m.config.name)
	}
	if isKey && !m.Capturing() {
		m.setConfig(nil)
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
	g, id, t := m.g, m.c.PaneID, m.c.Theme
	switch {
	case key.Matches(k, m.keys.Create):
		var req api.PeerRequest
		p := views.NewPrompt(t, "New WireGuard peer", func(v []string) error {
			req = api.PeerRequest{Name: v[0], Org: v[1], Region: v[2]}
			if err := backend.ValidateName(req.Name); err != nil {
				return err
			}
			if req.Org != "" {
				if err := backend.ValidateName(req.Org); err != nil {
					return fmt.Errorf("org: %w", err)
				}
			}
			return nil
		}, views.Field{Label: "Name"}, views.Field{Label: "Org", Placeholder: "personal"},
			views.Field{Label: "Region", Placeholder: "iad"})
		m.Ask(p, func() tea.Cmd { return create(g, id, req) })
	}
	return nil
}

// tail is a new peer's configuration, shown once.
func (m *Model) tail() string {
	if m.config == nil {
		return ""
	}
	t := m.c.Theme
	return "\n\n" + t.Secret.Render(strings.TrimRight(m.config.config, "\n")) + "\n" +
		t.Warning.Render("Save this configuration now: its private key is not shown again.")
}

// View draws the peers, a new configuration and any open dialog.
func (m *Model) View() string {
	switch {
	case !m.Loaded():
		return m.c.Theme.Dim.Render("Loading WireGuard peers…")
	case len(m.Items()) == 0 && m.config == nil && !m.Capturing():
		return "No WireGuard peers yet.\n\n" + m.c.Theme.Dim.Render("Press n to create one.")
	}
	return m.List.View()
}
