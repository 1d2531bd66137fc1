package agent

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/hastate"
	"github.com/pgtui/pgtui/backend/nodeclient"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// view is one read of a cluster's HA state from the store.
type view = hastate.View

func (a *Agent) store(name string) *store.Store { return store.New(a.cli, name) }

func (a *Agent) readView(ctx context.Context, name string) (view, error) {
	return hastate.Read(ctx, a.store(name))
}

// leaderID is the machine that leads and holds the leader key, or "".
func (a *Agent) leaderID(ctx context.Context, name string) string {
	v, err := a.readView(ctx, name)
	if err != nil {
		return ""
	}
	return v.LeaderID()
}

// snapshot copies a cluster under the lock, with which machines run.
func (a *Agent) snapshot(name string) (Cluster, map[string]bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.state.Clusters[name]
	if c == nil {
		return Cluster{}, nil, notFound("postgres cluster", name)
	}
	cp := *c
	cp.Machines = nil
	running := map[string]bool{}
	for _, m := range c.Machines {
		mm := *m
		mm.Events = append([]backend.Event(nil), m.Events...)
		cp.Machines = append(cp.Machines, &mm)
		if p := a.procs[m.ID]; p != nil && p.running() {
			running[m.ID] = true
		}
	}
	return cp, running, nil
}

// startTimes is when each running machine's node started (its uptime).
func (a *Agent) startTimes(c Cluster) map[string]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]time.Time{}
	for _, m := range c.Machines {
		if p := a.procs[m.ID]; p != nil {
			if t := p.since(); !t.IsZero() {
				out[m.ID] = t.UTC()
			}
		}
	}
	return out
}

// status builds `status -a NAME`. Health counts come from the checks.
func (a *Agent) status(ctx context.Context, name string) (*backend.ClusterStatus, error) {
	st, _, err := a.inspect(ctx, name)
	return st, err
}

// inspect builds the status and says which machines serve (their pg and
// role checks pass): those count as healthy.
func (a *Agent) inspect(ctx context.Context, name string) (*backend.ClusterStatus, map[string]bool, error) {
	c, running, err := a.snapshot(name)
	if err != nil {
		return nil, nil, err
	}
	started := a.startTimes(c)
	v, err := a.readView(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("read cluster %s from the store: %w", name, err)
	}
	checksOf := a.fetchChecks(ctx, c, running)
	serving := map[string]bool{}
	out := &backend.ClusterStatus{Name: c.Name, Org: c.Org, Hostname: c.Name + ".internal"}
	v.Header(out)
	placed, healthy := 0, 0
	for _, m := range c.Machines {
		ms, ok := machineStatus(m, running[m.ID], v, checksOf[m.ID])
		ms.Started = started[m.ID]
		out.Machines = append(out.Machines, ms)
		serving[m.ID] = ok
		if m.Desired == "run" { // placed on this host, running or starting
			placed++
		}
		if ok {
			healthy++
		}
	}
	sort.Slice(out.Machines, func(i, j int) bool { return out.Machines[i].Created.Before(out.Machines[j].Created) })
	if line, ok := nodeclient.BackupLine(checksOf[out.Leader]); line != "" {
		out.Backup, out.BackupCritical = line, !ok
	}
	hastate.Deployment(out, len(c.Machines), placed, healthy)
	return out, serving, nil
}

// machineStatus derives a machine row; its check counts come from the
// checks its node serves, and it serves when its pg and role checks pass.
func machineStatus(m *Machine, running bool, v view, cs []backend.Check) (backend.MachineStatus, bool) {
	ms := backend.MachineStatus{
		ID: m.ID, Region: m.Region, Desired: m.Desired, PrivateIP: m.IP, VMSize: m.VMSize,
		Restarts: m.Restarts, Created: m.Created, Volume: m.Volume, State: "stopped",
	}
	if running {
		ms.State = "running"
		v.Member(&ms, m.ID)
	} else if v.Data != nil {
		ms.Version = int(v.Data.Generation) - 1
	}
	var serving bool
	ms.Checks, serving = nodeclient.CountChecks(cs)
	ms.Connections = nodeclient.Connections(cs)
	return ms, serving && running
}

// notFoundError is an unknown name; the API maps it to 404.
type notFoundError struct{ kind, name string }

func (e notFoundError) Error() string {
	return fmt.Sprintf("%s %q not found: see `pgtui postgres list` / `pgtui apps list`", e.kind, e.name)
}

func notFound(kind, name string) error { return notFoundError{kind, name} }
