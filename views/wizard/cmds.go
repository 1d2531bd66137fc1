package wizard

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
)

// drainMax bounds how many queued events one message carries.
const drainMax = 64

// startedMsg is CreateCluster's answer: the event stream or why not.
type startedMsg struct {
	events <-chan backend.CreateEvent
	err    error
}

// eventsMsg is what the stream delivered since the last one; closed
// says it ended.
type eventsMsg struct {
	evs    []backend.CreateEvent
	closed bool
}

// create starts the deployment. ctx lives as long as the pane (Close
// cancels it); the agent keeps deploying either way.
func create(ctx context.Context, b backend.Backend, req backend.CreateRequest) func() tea.Msg {
	return func() tea.Msg {
		ch, err := b.CreateCluster(ctx, req)
		if err != nil {
			err = fmt.Errorf("create %s: %w", req.Name, err)
		}
		return startedMsg{events: ch, err: err}
	}
}

// next waits for the stream's next event and takes whatever else is
// already queued (bubbletea's realtime example, batched); the pane
// re-arms it after each message.
func next(ch <-chan backend.CreateEvent) func() tea.Msg {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsMsg{closed: true}
		}
		out := eventsMsg{evs: []backend.CreateEvent{ev}}
		for len(out.evs) < drainMax {
			select {
			case ev, ok := <-ch:
				if !ok {
					out.closed = true
					return out
				}
				out.evs = append(out.evs, ev)
			default:
				return out
			}
		}
		return out
	}
}

// connURL is what the copy key copies: the URL that works from this
// machine when the backend gave one, else the seed's private-network URL.
func connURL(c backend.Credentials, fallback string) string {
	if c.LocalURL != "" {
		return c.LocalURL
	}
	return fallback
}
