package fake

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// Logs returns a fixed set of lines per machine (one per process), the
// seed's health check line among them; with Follow the channel stays open
// until ctx ends, carrying the lines LogBurst and LogRate ask for.
func (b *Backend) Logs(ctx context.Context, name string, f backend.LogFilter) (<-chan backend.LogLine, error) {
	b.mu.Lock()
	c := b.clusters[name]
	var lines []backend.LogLine
	var machines []backend.MachineStatus
	burst, rate := b.LogBurst, b.LogRate
	if c != nil {
		for i, m := range c.machines {
			if f.Machine != "" && f.Machine != m.status.ID {
				continue
			}
			machines = append(machines, m.status)
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
	generate := f.Follow && len(machines) > 0 && (burst > 0 || rate > 0)
	room := len(lines)
	if generate {
		room += genBuffer
	}
	out := make(chan backend.LogLine, room)
	for _, l := range lines {
		out <- l
	}
	if !f.Follow {
		close(out)
		return out, nil
	}
	if generate {
		go func() {
			defer close(out)
			b.generate(ctx, out, machines, burst, rate)
		}()
		return out, nil
	}
	go func() { <-ctx.Done(); close(out) }()
	return out, nil
}

// genBuffer is a generated stream's channel buffer, as the local
// client's; genTick is how often a paced stream sends what is due.
const (
	genBuffer = 256
	genTick   = 10 * time.Millisecond
)

// generate sends burst lines, then rate lines a second, until ctx ends.
// Lines take turns over the machines; line n (from 1) says "generated
// line n". A slow reader slows the stream (as the agent's): nothing is
// dropped, and the paced part catches up with its schedule when it can.
func (b *Backend) generate(ctx context.Context, out chan<- backend.LogLine, machines []backend.MachineStatus, burst, rate int) {
	n := 0
	send := func() bool {
		n++
		m := machines[n%len(machines)]
		l := backend.LogLine{Time: Epoch().Add(time.Duration(n) * time.Millisecond), Machine: m.ID, Region: m.Region,
			Proc: "postgres", Level: "info", Message: "generated line " + strconv.Itoa(n)}
		select {
		case out <- l:
			b.generated.Add(1)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for range burst {
		if !send() {
			return
		}
	}
	if rate <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(genTick)
	defer t.Stop()
	start, sent := time.Now(), 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := int(now.Sub(start).Seconds() * float64(rate))
			for ; sent < due; sent++ {
				if !send() {
					return
				}
			}
		}
	}
}

// GeneratedLogLines counts the lines LogBurst and LogRate made so far,
// over every stream.
func (b *Backend) GeneratedLogLines() int64 { return b.generated.Load() }
