package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// Logs returns a fixed set of lines per machine (one per process), the
// seed's health check line among them; with Follow the channel stays open
// until ctx ends.
func (b *Backend) Logs(ctx context.Context, name string, f backend.LogFilter) (<-chan backend.LogLine, error) {
	b.mu.Lock()
	c := b.clusters[name]
	var lines []backend.LogLine
	if c != nil {
		for i, m := range c.machines {
			if f.Machine != "" && f.Machine != m.status.ID {
				continue
			}
			at := Epoch()
			for j, proc := range []string{"postgres", "keeper", "sentinel", "proxy", "exporter"} {
				lines = append(lines, backend.LogLine{Time: at.Add(time.Duration(i*5+j) * time.Second), Machine: m.status.ID, Region: m.status.Region,
					Proc: proc, Level: "info", Message: fmt.Sprintf("%s running on %s", proc, m.status.ID)})
			}
		}
	}
	b.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("postgres cluster %q not found", name)
	}
	out := make(chan backend.LogLine, len(lines))
	for _, l := range lines {
		out <- l
	}
	if !f.Follow {
		close(out)
		return out, nil
	}
	go func() { <-ctx.Done(); close(out) }()
	return out, nil
}
