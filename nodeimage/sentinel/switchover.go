package sentinel

import (
	"fmt"

	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// switchover runs a planned leader change: the old leader first shuts down
// cleanly (its postgres sends all WAL to connected standbys on the way
// down), and the target is promoted only once it has received everything.
// It reports whether it handled this round.
func switchover(d *cluster.Data, in Input, ds *[]Decision) bool {
	sw := d.Switchover
	old := d.Leader
	if in.Now.Sub(sw.Requested) > in.Timing.SwitchoverTimeout {
		abortSwitchover(d, fmt.Sprintf("switchover aborted after %s: %s did not catch up; %s resumes as leader", in.Timing.SwitchoverTimeout, sw.Target, old), ds)
		d.ChangeTime = in.Now
		return true
	}
	switch sw.Phase {
	case cluster.PhaseRequested:
		if !converged(d, in) {
			abortSwitchover(d, fmt.Sprintf("switchover refused: leader %s is not running as leader", old), ds)
			return false
		}
		target := sw.Target
		if target == "" {
			target, _ = bestCandidate(d, in, old, true)
		}
		if st := in.Members[target]; target == old || d.Members[target] == nil || !st.Alive || st.Info == nil ||
			!st.Info.Healthy || st.Info.Role != cluster.RoleReplica {
			abortSwitchover(d, fmt.Sprintf("switchover refused: %q is not a healthy replica", target), ds)
			return true
		}
		sw.Target = target
		sw.Phase = cluster.PhaseStopping
		d.Members[old].Target = cluster.RoleFenced
		d.ChangeTime = in.Now
		*ds = append(*ds, Decision{Kind: "switchover", Reason: fmt.Sprintf("switchover: stopping leader %s cleanly before promoting %s", old, target)})
		return true
	case cluster.PhaseStopping:
		oldSt := in.Members[old]
		if !oldSt.Alive && (oldSt.Info == nil || !oldSt.Info.CleanStop) {
			d.Switchover = nil
			d.Members[old].Target = cluster.RoleLeader
			*ds = append(*ds, Decision{Kind: "switchover", Reason: fmt.Sprintf("switchover abandoned: %s died while stopping", old)})
			return false // fall through to failover handling
		}
		if oldSt.Info == nil || !oldSt.Info.CleanStop || oldSt.Info.Generation != d.Generation {
			return true // still stopping
		}
		t := in.Members[sw.Target]
		if !t.Alive || t.Info == nil || t.Info.WAL <= oldSt.Info.WAL {
			return true // target has not received the shutdown checkpoint yet
		}
		target := sw.Target
		promote(d, in, target)
		*ds = append(*ds, Decision{Kind: "switchover", Reason: fmt.Sprintf(
			"switchover: %s stopped cleanly and %s has all its WAL; promoting %s in generation %d", old, target, target, d.Generation)})
		return true
	}
	return false
}

func abortSwitchover(d *cluster.Data, reason string, ds *[]Decision) {
	d.Switchover = nil
	if m := d.Members[d.Leader]; m != nil {
		m.Target = cluster.RoleLeader
	}
	*ds = append(*ds, Decision{Kind: "switchover", Reason: reason})
}
