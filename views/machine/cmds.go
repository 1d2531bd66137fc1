package machine

import (
	"context"
	"fmt"

	"github.com/pgtui/pgtui/backend"
)

// recentLines is how many past log lines the pane reads each refresh.
const recentLines = 30

// detail is one refresh: the machine, its checks and its newest lines.
type detail struct {
	m      *backend.MachineDetail
	checks []backend.Check
	logs   []backend.LogLine
}

// fetch reads the machine, its checks and its recent log lines; a
// failure of the checks or logs is shown in their section, not fatal.
func fetch(b backend.Backend, cluster, id string) func(ctx context.Context) (detail, error) {
	return func(ctx context.Context) (detail, error) {
		m, err := b.MachineStatus(ctx, cluster, id)
		if err != nil {
			return detail{}, fmt.Errorf("machine %s of %s: %w", id, cluster, err)
		}
		d := detail{m: m}
		if cs, err := b.Checks(ctx, cluster); err == nil {
			for _, c := range cs {
				if c.Machine == id {
					d.checks = append(d.checks, c)
				}
			}
		}
		ch, err := b.Logs(ctx, cluster, backend.LogFilter{Machine: id, Lines: recentLines})
		if err != nil {
			return d, nil
		}
		for l := range ch {
			d.logs = append(d.logs, l)
		}
		return d, nil
	}
}
