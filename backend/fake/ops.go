package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// Failover hands leadership to the next running machine.
func (b *Backend) Failover(_ context.Context, name string) (*backend.FailoverResult, error) {
	b.record("Failover")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	next := c.nextLeader()
	if next == "" {
		return nil, fmt.Errorf("cluster %s has no healthy replica to fail over to", name)
	}
	old := c.leader
	c.leader, c.generation = next, c.generation+1
	// The clock's reading without advancing it, so the times of whatever
	// follows a switchover stay as they were.
	c.switchoverLog(Epoch().Add(time.Duration(b.tick)*time.Second), old)
	return &backend.FailoverResult{OldLeader: old, NewLeader: next, Took: 1500 * time.Millisecond}, nil
}

// pgAddr is where a machine's postgres listens, as proxies log it.
func (c *cluster) pgAddr(id string) string {
	if m, err := c.machine(id); err == nil {
		return m.status.PrivateIP + ":5433"
	}
	return ""
}

// sentinel is the machine whose sentinel the fake has elected: the first
// running one.
func (c *cluster) sentinel() string {
	if r := c.running(); len(r) > 0 {
		return r[0].status.ID
	}
	return ""
}

// proxiesSwitched is every running node's proxy moving to the leader of
// the current generation, ten milliseconds apart from after on.
func (c *cluster) proxiesSwitched(after time.Duration, old string) []logLine {
	var out []logLine
	for i, m := range c.running() {
		out = append(out, logLine{after + time.Duration(i)*10*time.Millisecond, m.status.ID, "proxy", "info",
			fmt.Sprintf("proxy switched generation=%d addr=%s from_generation=%d from_addr=%s closed=0 unfenced=false",
				c.generation, c.pgAddr(c.leader), c.generation-1, c.pgAddr(old))})
	}
	return out
}

// switchoverLog is what the nodes log for a switchover from old to the
// leader, as stolon-like nodes do: the sentinel stops the old leader
// cleanly, promotes the target once it has all the WAL, the proxies
// follow, and the old leader restarts as a replica. b.mu is held.
func (c *cluster) switchoverLog(t time.Time, old string) {
	next, gen, s := c.leader, c.generation, c.sentinel()
	lines := []logLine{
		{0, s, "sentinel", "info", fmt.Sprintf("switchover: stopping leader %s cleanly before promoting %s kind=switchover generation=%d", old, next, gen-1)},
		{400 * time.Millisecond, old, "keeper", "info", "switchover: stopped cleanly wal=0/3000060"},
		{600 * time.Millisecond, s, "sentinel", "info", fmt.Sprintf("switchover: %s stopped cleanly and %s has all its WAL; promoting %s in generation %d kind=switchover generation=%d", old, next, next, gen, gen)},
		{700 * time.Millisecond, next, "keeper", "info", fmt.Sprintf("promoting generation=%d", gen)},
	}
	lines = append(lines, c.proxiesSwitched(900*time.Millisecond, old)...)
	lines = append(lines, logLine{1400 * time.Millisecond, old, "keeper", "info", fmt.Sprintf("starting as replica leader=%s generation=%d", next, gen)})
	c.nodeLog(t, lines...)
}

// failoverLog is what the nodes log when the leader old stopped and the
// leader took over: the sentinel sees its lease expire, promotes the
// leader, and the proxies follow. b.mu is held.
func (c *cluster) failoverLog(t time.Time, old string) {
	next, gen, s := c.leader, c.generation, c.sentinel()
	lines := []logLine{
		{2 * time.Second, s, "sentinel", "info", fmt.Sprintf("leader %s is gone (lease expired); promoting %s (most WAL: 50331744) in generation %d kind=failover generation=%d", old, next, gen, gen)},
		{2100 * time.Millisecond, next, "keeper", "info", fmt.Sprintf("promoting generation=%d", gen)},
	}
	c.nodeLog(t, append(lines, c.proxiesSwitched(2300*time.Millisecond, old)...)...)
}

