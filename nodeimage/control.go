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
