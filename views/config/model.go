// Package config is a cluster's settings (`postgres config show`): TLS,
// the read-only threshold and state, synchronous replication and the
// failover lag limit, with the changeable ones edited behind a prompt
// or a confirm dialog (`postgres config update`).
package config

import (
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the settings' poll interval (read-only follows the
// volume's free space).
const RefreshEvery = 5 * time.Second

// setting is one row: its name, value, and how it is changed.
type setting struct {
	name, value, note string
	edit              editKind
}

type editKind int

const (
	fixed editKind = iota
	toggleSSL
	editPct
	editLag
)

// KeyMap is the settings pane's keys.
type KeyMap struct {
	Edit key.Binding
}

// ShortHelp is the pane's part of the footer.
func (k *KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Edit} }

// FullHelp is the pane's column of the help overlay.
func (k *KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Edit}} }

// Model is the settings pane of one cluster.
type Model struct {
	*views.ListPane[*backend.ClusterConfig, setting]
	c       views.Common
	cluster string
	keys    KeyMap
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// columns are the table's headers.
var columns = []string{"Setting", "Value", "Note"}

// New builds the settings pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster,
		keys: KeyMap{Edit: key.NewBinding(key.WithKeys("enter", "e"), key.WithHelp("enter", "change"))}}
	m.ListPane = views.NewListPane(c, views.ListSpec[*backend.ClusterConfig, setting]{
		Columns: columns, Every: RefreshEvery, Fetch: fetch(c.Backend, args.Cluster), Items: settings,
		Rows: func(ss []setting) [][]string {
			out := make([][]string, len(ss))
			for i, s := range ss {
				out[i] = []string{s.name, s.value, s.note}
			}
			return out
		},
		Head: func() string { return c.Theme.Header.Render("Settings of " + args.Cluster) },
		Keys: &m.keys})
	m.keys.Edit.SetEnabled(false)
	return m
}

// settings lays the configuration out as rows.
func settings(c *backend.ClusterConfig) []setting {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	ro := "writable"
	if c.ReadOnly {
		ro = "READ-ONLY"
	}
	threshold := fmt.Sprintf("%g%%", c.ReadOnlyBelowPct)
	if c.ReadOnlyBelowPct == 0 {
		threshold = "never"
	}
	mode := "synchronous"
	if !c.SyncMode {
		mode = "asynchronous"
	} else if c.Strict {
		mode += " (strict)"
	}
	return []setting{
		{name: "TLS", value: onOff(c.SSL), note: "self-signed certificate; clients reconnect on change", edit: toggleSSL},
		{name: "read-only below", value: threshold, note: "free volume space that turns the leader read-only", edit: editPct},
		{name: "read-only now", value: ro, note: fmt.Sprintf("%.1f%% of the volume free", c.FreePct)},
		{name: "replication", value: mode, note: "set at create"},
		{name: "max lag", value: strconv.FormatInt(c.MaxLagBytes, 10) + " B", note: "a replica further behind is never promoted", edit: editLag},
	}
}

// Title names the pane.
func (m *Model) Title() string { return "config " + m.cluster }

// Update handles keys, answers and finished changes.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if _, ok := r.Msg.(views.TaskResult); ok {
			return m, m.Refresh()
		}
	}
	cmd, ok := m.ListPane.Update(msg)
	if !ok {
		if k, isKey := msg.(tea.KeyMsg); isKey && key.Matches(k, m.keys.Edit) {
			cmd = m.edit()
		}
	}
	s, sel := m.Selected()
	m.keys.Edit.SetEnabled(sel && s.edit != fixed)
	return m, cmd
}

// edit opens the dialog that changes the selected setting.
func (m *Model) edit() tea.Cmd {
	s, ok := m.Selected()
	if !ok {
		return nil
	}
	b, id, c, t := m.c.Backend, m.c.PaneID, m.cluster, m.c.Theme
	switch s.edit {
	case toggleSSL:
		on := s.value != "on"
		verb := "Turn TLS off"
		if on {
			verb = "Turn TLS on"
		}
		m.Ask(views.NewConfirm(t, fmt.Sprintf("%s for %s? Every client is disconnected and reconnects.", verb, c)),
			func() tea.Cmd { return update(b, id, c, "TLS", backend.ConfigUpdate{SSL: &on}) })
	case editPct:
		var pct float64
		p := views.NewPrompt(t, "Read-only threshold of "+c, func(v []string) (err error) { pct, err = parsePct(v[0]); return },
			views.Field{Label: "Percent free", Placeholder: "0 = never"})
		m.Ask(p, func() tea.Cmd {
			return update(b, id, c, "the read-only threshold", backend.ConfigUpdate{ReadOnlyBelowPct: &pct})
		})
	case editLag:
		var lag int64
		p := views.NewPrompt(t, "Max lag of "+c, func(v []string) (err error) { lag, err = parseBytes(v[0]); return },
			views.Field{Label: "Bytes", Placeholder: "1048576"})
		m.Ask(p, func() tea.Cmd { return update(b, id, c, "the max lag", backend.ConfigUpdate{MaxLagBytes: &lag}) })
	}
	return nil
}

// View draws the settings and any open dialog.
func (m *Model) View() string {
	if !m.Loaded() {
		return m.c.Theme.Dim.Render("Loading settings of " + m.cluster + "…")
	}
	return m.ListPane.View()
}
