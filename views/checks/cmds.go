package checks

import (
	"context"
	"fmt"

	"github.com/pgtui/pgtui/backend"
)

// fetch reads every machine's checks.
func fetch(b backend.Backend, cluster string) func(ctx context.Context) ([]backend.Check, error) {
	return func(ctx context.Context) ([]backend.Check, error) {
		cs, err := b.Checks(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("checks of %s: %w", cluster, err)
		}
		return cs, nil
	}
}
