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
		if sw.Phase == cluster.PhaseRequested {
			// The leader was never stopped: nothing to resume.
			abortSwitchover(d, fmt.Sprintf("switchover aborted after %s: no replica was ready to take over; %s stays leader", in.Timing.SwitchoverTimeout, old), ds)
			return true
		}
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
		// Stop the leader only once the target streams from it, on its
		// timeline and close behind: a replica still catching up (say,
		// just rejoined) may never receive the shutdown checkpoint, and
		// the leader would stay down until the timeout.
		if why := notReady(d, in, old, target); why != "" {
			if !sw.Waiting {
				sw.Waiting = true
				*ds = append(*ds, Decision{Kind: "switchover", Reason: fmt.Sprintf("switchover: waiting for %s before stopping %s: %s", target, old, why)})
			}
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
		if sw.Stopped.IsZero() {
			sw.Stopped = in.Now
		}
		target := sw.Target
		if !caughtUp(in.Members[target], oldSt.Info.WAL) {
			if in.Now.Sub(sw.Stopped) <= switchoverTargetGrace {
				return true // the target may still be reporting it
			}
			// Any replica that received the shutdown checkpoint holds every
			// commit and stands in. With the leader down nobody can receive
			// it any more, so if none has it the old leader comes back now
			// rather than at the timeout.
			if target = caughtUpReplica(d, in, old, oldSt.Info.WAL); target == "" {
				abortSwitchover(d, fmt.Sprintf("switchover aborted: no replica received %s's shutdown checkpoint within %s; %s resumes as leader", old, switchoverTargetGrace, old), ds)
				d.ChangeTime = in.Now
				return true
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

// switchoverTargetGrace is how long after the old leader's clean stop the
// named target may take to report its shutdown checkpoint before another
// replica that has it is promoted instead, or the switchover is aborted.
const switchoverTargetGrace = 5 * time.Second

// notReady says why target cannot take over from leader without a wait
// ("" when it can): it must stream from leader in this generation, on the
// leader's timeline, within max lag.
func notReady(d *cluster.Data, in Input, leader, target string) string {
	t, l := in.Members[target].Info, in.Members[leader].Info
	switch {
	case !t.Streaming || t.Follow != leader || t.Generation != d.Generation:
		return fmt.Sprintf("it is not streaming from %s yet", leader)
	case t.Timeline != l.Timeline:
		return fmt.Sprintf("it is on timeline %d, %s on %d", t.Timeline, leader, l.Timeline)
	case l.WAL > t.WAL && int64(l.WAL-t.WAL) > d.Options.MaxLagBytes && !d.Switchover.Force:
		return fmt.Sprintf("it is %d bytes behind (max %d)", l.WAL-t.WAL, d.Options.MaxLagBytes)
	}
	return ""
}

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
