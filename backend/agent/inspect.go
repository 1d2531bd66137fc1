package agent

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/nodeclient"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// view is one read of a cluster's HA state from the store.
type view struct {
	data    *cluster.Data
	members map[string]cluster.MemberState
	leader  cluster.LeaderKey
}

func (a *Agent) store(name string) *store.Store { return store.New(a.cli, name) }

func (a *Agent) readView(ctx context.Context, name string) (view, error) {
	st := a.store(name)
	cd, _, err := st.ClusterData(ctx)
	if err != nil {
		return view{}, err
	}
	ms, err := st.Members(ctx)
	if err != nil {
		return view{}, err
	}
	lk, err := st.Leader(ctx)
	if err != nil {
		return view{}, err
	}
	return view{data: cd, members: ms, leader: lk}, nil
}

// leaderID is the machine that leads and holds the leader key, or "".
func (a *Agent) leaderID(ctx context.Context, name string) string {
	v, err := a.readView(ctx, name)
	if err != nil || v.data == nil || v.leader.Holder != v.data.Leader {
		return ""
	}
	return v.data.Leader
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
	if v.data != nil {
		out.Generation, out.Leader = v.data.Generation, v.data.Leader
		out.Async = v.data.Async || !v.data.Options.SyncMode
		if !out.Async && len(v.data.SyncSafe) == 1 {
			out.SyncStandby = v.data.SyncSafe[0]
		}
		out.Version = int(v.data.Generation) - 1
	}
	d := &out.Deployment
	for _, m := range c.Machines {
		ms, ok := machineStatus(m, running[m.ID], v, checksOf[m.ID])
		ms.Started = started[m.ID]
		out.Machines = append(out.Machines, ms)
		serving[m.ID] = ok
		d.Desired++
		if m.Desired == "run" { // placed on this host, running or starting
			d.Placed++
		}
		if ok {
			d.Healthy++
		} else {
			d.Unhealthy++
		}
	}
	sort.Slice(out.Machines, func(i, j int) bool { return out.Machines[i].Created.Before(out.Machines[j].Created) })
	d.Version = out.Version
	switch {
	case d.Healthy == d.Desired && d.Desired > 0:
		out.Status, d.Status, d.Description = "running", "successful", "Deployment completed successfully"
	case d.Placed < d.Desired:
		out.Status, d.Status, d.Description = "pending", "running", "Machines starting"
	default:
		out.Status, d.Status, d.Description = "running", "running", "Some machines are not healthy yet"
	}
	return out, serving, nil
}

// machineStatus derives a machine row; its check counts come from the
// checks its node serves, and it serves when its pg and role checks pass.
func machineStatus(m *Machine, running bool, v view, cs []backend.Check) (backend.MachineStatus, bool) {
	ms := backend.MachineStatus{
		ID: m.ID, Region: m.Region, Desired: m.Desired, PrivateIP: m.IP, VMSize: m.VMSize,
		Restarts: m.Restarts, Created: m.Created, Volume: m.Volume, State: "stopped",
	}
	if v.data != nil {
		ms.Version = int(v.data.Generation) - 1
	}
	if running {
		ms.State = "running"
	}
	var serving bool
	ms.Checks, serving = nodeclient.CountChecks(cs)
	ms.Connections = nodeclient.Connections(cs)
	st := v.members[m.ID]
	if st.Alive && st.Info != nil && running {
		i := st.Info
		ms.Role = string(i.Role)
		if lead := v.members[leaderOf(v)]; lead.Info != nil && i.Role == cluster.RoleReplica && lead.Info.WAL > i.WAL {
			ms.LagBytes = int64(lead.Info.WAL - i.WAL)
		}
	}
	return ms, serving && running
}

func leaderOf(v view) string {
	if v.data == nil {
		return ""
	}
	return v.data.Leader
}

// notFoundError is an unknown name; the API maps it to 404.
type notFoundError struct{ kind, name string }

func (e notFoundError) Error() string {
	return fmt.Sprintf("%s %q not found: see `pgtui postgres list` / `pgtui apps list`", e.kind, e.name)
}

func notFound(kind, name string) error { return notFoundError{kind, name} }
