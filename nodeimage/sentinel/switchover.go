package sentinel

import (
	"fmt"
	"time"

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
		target := sw.Target
		if !caughtUp(in.Members[target], oldSt.Info.WAL) {
			// Any replica that received the shutdown checkpoint holds every
			// commit; after a grace period one of them stands in, rather
			// than the switchover timing out with the leader down.
			target = ""
			if in.Now.Sub(d.ChangeTime) > switchoverTargetGrace {
				target = caughtUpReplica(d, in, old, oldSt.Info.WAL)
			}
			if target == "" {
				return true // nobody has the shutdown checkpoint yet
			}
		}
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

// switchoverTargetGrace is how long the named target may take to receive
// the old leader's shutdown checkpoint before another replica that has it
// is promoted instead.
const switchoverTargetGrace = 5 * time.Second

func caughtUp(st cluster.MemberState, final uint64) bool {
	return st.Alive && st.Info != nil && st.Info.Role == cluster.RoleReplica && st.Info.WAL > final
}

// caughtUpReplica is the healthy replica with most WAL past final, or "".
func caughtUpReplica(d *cluster.Data, in Input, old string, final uint64) string {
	best := ""
	for _, name := range sortedNames(in.Members) {
		st := in.Members[name]
		if name == old || d.Members[name] == nil || !caughtUp(st, final) || !st.Info.Healthy {
			continue
		}
		if best == "" || st.Info.WAL > in.Members[best].Info.WAL {
			best = name
		}
	}
	return best
}
