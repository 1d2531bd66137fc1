// Package status is a cluster's live status: its deployment and every
// machine with role, state, checks, lag, restarts and uptime, refreshed
// every two seconds, with the cluster and machine actions behind
// confirm dialogs.
package status

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the status poll interval.
const RefreshEvery = 2 * time.Second

const (
	minMachines = backend.MinClusterSize
	maxMachines = backend.MaxClusterSize
)

// Model is the status pane of one cluster.
type Model struct {
	*views.ListPane[*backend.ClusterStatus, backend.MachineStatus]
	c       views.Common
	cluster string
	keys    KeyMap
	st      *backend.ClusterStatus
}

var (
	_ views.Pane     = (*Model)(nil)
	_ views.EscTaker = (*Model)(nil)
)

// machineSel is the machine under the cursor.
type machineSel struct {
	id      string
	addr    string // private address, for psql on the machine itself
	running bool
}

// New builds the status pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap()}
	m.ListPane = views.NewListPane(c, views.ListSpec[*backend.ClusterStatus, backend.MachineStatus]{
		Columns: columns, Every: RefreshEvery, Fetch: fetch(c.Backend, args.Cluster),
		Items:  func(st *backend.ClusterStatus) []backend.MachineStatus { return st.Machines },
		Loaded: m.loaded, Rows: m.rows, Style: m.cellStyle, Head: m.header,
		Keys: &m.keys})
	m.keys.enable(nil, 0, false)
	return m
}

// Title names the pane.
func (m *Model) Title() string { return "status " + m.cluster }

func (m *Model) cellStyle(ms backend.MachineStatus, col int) (lipgloss.Style, bool) {
	if col == roleCol && ms.Role == "leader" {
		return m.c.Theme.Leader, true
	}
	return lipgloss.Style{}, false
}

// loaded keeps the answer for the header and picks the columns.
func (m *Model) loaded(st *backend.ClusterStatus) {
	m.st = st
	m.Table.Columns = columns
	if m.hosts() {
		m.Table.Columns = hostColumns
	}
}

func (m *Model) rows(ms []backend.MachineStatus) [][]string {
	if m.hosts() {
		return hostRows(ms)
	}
	return rows(ms, m.c.Clock())
}

// Update handles keys, status results and finished actions.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if r, ok := msg.(views.ResultMsg); ok {
		if tr, ok := r.Msg.(views.TaskResult); ok {
			if tr.ID == taskDestroy && tr.Err == nil {
				return m, views.Back
			}
			return m, m.Refresh()
		}
	}
	cmd, ok := m.ListPane.Update(msg)
	if !ok {
		if k, isKey := msg.(tea.KeyMsg); isKey {
			cmd = m.onKey(k)
		}
	}
	m.keys.enable(m.selected(), m.machines(), m.hosts())
	return m, cmd
}

func (m *Model) selected() *machineSel {
	ms, ok := m.Selected()
	if !ok {
		return nil
	}
	return &machineSel{id: ms.ID, addr: ms.PrivateIP, running: ms.State == "running"}
}

// ask opens a yes/no dialog that runs then on yes.
func (m *Model) ask(prompt string, then tea.Cmd) tea.Cmd {
	m.Ask(views.NewConfirm(m.c.Theme, prompt), func() tea.Cmd { return then })
	return nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	args := views.Args{Cluster: m.cluster}
	switch {
	case key.Matches(k, m.keys.Open):
		if sel := m.selected(); sel != nil {
			return views.Open(views.RouteMachine, views.Args{Cluster: m.cluster, Machine: sel.id})
		}
	case key.Matches(k, m.keys.PSQL):
		return func() tea.Msg { return views.PSQLMsg{Cluster: m.cluster} }
	case key.Matches(k, m.keys.PSQLHere):
		sel := m.selected()
		return func() tea.Msg { return views.PSQLMsg{Cluster: m.cluster, Machine: sel.id, Addr: sel.addr} }
	case key.Matches(k, m.keys.Users):
		return views.Open(views.RouteUsers, args)
	case key.Matches(k, m.keys.DBs):
		return views.Open(views.RouteDBs, args)
	case key.Matches(k, m.keys.Timeline):
		return views.Open(views.RouteTimeline, args)
	case key.Matches(k, m.keys.Checks):
		return views.Open(views.RouteChecks, args)
	case key.Matches(k, m.keys.Logs):
		return views.Open(views.RouteLogs, args)
	case key.Matches(k, m.keys.Metrics):
		return views.Open(views.RouteMetrics, args)
	case key.Matches(k, m.keys.Config):
		return views.Open(views.RouteConfig, args)
	}
	return m.onAction(k)
}

