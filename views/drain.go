package views

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
)

// Drain follows one stream for a pane (logs, metrics samples, the
// deployment's events): Open starts it under a context of its own, each
// wait takes the next item and whatever else is already queued (up to
// Max, so a fast stream costs one update per batch, not per item), and
// Stop cancels the stream and makes everything in flight stale.
type Drain[T any] struct {
	PaneID int
	Max    int
	gen    int
	ch     <-chan T
	cancel context.CancelFunc
	ended  bool
	failed bool
}

// drainOpened is the open call's answer.
type drainOpened[T any] struct {
	ch  <-chan T
	err error
}

// drainBatch is what the stream delivered since the last batch.
type drainBatch[T any] struct {
	items  []T
	closed bool
}

// Open stops any earlier stream and starts open with a context that
// Stop cancels. open wraps its error with what failed to open.
func (d *Drain[T]) Open(open func(ctx context.Context) (<-chan T, error)) tea.Cmd {
	d.Stop()
	d.ended, d.failed = false, false
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	return Stamp(d.PaneID, d.gen, func() tea.Msg {
		ch, err := open(ctx)
		return drainOpened[T]{ch: ch, err: err}
	})
}

// Stop cancels the stream; batches in flight are dropped.
func (d *Drain[T]) Stop() {
	d.gen++
	d.ch = nil
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
}

// Ended reports that the stream failed to open or closed.
func (d *Drain[T]) Ended() bool { return d.ended }

// Failed reports that the stream failed to open (Update returned the
// error as a command).
func (d *Drain[T]) Failed() bool { return d.failed }

// Update takes msg when it is this drain's: items are the batch to
// apply, cmd waits for the next one (or reports a failed open). handled
// is false for anything else, and true (with nothing to apply) for a
// stale batch.
func (d *Drain[T]) Update(msg tea.Msg) (items []T, cmd tea.Cmd, handled bool) {
	r, ok := msg.(ResultMsg)
	if !ok {
		return nil, nil, false
	}
	switch m := r.Msg.(type) {
	case drainOpened[T]:
		if !d.current(r) {
			return nil, nil, true
		}
		if m.err != nil {
			d.ended, d.failed = true, true
			return nil, Err(m.err), true
		}
		d.ch = m.ch
		return nil, d.wait(), true
	case drainBatch[T]:
		if !d.current(r) {
			return nil, nil, true
		}
		if m.closed {
			d.ended = true
			return m.items, nil, true
		}
		return m.items, d.wait(), true
	}
	return nil, nil, false
}

func (d *Drain[T]) current(r ResultMsg) bool { return d.cancel != nil && r.Seq == d.gen }

// wait blocks (off the update loop) for the next item and takes what
// else is queued. The stream's context ending closes the channel, so a
// stopped drain's wait returns.
func (d *Drain[T]) wait() tea.Cmd {
	ch, limit := d.ch, max(d.Max, 1)
	return Stamp(d.PaneID, d.gen, func() tea.Msg {
		item, ok := <-ch
		if !ok {
			return drainBatch[T]{closed: true}
		}
		out := drainBatch[T]{items: []T{item}}
		for len(out.items) < limit {
			select {
			case item, ok := <-ch:
				if !ok {
					out.closed = true
					return out
				}
				out.items = append(out.items, item)
			default:
				return out
			}
		}
		return out
	})
}
