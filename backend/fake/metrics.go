package fake

import (
	"context"

	"github.com/pgtui/pgtui/backend"
)

// Metrics returns fixed figures per machine.
func (b *Backend) Metrics(ctx context.Context, name string) ([]backend.MachineMetrics, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	var out []backend.MachineMetrics
	for i, m := range c.machines {
		out = append(out, backend.MachineMetrics{Machine: m.status.ID, Region: m.status.Region, Up: true,
			TPS: 120 - float64(i)*100, Connections: 7, LagSeconds: float64(i) * 0.000246, SizeBytes: 8 << 20})
	}
	return out, nil
}
