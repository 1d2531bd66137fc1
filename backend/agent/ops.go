package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/hastate"
	"github.com/pgtui/pgtui/nodeimage"
)

// opTimeout bounds one orchestration step (a machine coming back healthy).
const opTimeout = 3 * time.Minute

// destroy stops every machine and removes volumes, store keys, secrets
// and logs.
func (a *Agent) destroy(ctx context.Context, name string) error {
	c, _, err := a.snapshot(name)
	if err != nil {
		return err
	}
	for _, m := range c.Machines {
		a.stopMachine(m.ID)
	}
	for _, m := range c.Machines {
		_ = os.RemoveAll(m.Volume)
		_ = os.Remove(logPath(a.cfg.Home, m.ID))
		_ = os.Remove(logPath(a.cfg.Home, m.ID) + ".1")
	}
	if err := a.store(name).DeleteCluster(ctx); err != nil {
		a.log.Warn("delete cluster keys", "cluster", name, "err", err)
	}
	_ = os.RemoveAll(filepath.Dir(secretsPath(a.cfg.Home, name)))
	// The backups go with the cluster: its cipher key is gone too.
	_ = os.RemoveAll(filepath.Join(backupsDir(a.cfg.Home), name))
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.state.Clusters, name)
	return a.save()
}

// waitHealthy waits until every machine of the cluster passes its checks
// and, with want > 0, there are that many machines.
func (a *Agent) waitHealthy(ctx context.Context, name string) (*backend.ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	for {
		st, err := a.status(ctx, name)
		if err == nil && st.Deployment.Desired > 0 && st.Deployment.Healthy == st.Deployment.Desired {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster %s did not become healthy within %s", name, opTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// failover runs a planned switchover and waits for the new leader.
func (a *Agent) failover(ctx context.Context, name string) (*backend.FailoverResult, error) {
	if _, _, err := a.snapshot(name); err != nil {
		return nil, err
	}
	return hastate.Switchover(ctx, a.store(name), name, opTimeout)
}

// restart is rolling: replicas one at a time, then a switchover, then
// the old leader, each time waiting until the cluster is healthy.
func (a *Agent) restart(ctx context.Context, name string) error {
	if _, err := a.waitHealthy(ctx, name); err != nil {
		return fmt.Errorf("restart refused: %w", err)
	}
	leader := a.leaderID(ctx, name)
	c, _, err := a.snapshot(name)
	if err != nil {
		return err
	}
	for _, m := range c.Machines {
		if m.ID == leader {
			continue
		}
		if err := a.restartMachine(ctx, name, m.ID); err != nil {
			return err
		}
	}
	if leader == "" || len(c.Machines) == 1 {
		if leader != "" {
			return a.restartMachine(ctx, name, leader)
		}
		return nil
	}
	if _, err := a.failover(ctx, name); err != nil {
		return err
	}
	return a.restartMachine(ctx, name, leader)
}

func (a *Agent) restartMachine(ctx context.Context, name, id string) error {
	a.stopMachine(id)
	a.mu.Lock()
	c := a.state.Clusters[name]
	if m := c.machine(id); m != nil {
		a.startMachineLocked(c, m)
	}
	a.mu.Unlock()
	_, err := a.waitHealthy(ctx, name)
	return err
}

// scaleVM changes every machine's size, then restarts them in rolling order.
func (a *Agent) scaleVM(ctx context.Context, name, size string) error {
	if _, err := backend.LookupVMSize(size); err != nil {
		return err
	}
	a.mu.Lock()
	c := a.state.Clusters[name]
	if c == nil {
		a.mu.Unlock()
		return notFound("postgres cluster", name)
	}
	c.VMSize = size
	for _, m := range c.Machines {
		m.VMSize = size
	}
	err := a.save()
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return a.restart(ctx, name)
}

// scaleCount adds replicas with new volumes, or removes replicas (never
// the leader; the sync standby last).
func (a *Agent) scaleCount(ctx context.Context, name string, count int, region string) error {
	if count < 1 || count > backend.MaxClusterSize {
		return fmt.Errorf("count %d is out of range: choose 1 to %d", count, backend.MaxClusterSize)
	}
	a.mu.Lock()
	c := a.state.Clusters[name]
	if c == nil {
		a.mu.Unlock()
		return notFound("postgres cluster", name)
	}
	if region == "" {
		region = c.Region
	} else if _, err := backend.LookupRegion(region); err != nil {
		a.mu.Unlock()
		return err
	}
	var added []*Machine
	for len(c.Machines) < count {
		if err := a.addMachine(c, region); err != nil {
			a.mu.Unlock()
			return err
		}
		added = append(added, c.Machines[len(c.Machines)-1])
	}
	if err := a.save(); err != nil {
		a.mu.Unlock()
		return err
	}
	for _, m := range added {
		a.startMachineLocked(c, m)
	}
	remove := len(c.Machines) - count
	a.mu.Unlock()
	if remove > 0 {
		if err := a.removeReplicas(ctx, name, remove); err != nil {
			return err
		}
	}
	_, err := a.waitHealthy(ctx, name)
	return err
}

func (a *Agent) removeReplicas(ctx context.Context, name string, n int) error {
	v, err := a.readView(ctx, name)
	if err != nil {
		return err
	}
	c, _, err := a.snapshot(name)
	if err != nil {
		return err
	}
	var cands []string
	for _, m := range c.Machines {
		if v.Data == nil || m.ID != v.Data.Leader {
			cands = append(cands, m.ID)
		}
	}
	// Newest first, the sync standby last.
	sort.SliceStable(cands, func(i, j int) bool {
		si := v.Data != nil && cands[i] == v.Data.SyncStandby
		sj := v.Data != nil && cands[j] == v.Data.SyncStandby
		if si != sj {
			return sj
		}
		return c.machine(cands[i]).Created.After(c.machine(cands[j]).Created)
	})
	for _, id := range cands[:n] {
		a.stopMachine(id)
		if err := nodeimage.RemoveMember(ctx, a.store(name), id); err != nil {
			return err
		}
		a.mu.Lock()
		cl := a.state.Clusters[name]
		for i, m := range cl.Machines {
			if m.ID == id {
				_ = os.RemoveAll(m.Volume)
				cl.Machines = append(cl.Machines[:i], cl.Machines[i+1:]...)
				break
			}
		}
		err := a.save()
		a.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// machineAction starts, stops, restarts or kills one machine.
func (a *Agent) machineAction(ctx context.Context, name, id string, act backend.MachineAction) error {
	a.mu.Lock()
	c := a.state.Clusters[name]
	m := c.machine(id)
	if m == nil {
		a.mu.Unlock()
		if c == nil {
			return notFound("postgres cluster", name)
		}
		return notFound("machine", id)
	}
	a.mu.Unlock()
	switch act {
	case backend.ActionStart:
		a.mu.Lock()
		a.startMachineLocked(c, m)
		_ = a.save()
		a.mu.Unlock()
	case backend.ActionStop:
		a.stopMachine(id)
		a.mu.Lock()
		m.Desired = "stop"
		m.event("stopped", "stopped by user")
		_ = a.save()
		a.mu.Unlock()
	case backend.ActionRestart:
		return a.restartMachine(ctx, name, id)
	case backend.ActionKill:
		a.mu.Lock()
		p := a.procs[id]
		a.mu.Unlock()
		if p == nil {
			return fmt.Errorf("machine %s is not running", id)
		}
		p.signal(syscall.SIGKILL)
	default:
		return fmt.Errorf("unknown machine action %q: use start, stop, restart or kill", act)
	}
	return nil
}
