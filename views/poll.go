package views

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// PollTick is a Poller's timer firing; it reaches the pane as the Msg of
// a ResultMsg so stale timers are dropped like stale results.
type PollTick struct{}

// Poller keeps a pane's refresh loop to one chain: every request gets a
// new sequence number, a result or tick is current only if it carries
// the latest one, and the next tick is armed only when a result lands,
// so two refreshes never overlap (k9s' inUpdate guard). Stop makes every
// outstanding result stale.
type Poller struct {
	PaneID   int
	Every    time.Duration
	seq      int
	inFlight bool
	active   bool
}

// Start activates the poller and fetches at once.
func (p *Poller) Start(fetch func() tea.Msg) tea.Cmd {
	p.active = true
	return p.Fetch(fetch)
}

// Stop deactivates the poller; results in flight will be dropped.
func (p *Poller) Stop() {
	p.active, p.inFlight = false, false
	p.seq++
}

// Active reports whether the pane is shown and polling.
func (p *Poller) Active() bool { return p.active }

// Busy reports whether a request is in flight.
func (p *Poller) Busy() bool { return p.inFlight }

// Fetch requests now; any earlier request's result becomes stale.
func (p *Poller) Fetch(fetch func() tea.Msg) tea.Cmd {
	if !p.active {
		return nil
	}
	p.seq++
	p.inFlight = true
	return Stamp(p.PaneID, p.seq, fetch)
}

// Current reports whether r answers the latest request of an active
// poller; anything else is stale and must be dropped.
func (p *Poller) Current(r ResultMsg) bool {
	return p.active && r.Seq == p.seq
}

// Landed records that the latest result arrived and arms the next tick.
func (p *Poller) Landed() tea.Cmd {
	p.inFlight = false
	if p.Every <= 0 || !p.active {
		return nil
	}
	id, seq := p.PaneID, p.seq
	return tea.Tick(p.Every, func(time.Time) tea.Msg { return ResultMsg{PaneID: id, Seq: seq, Msg: PollTick{}} })
}
