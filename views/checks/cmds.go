package checks

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// checksMsg is Checks' answer.
type checksMsg struct {
	checks []backend.Check
	err    error
}

func fetch(b backend.Backend, cluster string) func() tea.Msg {
	return views.Call(func(ctx context.Context) tea.Msg {
		cs, err := b.Checks(ctx, cluster)
		if err != nil {
			err = fmt.Errorf("checks of %s: %w", cluster, err)
		}
		return checksMsg{checks: cs, err: err}
	})
}
