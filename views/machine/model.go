// Package machine is one machine's detail (`enter` on a machine of the
// status pane): its state and limits, health checks, events and newest
// log lines, as `pgtui machine status` and `pgtui logs --machine` show.
package machine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/views"
)

// RefreshEvery is the detail's poll interval.
const RefreshEvery = 2 * time.Second

// Model is the machine pane.
type Model struct {
	c       views.Common
	cluster string
	id      string
	keys    views.ListKeys
	poll    views.Poller
	d       *detail
}

var _ views.Pane = (*Model)(nil)

// New builds the detail of machine args.Machine of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	return &Model{c: c, cluster: args.Cluster, id: args.Machine, keys: views.NewListKeys(),
		poll: views.Poller{PaneID: c.PaneID, Every: RefreshEvery}}
}

// detailMsg is one fetch's answer.
type detailMsg struct {
	d   detail
	err error
}

func (m *Model) fetch() func() tea.Msg {
	f := fetch(m.c.Backend, m.cluster, m.id)
	return views.Call(func(ctx context.Context) tea.Msg {
		d, err := f(ctx)
		return detailMsg{d: d, err: err}
	})
}

// Init does nothing: Start fetches.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins refreshing.
func (m *Model) Start() tea.Cmd { return m.poll.Start(m.fetch()) }

// Stop ends refreshing; late answers are dropped.
func (m *Model) Stop() { m.poll.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "machine " + m.id }

// Capturing is false: the pane holds no input.
func (m *Model) Capturing() bool { return false }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Refresh} }

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{{m.keys.Refresh}} }

// Update handles answers and the refresh key.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case views.ResultMsg:
		if !m.poll.Current(msg) {
			return m, nil
		}
		switch r := msg.Msg.(type) {
		case views.PollTick:
			return m, m.poll.Fetch(m.fetch())
		case detailMsg:
			next := m.poll.Landed()
			if r.err != nil {
				return m, tea.Batch(next, views.Err(r.err))
			}
			m.d = &r.d
			return m, next
		}
	case tea.KeyMsg:
		if key.Matches(msg, m.keys.Refresh) && !m.poll.Busy() {
			return m, m.poll.Fetch(m.fetch())
		}
	}
	return m, nil
}

// View draws the machine, its checks, events and the newest log lines
// that fit.
func (m *Model) View() string {
	t := m.c.Theme
	if m.d == nil {
		return t.Dim.Render("Loading machine " + m.id + " of " + m.cluster + "…")
	}
	ms, w := m.d.m, m.c.Width
	uptime := "-"
	if !ms.Started.IsZero() {
		uptime = views.Duration(m.c.Clock().Sub(ms.Started))
	}
	role := ms.Role
	if role == "" {
		role = "-"
	}
	kv := [][2]string{
		{"State", fmt.Sprintf("%s (desired %s), role %s, version %d", ms.State, ms.Desired, role, ms.Version)},
		{"Region", fmt.Sprintf("%s, private address %s", ms.Region, ms.PrivateIP)},
		{"Limits", fmt.Sprintf("VM %s, volume %s", ms.VMSize, orDash(ms.Volume))},
		{"Restarts", fmt.Sprintf("%d, uptime %s, created %s", ms.Restarts, uptime, ms.Created.Format("2006-01-02 15:04:05"))},
	}
	lines := []string{t.Header.Render(views.Truncate("Machine "+ms.ID+" of "+m.cluster, w))}
	for _, p := range kv {
		lines = append(lines, views.Truncate(t.Label.Render(fmt.Sprintf("  %-9s", p[0]))+p[1], w))
	}
	lines = append(lines, "", t.Header.Render("Checks"))
	if len(m.d.checks) == 0 {
		lines = append(lines, t.Dim.Render("  none reported"))
	}
	for _, c := range m.d.checks {
		first := ""
		if len(c.Output) > 0 {
			first = c.Output[0]
		}
		lines = append(lines, views.Truncate(fmt.Sprintf("  %-5s %s %s", c.Name, m.status(c.Status), first), w))
	}
	lines = append(lines, "", t.Header.Render("Events"))
	evs := ms.Events
	if len(evs) > maxEvents {
		evs = evs[len(evs)-maxEvents:]
	}
	for _, ev := range evs {
		lines = append(lines, views.Truncate(fmt.Sprintf("  %s  %-9s %s", ev.Time.Format("15:04:05"), ev.Type, ev.Message), w))
	}
	lines = append(lines, "", t.Header.Render("Recent logs"))
	room := max(m.c.Height-len(lines), 1)
	logs := m.d.logs[max(len(m.d.logs)-room, 0):]
	if len(logs) == 0 {
		lines = append(lines, t.Dim.Render("  no lines"))
	}
	for _, l := range logs {
		lines = append(lines, views.Truncate(fmt.Sprintf("  %s %-8s %s", l.Time.Format("15:04:05"), l.Proc,
			strings.ReplaceAll(l.Message, "\n", "↩︎")), w))
	}
	return strings.Join(lines, "\n")
}

// maxEvents is how many of the newest events the pane shows.
const maxEvents = 5

func (m *Model) status(s string) string {
	t := m.c.Theme
	switch s {
	case "passing":
		return t.Good.Render(s)
	case "warning":
		return t.Warning.Render(s)
	}
	return t.Bad.Render(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
