package logs

import (
	"context"
	"fmt"

	"github.com/pgtui/pgtui/backend"
)

// drainMax bounds how many queued lines one message carries, so a fast
// stream costs one update per batch, not per line.
const drainMax = 512

// open starts following the cluster's logs; ctx ends the stream.
func open(b backend.Backend, cluster string) func(ctx context.Context) (<-chan backend.LogLine, error) {
	return func(ctx context.Context) (<-chan backend.LogLine, error) {
		ch, err := b.Logs(ctx, cluster, backend.LogFilter{Follow: true, Lines: 100})
		if err != nil {
			return nil, fmt.Errorf("logs of %s: %w", cluster, err)
		}
		return ch, nil
	}
}
