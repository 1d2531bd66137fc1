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
	c       views.Common
	cluster string
	keys    KeyMap
	table   views.Table
	poll    views.Poller
	st      *backend.ClusterStatus
	modal   views.Modal
}

var _ views.Pane = (*Model)(nil)

// machineSel is the machine under the cursor.
type machineSel struct {
	id      string
	addr    string // private address, for psql on the machine itself
	running bool
}

// New builds the status pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap(),
		table: views.Table{Theme: c.Theme, Columns: columns},
		poll:  views.Poller{PaneID: c.PaneID, Every: RefreshEvery}}
	m.table.CellStyle = m.cellStyle
	m.keys.enable(nil, 0, false)
	return m
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins the 2s refresh.
func (m *Model) Start() tea.Cmd { return m.poll.Start(fetch(m.c.Backend, m.cluster)) }

// Stop ends the refresh; results in flight are dropped.
func (m *Model) Stop() { m.poll.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "status " + m.cluster }

// Capturing is true while a dialog is open.
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

func (m *Model) cellStyle(row, col int) (lipgloss.Style, bool) {
	if col == roleCol && m.st != nil && row < len(m.st.Machines) && m.st.Machines[row].Role == "leader" {
		return m.c.Theme.Leader, true
	}
	return lipgloss.Style{}, false
}

// Update handles keys, status results and finished actions.
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
	if tr, ok := r.Msg.(views.TaskResult); ok {
		if tr.ID == taskDestroy && tr.Err == nil {
			return views.Back
		}
		return m.poll.Fetch(fetch(m.c.Backend, m.cluster))
	}
	if !m.poll.Current(r) {
		return nil
	}
	switch msg := r.Msg.(type) {
	case views.PollTick:
		return m.poll.Fetch(fetch(m.c.Backend, m.cluster))
	case statusMsg:
		next := m.poll.Landed()
		if msg.err != nil {
			return tea.Batch(next, views.Err(msg.err))
		}
		m.st = msg.st
		if m.hosts() {
			m.table.Columns = hostColumns
			m.table.SetRows(hostRows(msg.st.Machines))
		} else {
			m.table.Columns = columns
			m.table.SetRows(rows(msg.st.Machines, m.c.Clock()))
		}
		m.keys.enable(m.selected(), len(msg.st.Machines), m.hosts())
		return next
	}
	return nil
}

func (m *Model) selected() *machineSel {
	if m.st == nil || m.table.Cursor >= len(m.st.Machines) {
		return nil
	}
	ms := m.st.Machines[m.table.Cursor]
	return &machineSel{id: ms.ID, addr: ms.PrivateIP, running: ms.State == "running"}
}

// ask opens a yes/no dialog that runs then on yes.
func (m *Model) ask(prompt string, then tea.Cmd) tea.Cmd {
	m.modal.Open(views.NewConfirm(m.c.Theme, prompt), func() tea.Cmd { return then })
	return nil
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	args := views.Args{Cluster: m.cluster}
	switch {
	case key.Matches(k, m.keys.Up):
		m.table.Up()
		m.keys.enable(m.selected(), m.machines(), m.hosts())
	case key.Matches(k, m.keys.Down):
		m.table.Down()
		m.keys.enable(m.selected(), m.machines(), m.hosts())
	case key.Matches(k, m.keys.Refresh):
		if !m.poll.Busy() {
			return m.poll.Fetch(fetch(m.c.Backend, m.cluster))
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
	default:
		return m.onAction(k)
	}
	return nil
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
		m.modal.Open(views.NewTypeConfirm(m.c.Theme,
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
	head := m.header()
	dialog := m.modal.View(m.c.Width)
	used := lipgloss.Height(head) + 1 + lipgloss.Height(dialog) - 1
	return head + "\n\n" + m.table.View(m.c.Width, max(m.c.Height-used-1, 2)) + dialog
}

func (m *Model) header() string {
	st, t := m.st, m.c.Theme
	kv := [][2]string{
		{"Status", fmt.Sprintf("%s, version %d, generation %d", st.Status, st.Version, st.Generation)},
		{"Hostname", st.Hostname},
		{"Leader", leaderText(st.Leader)},
		{"Sync standby", standby(st)},
		{"Instances", render.Instances(st.Deployment)},
	}
	if m.hosts() {
		kv = append(kv, [2]string{"Platform", "external hosts (their engine owns the nodes' lifecycle)"})
	}
	lines := []string{t.Header.Render(st.Name)}
	for _, p := range kv {
		lines = append(lines, views.Truncate(t.Label.Render(fmt.Sprintf("  %-13s", p[0]))+p[1], m.c.Width))
	}
	return strings.Join(lines, "\n")
}
