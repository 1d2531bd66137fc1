// Package metrics follows a cluster's metrics stream: per machine, a
// sparkline of TPS, connections, replication lag and database size over
// the newest samples that fit the width, the current value beside each.
package metrics

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// Layout of a machine's block: its title line, then one line per metric
// of label, sparkline and current value.
const (
	labelWidth = 8
	valueWidth = 10
	blockLines = 5
)

// intervals are what the interval key cycles through.
func intervals() []time.Duration {
	return []time.Duration{time.Second, 2 * time.Second, 5 * time.Second}
}

// Model is the metrics pane of one cluster.
type Model struct {
	c       views.Common
	cluster string
	keys    KeyMap
	every   time.Duration
	hist    map[string]*history
	order   []string // machines of the newest sample, in its order
	latest  *backend.MetricsSample
	samples int
	offset  int // first machine shown
	drain   views.Drain[backend.MetricsSample]
}

var _ views.Pane = (*Model)(nil)

// New builds the metrics pane of args.Cluster.
func New(c views.Common, args views.Args) *Model {
	m := &Model{c: c, cluster: args.Cluster, keys: NewKeyMap(), every: intervals()[0], hist: map[string]*history{},
		drain: views.Drain[backend.MetricsSample]{PaneID: c.PaneID, Max: drainMax}}
	m.keys.enable(false)
	return m
}

// Init does nothing: Start opens the stream.
func (m *Model) Init() tea.Cmd { return nil }

// Start opens the stream afresh with an empty history: samples from
// before the pane was hidden would leave a gap the sparklines hide.
func (m *Model) Start() tea.Cmd {
	m.hist, m.order, m.latest, m.samples = map[string]*history{}, nil, nil, 0
	m.keys.enable(false)
	return m.drain.Open(open(m.c.Backend, m.cluster, m.every))
}

// Stop ends the stream; samples still in flight are dropped.
func (m *Model) Stop() {
	m.drain.Stop()
}

// Title names the pane.
func (m *Model) Title() string { return "metrics " + m.cluster }

// Capturing is false: the pane holds no text input.
func (m *Model) Capturing() bool { return false }

// SetSize records the pane's area and keeps the shown machines in it.
func (m *Model) SetSize(w, h int) {
	m.c.Width, m.c.Height = w, h
	m.clamp()
}

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding { return m.keys.ShortHelp() }

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }

// Update handles the stream and keys.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	if samples, cmd, ok := m.drain.Update(msg); ok {
		for _, s := range samples {
			m.add(s)
		}
		return m, cmd
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		return m, m.onKey(k)
	}
	return m, nil
}

// add records a sample: a point for each of its machines; machines it
// no longer lists are forgotten.
func (m *Model) add(s backend.MetricsSample) {
	seen := make(map[string]bool, len(s.Machines))
	m.order = m.order[:0]
	for _, mm := range s.Machines {
		h := m.hist[mm.Machine]
		if h == nil {
			h = &history{}
			m.hist[mm.Machine] = h
		}
		h.add(point{up: mm.Up, m: mm})
		seen[mm.Machine] = true
		m.order = append(m.order, mm.Machine)
	}
	for id := range m.hist {
		if !seen[id] {
			delete(m.hist, id)
		}
	}
	m.latest = &s
	m.samples++
	m.clamp()
}

func (m *Model) onKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Up):
		m.offset--
		m.clamp()
	case key.Matches(k, m.keys.Down):
		m.offset++
		m.clamp()
	case key.Matches(k, m.keys.Interval):
		all := intervals()
		for i, d := range all {
			if d == m.every {
				m.every = all[(i+1)%len(all)]
				return m.Start()
			}
		}
		m.every = all[0]
		return m.Start()
	}
	return nil
}

// fit is how many machine blocks the height holds, keeping a line for
// the scroll hint when not all of them fit.
func (m *Model) fit() int {
	room, n := m.c.Height-2, len(m.order)
	if n*(blockLines+1)-1 <= room {
		return n
	}
	return max(room/(blockLines+1), 1)
}

// clamp keeps the shown machines within the list and the scroll keys
// offered only when there is somewhere to scroll.
func (m *Model) clamp() {
	fit := m.fit()
	m.offset = min(max(m.offset, 0), max(len(m.order)-fit, 0))
	m.keys.enable(fit < len(m.order))
}

// View draws the header and the blocks of the machines that fit.
func (m *Model) View() string {
	t := m.c.Theme
	state := "waiting for the first sample…"
	switch {
	case m.drain.Ended():
		state = "stream ended"
	case m.latest != nil:
		state = fmt.Sprintf("%d samples, last %s", m.samples, m.latest.Time.Format("15:04:05"))
	}
	head := t.Header.Render("Metrics of "+m.cluster) + t.Dim.Render(fmt.Sprintf("  every %s, %s", m.every, state))
	out := []string{views.Truncate(head, m.c.Width), ""}
	if m.latest == nil {
		out = append(out, t.Dim.Render("No samples yet."))
		return strings.Join(out, "\n")
	}
	fit := m.fit()
	shown := m.order[m.offset:min(m.offset+fit, len(m.order))]
	for i, id := range shown {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, m.block(id)...)
	}
	if fit < len(m.order) {
		out = append(out, t.Dim.Render(views.Truncate(fmt.Sprintf("machines %d-%d of %d, ↑/↓ for more",
			m.offset+1, m.offset+len(shown), len(m.order)), m.c.Width)))
	}
	if h := m.c.Height; h > 0 && len(out) > h { // not even one block fits
		out = out[:h]
	}
	return strings.Join(out, "\n")
}

// block is one machine: id, region and role, then a line per metric.
func (m *Model) block(id string) []string {
	t := m.c.Theme
	pts := m.hist[id].last(keep)
	cur := pts[len(pts)-1]
	role := t.Dim.Render("replica")
	switch {
	case !cur.up:
		role = t.Bad.Render("down")
	case id == m.latest.Leader:
		role = t.Leader.Render("leader")
	}
	out := []string{views.Truncate(t.Header.Render(id)+"  "+cur.m.Region+"  "+role, m.c.Width)}
	width := max(m.c.Width-labelWidth-valueWidth-1, 1)
	for _, r := range rows() {
		value := "-"
		if cur.up {
			value = r.show(r.of(cur.m))
		}
		line := t.Label.Render(fmt.Sprintf("  %-*s", labelWidth-2, r.label)) + t.Spark.Render(sparkline(pts, r, width)) +
			" " + fmt.Sprintf("%*s", valueWidth, value)
		out = append(out, views.Truncate(line, m.c.Width))
	}
	return out
}
