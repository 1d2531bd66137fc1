package nodeimage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// RequestSwitchover asks the sentinel for a planned leader change to target
// ("" = the best replica). The sentinel carries it out; this only records
// the request, with compare-and-swap so no concurrent change is lost.
func RequestSwitchover(ctx context.Context, st *store.Store, target string, force bool) error {
	for {
		cd, rev, err := st.ClusterData(ctx)
		if err != nil {
			return err
		}
		if cd == nil {
			return errors.New("switchover: cluster not bootstrapped yet")
		}
		if cd.Switchover != nil {
			return fmt.Errorf("switchover: one is already in progress (to %q, %s)", cd.Switchover.Target, cd.Switchover.Phase)
		}
		if target != "" && cd.Members[target] == nil {
			return fmt.Errorf("switchover: %q is not a member of the cluster", target)
		}
		if target == cd.Leader && target != "" {
			return fmt.Errorf("switchover: %s is already the leader", target)
		}
		cd.Switchover = &cluster.Switchover{Target: target, Requested: time.Now().UTC(), Phase: cluster.PhaseRequested, Force: force}
		if _, err := st.PutClusterData(ctx, cd, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return err
		}
		return nil
	}
}

// RemoveMember takes a stopped replica out of the cluster data, so that
// no decision waits for it or counts it. The leader cannot be removed.
// Removing the sync standby records Async first: nobody else is known to
// hold every acknowledged commit until a new sync standby catches up.
func RemoveMember(ctx context.Context, st *store.Store, name string) error {
	for {
		cd, rev, err := st.ClusterData(ctx)
		if err != nil {
			return err
		}
		if cd == nil || cd.Members[name] == nil {
			return st.DeleteMember(ctx, name)
		}
		if cd.Leader == name {
			return fmt.Errorf("remove member: %s is the leader; fail over first", name)
		}
		delete(cd.Members, name)
		safe := cd.SyncSafe[:0:0]
		for _, s := range cd.SyncSafe {
			if s != name {
				safe = append(safe, s)
			}
		}
		cd.SyncSafe = safe
		if cd.SyncStandby == name {
			cd.SyncStandby = ""
			cd.Async = cd.Options.SyncMode && !cd.Options.Strict
		}
		if _, err := st.PutClusterData(ctx, cd, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return err
		}
		return st.DeleteMember(ctx, name)
	}
}

// UpdateOptions changes the cluster's options with compare-and-swap; the
// keepers apply them (TLS, read-only threshold) on their next round.
func UpdateOptions(ctx context.Context, st *store.Store, f func(*cluster.Options) error) (*cluster.Data, error) {
	for {
		cd, rev, err := st.ClusterData(ctx)
		if err != nil {
			return nil, err
		}
		if cd == nil {
			return nil, errors.New("update options: cluster not bootstrapped yet")
		}
		if err := f(&cd.Options); err != nil {
			return nil, err
		}
		if _, err := st.PutClusterData(ctx, cd, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		return cd, nil
	}
}
