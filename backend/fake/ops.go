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
	return &backend.FailoverResult{OldLeader: old, NewLeader: next, Took: 1500 * time.Millisecond}, nil
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
		m.status.State, m.status.Desired = "running", "run"
		m.event(t, "started", "machine started")
	case backend.ActionStop:
		m.status.State, m.status.Desired = "stopped", "stop"
		m.event(t, "stopped", "machine stopped")
		if c.leader == id {
			if next := c.nextLeader(); next != "" {
				c.leader, c.generation = next, c.generation+1
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
