// Package timeline is the failover timeline of one cluster: it polls
// Status every second, records each change of leader, generation and
// sync standby with its time, measures how long writes were unavailable,
// follows the nodes' log lines for the sentinel's decisions, promotions,
// proxy switches and rejoins, and runs a switchover on request.
package timeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// PollEvery is the timeline's poll interval.
const PollEvery = time.Second

// row lays out an event: the time with milliseconds, the kind (the
// widest is "proxy switched"), then the detail, cut at the pane's edge.
const row = "%-12s %-14s %s"

// Model is the timeline pane.
type Model struct {
	c         views.Common
	cluster   string
	keys      KeyMap
	poll      views.Poller
	track     tracker
	modal     views.Modal
	switching bool

	// The log stream. since is when it was opened: the backend replays
	// past lines first, and the timeline shows what happens from then on.
	// When it fails or ends, r reopens it.
	logs  views.Drain[backend.LogLine]
	since time.Time
}

var (
	_ views.Pane   = (*Model)(nil)
	_ views.Closer = (*Model)(nil)
)

// New builds the timeline of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	return &Model{c: c, cluster: args.Cluster, keys: NewKeyMap(),
		poll: views.Poller{PaneID: c.PaneID, Every: PollEvery},
		logs: views.Drain[backend.LogLine]{PaneID: c.PaneID, Max: drainMax}}
}

// Init does nothing: Start polls.
func (m *Model) Init() tea.Cmd { return nil }

// Start begins polling and following the logs. The timeline keeps what
// it recorded while hidden, but sees nothing in between.
func (m *Model) Start() tea.Cmd { return tea.Batch(m.poll.Start(m.fetch()), m.openLogs()) }

// Stop ends polling and the log stream; results in flight are dropped.
func (m *Model) Stop() {
	m.poll.Stop()
	m.logs.Stop()
}

// Close ends everything Stop does (the shell calls both; Close alone is
// enough for a caller that only closes).
func (m *Model) Close() { m.Stop() }

func (m *Model) openLogs() tea.Cmd {
	// Log times have millisecond precision: a line of the opening
	// millisecond is not older than the pane.
	m.since = m.c.Clock().Truncate(time.Millisecond)
	return m.logs.Open(openLogs(m.c.Backend, m.cluster))
}

func (m *Model) fetch() func() tea.Msg { return fetch(m.c.Backend, m.cluster, m.c.Clock) }

// Title names the pane.
func (m *Model) Title() string { return "timeline " + m.cluster }

// Capturing is true while the confirm dialog is open.
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

func (m *Model) setSwitching(on bool) {
	m.switching = on
	m.keys.Switchover.SetEnabled(!on)
}

// Update handles polls, the switchover and keys.
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
	if lines, cmd, ok := m.logs.Update(r); ok {
		m.onLines(lines)
		return cmd
	}
	if tr, ok := r.Msg.(views.TaskResult); ok {
		m.setSwitching(false)
		if s, ok := tr.Value.(switched); ok {
			m.track.record(s.at, "switchover", "done: %s -> %s, the backend took %s",
				s.res.OldLeader, s.res.NewLeader, round(s.res.Took))
		} else if tr.Err != nil {
			m.track.record(m.c.Clock(), "switchover", "failed: %v", tr.Err)
		}
		return m.poll.Fetch(m.fetch())
	}
	if !m.poll.Current(r) {
		return nil
	}
	switch msg := r.Msg.(type) {
	case views.PollTick:
		return m.poll.Fetch(m.fetch())
	case statusMsg:
		next := m.poll.Landed()
		if msg.err != nil {
			return tea.Batch(next, views.Err(msg.err))
		}
		m.track.observe(msg.st, msg.at)
		return next
	}
	return nil
}

// onLines puts the lines' facts on the timeline, but not the lines the
// backend replayed from before the stream was opened.
func (m *Model) onLines(lines []backend.LogLine) {
	for _, l := range lines {
		if l.Time.Before(m.since) {
			continue
		}
		if f, ok := parseLine(l); ok {
			m.track.apply(f)
		}
	}
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Refresh):
		var reopen tea.Cmd
		if m.logs.Ended() && m.poll.Active() {
			reopen = m.openLogs()
		}
		if !m.poll.Busy() {
			return tea.Batch(m.poll.Fetch(m.fetch()), reopen)
		}
		return reopen
	case key.Matches(k, m.keys.Switchover):
		b, id, c, clock := m.c.Backend, m.c.PaneID, m.cluster, m.c.Clock
		m.modal.Open(views.NewConfirm(m.c.Theme,
			fmt.Sprintf("Switch %s over to a replica? Clients are disconnected while the new leader takes over.", c)),
			func() tea.Cmd {
				m.setSwitching(true)
				m.track.record(clock(), "switchover", "requested from leader %s", orNone(m.track.healthy))
				return switchover(b, id, c, clock)
			})
	}
	return nil
}

// View draws the summary and the newest events that fit.
func (m *Model) View() string {
	t, tr := m.c.Theme, &m.track
	if !tr.seen {
		return t.Dim.Render("Watching " + m.cluster + "…")
	}
	outage := "none seen"
	if tr.outage != "" {
		outage = tr.outage
	}
	head := []string{
		t.Header.Render(views.Truncate("Failover timeline of "+m.cluster, m.c.Width)),
		views.Truncate(fmt.Sprintf("Leader %s   generation %d   sync standby %s", orNone(tr.leader), tr.generation, tr.standby), m.c.Width),
		views.Truncate(fmt.Sprintf("Failovers seen %d   last write unavailability %s", tr.failovers, outage), m.c.Width),
	}
	if m.logs.Ended() {
		head = append(head, t.Dim.Render(views.Truncate("Log stream ended: events from polls only (r reopens it)", m.c.Width)))
	}
	if m.switching {
		head = append(head, t.Warning.Render("Switchover running…"))
	}
	tail := m.modal.View(m.c.Width)
	tailLines := 0
	if tail != "" {
		tailLines = lipgloss.Height(tail) - 1 // it starts on the last event's line
	}
	room := max(m.c.Height-len(head)-2-tailLines, 1)
	lines := append(head, "", t.Header.Render(fmt.Sprintf(row, "TIME", "EVENT", "DETAIL")))
	// The newest events, oldest first: the view follows the tail.
	for _, ev := range tr.events[max(len(tr.events)-room, 0):] {
		lines = append(lines, views.Truncate(fmt.Sprintf(row, ev.at.Format("15:04:05.000"), ev.kind, ev.detail), m.c.Width))
	}
	return strings.Join(lines, "\n") + tail
}
