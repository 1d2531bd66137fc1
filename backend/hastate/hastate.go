// Package hastate reads a cluster's HA state from its store (cluster
// data, members, leader key) and turns it into the backend's status
// fields, and runs a planned switchover through the cluster data. Every
// platform whose nodes share an etcd uses it.
package hastate

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// View is one read of a cluster's HA state from the store.
type View struct {
	Data    *cluster.Data // nil before the cluster was bootstrapped
	Members map[string]cluster.MemberState
	Leader  cluster.LeaderKey
}

// Read reads the cluster data, the members and the leader key.
func Read(ctx context.Context, st *store.Store) (View, error) {
	cd, _, err := st.ClusterData(ctx)
	if err != nil {
		return View{}, err
	}
	ms, err := st.Members(ctx)
	if err != nil {
		return View{}, err
	}
	lk, err := st.Leader(ctx)
	if err != nil {
		return View{}, err
	}
	return View{Data: cd, Members: ms, Leader: lk}, nil
}

// LeaderID is the member that leads and holds the leader key, or "".
func (v View) LeaderID() string {
	if v.Data == nil || v.Leader.Holder != v.Data.Leader {
		return ""
	}
	return v.Data.Leader
}

// NamedLeader is the leader the cluster data names, "" before bootstrap.
func (v View) NamedLeader() string {
	if v.Data == nil {
		return ""
	}
	return v.Data.Leader
}

// Header fills the cluster-wide fields of a status: generation, leader,
// sync standby, async, version.
func (v View) Header(out *backend.ClusterStatus) {
	if v.Data == nil {
		return
	}
	out.Generation, out.Leader = v.Data.Generation, v.Data.Leader
	out.Async = v.Data.Async || !v.Data.Options.SyncMode
	if !out.Async && len(v.Data.SyncSafe) == 1 {
		out.SyncStandby = v.Data.SyncSafe[0]
	}
	out.Version = int(v.Data.Generation) - 1
	if l := v.Members[v.Data.Leader]; l.Info != nil && l.Info.ReadOnly {
		out.ReadOnly, out.ReadOnlyReason = true, l.Info.ReadOnlyReason
	}
}

// Member fills a machine row's role and lag from member's published
// state, when it is alive (and, for platforms that know, running).
func (v View) Member(ms *backend.MachineStatus, member string) {
	if v.Data != nil {
		ms.Version = int(v.Data.Generation) - 1
	}
	st := v.Members[member]
	if !st.Alive || st.Info == nil {
		return
	}
	i := st.Info
	ms.Role = string(i.Role)
	if lead := v.Members[v.NamedLeader()]; lead.Info != nil && i.Role == cluster.RoleReplica && lead.Info.WAL > i.WAL {
		ms.LagBytes = int64(lead.Info.WAL - i.WAL)
	}
}

// Deployment counts machines into the deployment block and sets the
// cluster's status from it.
func Deployment(out *backend.ClusterStatus, desired, placed, healthy int) {
	d := &out.Deployment
	d.Version = out.Version
	d.Desired, d.Placed, d.Healthy, d.Unhealthy = desired, placed, healthy, desired-healthy
	switch {
	case d.Healthy == d.Desired && d.Desired > 0:
		out.Status, d.Status, d.Description = "running", "successful", "Deployment completed successfully"
	case d.Placed < d.Desired:
		out.Status, d.Status, d.Description = "pending", "running", "Machines starting"
	default:
		out.Status, d.Status, d.Description = "running", "running", "Some machines are not healthy yet"
	}
}

// Switchover asks the sentinel for a planned switchover and waits, at
// most timeout, until another member leads and holds the key.
func Switchover(ctx context.Context, st *store.Store, name string, timeout time.Duration) (*backend.FailoverResult, error) {
	start := time.Now()
	v, err := Read(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("read cluster %s from the store: %w", name, err)
	}
	old := v.LeaderID()
	if old == "" {
		return nil, fmt.Errorf("cluster %s has no leader right now: check `pgtui status -a %s`", name, name)
	}
	if err := nodeimage.RequestSwitchover(ctx, st, "", false); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		v, err := Read(ctx, st)
		if err == nil && v.Data != nil && v.Data.Switchover == nil {
			if v.Data.Leader == old {
				return nil, fmt.Errorf("switchover of %s was aborted: %s is still leader (see the machine logs)", name, old)
			}
			if m := v.Members[v.Data.Leader]; v.Leader.Holder == v.Data.Leader && m.Info != nil && m.Info.Role == cluster.RoleLeader {
				return &backend.FailoverResult{OldLeader: old, NewLeader: v.Data.Leader, Took: time.Since(start)}, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("switchover of %s not finished within %s", name, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Config is `postgres config show`: the cluster's options and the
// leader's read-only state. The view must hold cluster data.
func Config(v View) *backend.ClusterConfig {
	return configOf(v.Data, v.Members[v.Data.Leader])
}

func configOf(cd *cluster.Data, leader cluster.MemberState) *backend.ClusterConfig {
	o := cd.Options
	c := &backend.ClusterConfig{SSL: !o.SSLDisabled, ReadOnlyBelowPct: o.ReadOnlyThreshold() * 100, SyncMode: o.SyncMode,
		Strict: o.Strict, MaxLagBytes: o.MaxLagBytes, ReadOnlyByHand: o.ReadOnly}
	if leader.Info != nil {
		c.ReadOnly, c.FreePct, c.ReadOnlyReason = leader.Info.ReadOnly, leader.Info.FreePct, leader.Info.ReadOnlyReason
	}
	return c
}

// UpdateConfig changes the given options in the cluster data; keepers
// apply them.
func UpdateConfig(ctx context.Context, st *store.Store, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	if u.ReadOnlyBelowPct != nil && (*u.ReadOnlyBelowPct < 0 || *u.ReadOnlyBelowPct > 99) {
		return nil, backend.InputError{Err: fmt.Errorf("read-only threshold %.1f%% is out of range: choose 0 (off) to 99", *u.ReadOnlyBelowPct)}
	}
	if u.MaxLagBytes != nil && *u.MaxLagBytes < 0 {
		return nil, backend.InputError{Err: fmt.Errorf("max lag %d is negative", *u.MaxLagBytes)}
	}
	cd, err := nodeimage.UpdateOptions(ctx, st, func(o *cluster.Options) error {
		if u.SSL != nil {
			o.SSLDisabled = !*u.SSL
		}
		if u.ReadOnlyBelowPct != nil {
			o.ReadOnlyBelowPct = *u.ReadOnlyBelowPct
			if o.ReadOnlyBelowPct == 0 {
				o.ReadOnlyBelowPct = -1 // 0 from the user means off
			}
		}
		if u.MaxLagBytes != nil {
			o.MaxLagBytes = *u.MaxLagBytes
		}
		if u.ReadOnly != nil {
			o.ReadOnly = *u.ReadOnly
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return configOf(cd, cluster.MemberState{}), nil
}
