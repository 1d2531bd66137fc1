package logs

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
)

// drainMax bounds how many queued lines one message carries, so a fast
// stream costs one update per batch, not per line.
const drainMax = 512

// openedMsg is Logs' answer: the stream or why not.
type openedMsg struct {
	lines <-chan backend.LogLine
	err   error
}

// linesMsg is what the stream delivered since the last one.
type linesMsg struct {
	lines  []backend.LogLine
	closed bool
}

// open starts following the cluster's logs; ctx ends the stream.
func open(ctx context.Context, b backend.Backend, cluster string) func() tea.Msg {
	return func() tea.Msg {
		ch, err := b.Logs(ctx, cluster, backend.LogFilter{Follow: true, Lines: 100})
		if err != nil {
			err = fmt.Errorf("logs of %s: %w", cluster, err)
		}
		return openedMsg{lines: ch, err: err}
	}
}

// next waits for the next line and takes whatever else is queued; the
// pane re-arms it after each message.
func next(ch <-chan backend.LogLine) func() tea.Msg {
	return func() tea.Msg {
		l, ok := <-ch
		if !ok {
			return linesMsg{closed: true}
		}
		out := linesMsg{lines: []backend.LogLine{l}}
		for len(out.lines) < drainMax {
			select {
			case l, ok := <-ch:
				if !ok {
					out.closed = true
					return out
				}
				out.lines = append(out.lines, l)
			default:
				return out
			}
		}
		return out
	}
}
