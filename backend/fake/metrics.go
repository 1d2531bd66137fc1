package fake

import (
	"context"
	"time"

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

// MetricsHistory is how many samples MetricsStream sends at once.
const MetricsHistory = 60

// MetricsStream sends MetricsHistory made-up samples at once, the first
// dated one interval after Epoch, then keeps the channel open until ctx
// ends: views see a full history without any timing. (The real stream
// holds only its newest sample; this one is a fixed history.) The load:
// the leader's TPS rises and falls between 20 and 120 and its database
// grows by 64 KiB a sample; replicas see a few TPS, two connections and
// a few milliseconds of lag; a stopped machine is down.
func (b *Backend) MetricsStream(ctx context.Context, name string, every time.Duration) (<-chan backend.MetricsSample, error) {
	b.record("MetricsStream")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	every = backend.MetricsEvery(every)
	leader := ""
	if m, err := c.machine(c.leader); err == nil && m.status.State == "running" {
		leader = c.leader
	}
	out := make(chan backend.MetricsSample, MetricsHistory)
	for k := range MetricsHistory {
		s := backend.MetricsSample{Time: Epoch().Add(time.Duration(k+1) * every), Leader: leader}
		for i, m := range c.machines {
			s.Machines = append(s.Machines, fakeSample(c, m, i, k))
		}
		out <- s
	}
	go func() { <-ctx.Done(); close(out) }()
	return out, nil
}

// fakeSample is machine m's (the i-th's) figures in sample k.
func fakeSample(c *cluster, m *machine, i, k int) backend.MachineMetrics {
	mm := backend.MachineMetrics{Machine: m.status.ID, Region: m.status.Region}
	if m.status.State != "running" {
		return mm
	}
	mm.Up = true
	mm.SizeBytes = float64(8<<20 + k*(64<<10))
	if m.status.ID == c.leader {
		wave := k % 20
		if wave > 10 {
			wave = 20 - wave
		}
		mm.TPS, mm.Connections = float64(20+10*wave), float64(5+k/15)
		return mm
	}
	mm.TPS, mm.Connections = float64(1+(k+i)%3), 2
	mm.LagSeconds = 0.001 * float64((k*(i+2))%5)
	return mm
}
