package clusters

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// listMsg is ListClusters' answer.
type listMsg struct {
	clusters []backend.ClusterSummary
	err      error
}

func list(b backend.Backend) func() tea.Msg {
	return views.Call(func(ctx context.Context) tea.Msg {
		cs, err := b.ListClusters(ctx)
		if err != nil {
			err = fmt.Errorf("list clusters: %w", err)
		}
		return listMsg{clusters: cs, err: err}
	})
}
