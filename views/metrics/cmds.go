package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// drainMax bounds how many queued samples one message carries.
const drainMax = 512

// open starts sampling the cluster each `every`; ctx ends the stream.
func open(b backend.Backend, cluster string, every time.Duration) func(ctx context.Context) (<-chan backend.MetricsSample, error) {
	return func(ctx context.Context) (<-chan backend.MetricsSample, error) {
		ch, err := b.MetricsStream(ctx, cluster, every)
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", cluster, err)
		}
		return ch, nil
	}
}
