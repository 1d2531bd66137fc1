package fake

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// Logs returns a fixed set of lines per machine (one per process), the
// seed's health check line among them, then what the nodes logged since
// (see nodeLog); with Follow the channel stays open until ctx ends,
// carrying the lines the nodes log from then on and those LogBurst and
// LogRate ask for.
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
		for _, l := range c.log {
			if f.Machine == "" || f.Machine == l.Machine {
				lines = append(lines, l)
			}
		}
	}
	if c == nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("postgres cluster %q not found", name)
	}
	generate := f.Follow && len(machines) > 0 && (burst > 0 || rate > 0)
	room := len(lines) + liveBuffer
	if generate {
		room += genBuffer
	}
	out := make(chan backend.LogLine, room)
	for _, l := range lines {
		out <- l
	}
	if !f.Follow {
		b.mu.Unlock()
		close(out)
		return out, nil
	}
	// Registered under the same lock as the history was read, so no line
	// logged in between is lost or sent twice.
	fl := &follower{machine: f.Machine, out: out}
	if c.followers == nil {
		c.followers = map[*follower]bool{}
	}
	c.followers[fl] = true
	b.mu.Unlock()
	go func() {
		defer func() {
			// Unregistered first, under b.mu, so nodeLog never sends on
			// the closed channel.
			b.mu.Lock()
			delete(c.followers, fl)
			b.mu.Unlock()
			close(out)
		}()
		if generate {
			b.generate(ctx, out, machines, burst, rate)
			return
		}
		<-ctx.Done()
	}()
	return out, nil
}

// liveBuffer is the room a followed stream has for lines the nodes log
// (nodeLog) beyond what it was opened with.
const liveBuffer = 64

// follower is an open followed stream of a cluster's logs.
type follower struct {
	machine string // "" = all
	out     chan<- backend.LogLine
}

// logLine is one line a node logs: after how long, on which machine, by
// which process, at which level, and the message with its attributes
// appended as the agent delivers them ("promoting generation=2").
type logLine struct {
	after   time.Duration
	machine string
	proc    string
	level   string
	msg     string
}

// nodeLog records lines the nodes log at t plus each line's offset, as
// the real ones would for a failover or a switchover, and hands them to
// the open followed streams. It never waits for a reader: a stream
// whose buffer is full misses them. b.mu is held.
func (c *cluster) nodeLog(t time.Time, lines ...logLine) {
	for _, nl := range lines {
		l := backend.LogLine{Time: t.Add(nl.after), Machine: nl.machine, Region: c.region, Proc: nl.proc, Level: nl.level, Message: nl.msg}
		if m, err := c.machine(nl.machine); err == nil {
			l.Region = m.status.Region
		}
		c.log = append(c.log, l)
		if len(c.log) > maxNodeLog {
			c.log = c.log[len(c.log)-maxNodeLog:]
		}
		for fl := range c.followers {
			if fl.machine != "" && fl.machine != l.Machine {
				continue
			}
			select {
			case fl.out <- l:
			default:
			}
		}
	}
}

// maxNodeLog bounds the node lines a cluster keeps for replay.
const maxNodeLog = 200

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
		// Counted before the send, so a reader that got line n sees at
		// least n counted.
		b.generated.Add(1)
		select {
		case out <- l:
			return true
		case <-ctx.Done():
			b.generated.Add(-1)
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
