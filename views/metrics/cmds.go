package metrics

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
)

// drainMax bounds how many queued samples one message carries.
const drainMax = 512

// openedMsg is MetricsStream's answer: the stream or why not.
type openedMsg struct {
	samples <-chan backend.MetricsSample
	err     error
}

// samplesMsg is what the stream delivered since the last one.
type samplesMsg struct {
	samples []backend.MetricsSample
	closed  bool
}

// open starts sampling the cluster each `every`; ctx ends the stream.
func open(ctx context.Context, b backend.Backend, cluster string, every time.Duration) func() tea.Msg {
	return func() tea.Msg {
		ch, err := b.MetricsStream(ctx, cluster, every)
		if err != nil {
			err = fmt.Errorf("metrics of %s: %w", cluster, err)
		}
		return openedMsg{samples: ch, err: err}
	}
}

// next waits for the next sample and takes whatever else is queued; the
// pane re-arms it after each message.
func next(ch <-chan backend.MetricsSample) func() tea.Msg {
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return samplesMsg{closed: true}
		}
		out := samplesMsg{samples: []backend.MetricsSample{s}}
		for len(out.samples) < drainMax {
			select {
			case s, ok := <-ch:
				if !ok {
					out.closed = true
					return out
				}
				out.samples = append(out.samples, s)
			default:
				return out
			}
		}
		return out
	}
}