// nextLeader is the first running machine after the leader, in placement
// order, or "" when there is none.
func (c *cluster) nextLeader() string {
	at := 0
	for i, m := range c.machines {
		if m.status.ID == c.leader {
			at = i
		}
	}
	for k := 1; k < len(c.machines); k++ {
		if m := c.machines[(at+k)%len(c.machines)]; m.status.State == "running" {
			return m.status.ID
		}
	}
	return ""
}

// Restart records a restart event on every machine.
func (b *Backend) Restart(_ context.Context, name string) error {
	b.record("Restart")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	t := b.now()
	for _, m := range c.machines {
		m.event(t, "restarted", "machine restarted (rolling restart)")
	}
	return nil
}

// ScaleVM changes every machine's size and bumps the version.
func (b *Backend) ScaleVM(_ context.Context, name, size string) error {
	b.record("ScaleVM")
	defer b.mu.Unlock()
	if _, err := backend.LookupVMSize(size); err != nil {
		return err
	}
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	c.vmSize = size
	c.version++
	for _, m := range c.machines {
		m.status.VMSize, m.status.Version = size, c.version
	}
	return nil
}

// ScaleCount adds replicas or removes the newest non-leader machines.
func (b *Backend) ScaleCount(_ context.Context, name string, count int, region string) error {
	b.record("ScaleCount")
	defer b.mu.Unlock()
	if err := backend.ValidateClusterSize(count); err != nil {
		return err
	}
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	if region == "" {
		region = c.region
	} else if _, err := backend.LookupRegion(region); err != nil {
		return err
	}
	for len(c.machines) < count {
		b.addMachine(c, region)
	}
	for i := len(c.machines) - 1; len(c.machines) > count && i >= 0; i-- {
		if c.machines[i].status.ID != c.leader {
			c.machines = append(c.machines[:i], c.machines[i+1:]...)
		}
	}
	c.version++
	return nil
}

// DestroyCluster removes a cluster and every attachment to it.
func (b *Backend) DestroyCluster(_ context.Context, name string) error {
	b.record("DestroyCluster")
	defer b.mu.Unlock()
	return b.destroyCluster(name)
}

// destroyCluster is DestroyCluster without the bookkeeping; b.mu is held.
func (b *Backend) destroyCluster(name string) error {
	if _, err := b.cluster(name); err != nil {
		return err
	}
	delete(b.clusters, name)
	for _, a := range b.apps {
		delete(a.attachments, name)
	}
	return nil
}

// MachineAction starts, stops, restarts or kills a machine. A stopped
// leader hands over to the next running machine, as the real sentinel
// would.
func (b *Backend) MachineAction(_ context.Context, name, id string, act backend.MachineAction) error {
	b.record("MachineAction")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	m, err := c.machine(id)
	if err != nil {
		return err
	}
	t := b.now()
	switch act {
	case backend.ActionStart:
		was := m.status.State
		m.status.State, m.status.Desired = "running", "run"
		m.event(t, "started", "machine started")
		if was != "running" && c.leader != id {
			c.nodeLog(t, logLine{time.Second, id, "keeper", "info", fmt.Sprintf("starting as replica leader=%s generation=%d", c.leader, c.generation)})
		}
	case backend.ActionStop:
		m.status.State, m.status.Desired = "stopped", "stop"
		m.event(t, "stopped", "machine stopped")
		if c.leader == id {
			if next := c.nextLeader(); next != "" {
				c.leader, c.generation = next, c.generation+1
				c.failoverLog(t, id)
			}
		}
	case backend.ActionRestart:
		m.event(t, "restarted", "machine restarted")
	case backend.ActionKill:
		m.status.Restarts++
		m.event(t, "exited", "machine killed")
		m.event(t, "restarted", "machine restarted by its supervisor")
	default:
		return fmt.Errorf("unknown machine action %q: use start, stop, restart or kill", act)
	}
	return nil
}