// hosts: the cluster runs on external hosts (`pgtui clusters add`).
func (m *Model) hosts() bool { return m.st != nil && m.st.Platform == "hosts" }

func (m *Model) machines() int {
	if m.st == nil {
		return 0
	}
	return len(m.st.Machines)
}

// onAction opens the confirm dialog of a dangerous key.
func (m *Model) onAction(k tea.KeyMsg) tea.Cmd {
	b, id, c, n := m.c.Backend, m.c.PaneID, m.cluster, m.machines()
	sel := m.selected()
	switch {
	case key.Matches(k, m.keys.ScaleUp):
		return m.ask(fmt.Sprintf("Add a replica: scale %s to %d machines?", c, n+1), scale(b, id, c, n+1))
	case key.Matches(k, m.keys.ScaleDown):
		return m.ask(fmt.Sprintf("Remove a replica: scale %s to %d machines?", c, n-1), scale(b, id, c, n-1))
	case key.Matches(k, m.keys.Restart):
		return m.ask(fmt.Sprintf("Restart every machine of %s, one at a time?", c), restart(b, id, c))
	case key.Matches(k, m.keys.Destroy):
		m.Ask(views.NewTypeConfirm(m.c.Theme,
			fmt.Sprintf("Destroy %s? Every machine and volume is deleted; this cannot be undone.", c), c),
			func() tea.Cmd { return destroy(b, id, c) })
	case sel == nil:
		return nil
	case key.Matches(k, m.keys.Start):
		return m.ask(fmt.Sprintf("Start machine %s?", sel.id), machineAction(b, id, c, sel.id, backend.ActionStart))
	case key.Matches(k, m.keys.Stop):
		return m.ask(fmt.Sprintf("Stop machine %s? A leader hands over first.", sel.id),
			machineAction(b, id, c, sel.id, backend.ActionStop))
	case key.Matches(k, m.keys.Kill):
		return m.ask(fmt.Sprintf("Kill machine %s? Its supervisor restarts it.", sel.id),
			machineAction(b, id, c, sel.id, backend.ActionKill))
	}
	return nil
}

// View draws the header, the machines and any open dialog.
func (m *Model) View() string {
	if m.st == nil {
		return m.c.Theme.Dim.Render("Loading status of " + m.cluster + "…")
	}
	return m.ListPane.View()
}

func (m *Model) header() string {
	st, t := m.st, m.c.Theme
	if st == nil {
		return ""
	}
	kv := [][2]string{
		{"Status", fmt.Sprintf("%s, version %d, generation %d", st.Status, st.Version, st.Generation)},
		{"Hostname", st.Hostname},
		{"Leader", leaderText(st.Leader)},
		{"Sync standby", standby(st)},
		{"Instances", render.Instances(st.Deployment)},
	}
	if st.ReadOnly {
		kv = append(kv, [2]string{"Mode", t.Warning.Render("read-only, " + st.ReadOnlyReason)})
	}
	if m.hosts() {
		kv = append(kv, [2]string{"Platform", "external hosts (their engine owns the nodes' lifecycle)"})
	}
	lines := []string{t.Header.Render(st.Name)}
	for _, p := range kv {
		lines = append(lines, views.Truncate(t.Label.Render(fmt.Sprintf("  %-13s", p[0]))+p[1], m.Width()))
	}
	return strings.Join(lines, "\n")
}
