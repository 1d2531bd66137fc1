package clusters

import (
	"context"
	"fmt"

	"github.com/pgtui/pgtui/backend"
)

// list reads every cluster.
func list(b backend.Backend) func(ctx context.Context) ([]backend.ClusterSummary, error) {
	return func(ctx context.Context) ([]backend.ClusterSummary, error) {
		cs, err := b.ListClusters(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		return cs, nil
	}
}
