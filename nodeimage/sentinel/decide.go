// Package sentinel decides the cluster's shape. Every node runs one; the one
// holding the election writes its decisions. Decide is a pure function of
// the cluster data, the members' published state and the clock, so every
// rule is table-tested; each change carries a one-line reason.
package sentinel

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// Timing bounds how long the sentinel waits before acting.
type Timing struct {
	// ConvergeTimeout: a newly named leader that has not taken the leader
	// key by then is given up on.
	ConvergeTimeout time.Duration
	// SyncGrace: how long writes may wait for a missing sync standby before
	// a non-strict leader falls back to asynchronous commits.
	SyncGrace time.Duration
	// SwitchoverTimeout: a planned switchover not finished by then is
	// aborted and the old leader resumes.
	SwitchoverTimeout time.Duration
}

// DefaultTiming suits a local cluster on a small machine.
func DefaultTiming() Timing {
	return Timing{ConvergeTimeout: 20 * time.Second, SyncGrace: time.Second, SwitchoverTimeout: 30 * time.Second}
}

// Input is everything a decision depends on.
type Input struct {
	Data      *cluster.Data // nil: not bootstrapped
	Members   map[string]cluster.MemberState
	LeaderKey cluster.LeaderKey
	Options   cluster.Options // used at bootstrap only
	Now       time.Time
	Timing    Timing
}

// Decision is one change with the reason for it, a timeline event.
type Decision struct {
	Kind   string // bootstrap, failover, switchover, sync, member
	Reason string
}

// Decide returns the new cluster data (the input data when nothing
// changes) and the decisions taken. It never mutates its input.
func Decide(in Input) (*cluster.Data, []Decision) {
	if in.Data == nil {
		return bootstrap(in)
	}
	d := in.Data.Clone()
	var ds []Decision
	addMembers(d, in, &ds)
	if d.Switchover != nil && switchover(d, in, &ds) {
		return d, ds
	}
	if lost, why := leaderLost(d, in); lost {
		failover(d, in, why, &ds)
		return d, ds
	}
	followLeader(d)
	manageSync(d, in, &ds)
	return d, ds
}

func bootstrap(in Input) (*cluster.Data, []Decision) {
	var names []string
	for name, st := range in.Members {
		if st.Alive && st.Info != nil {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	// Prefer a member that already holds data (cluster data was lost but
	// postgres was not), the one with most WAL; else the first by name.
	sort.Slice(names, func(i, j int) bool {
		a, b := in.Members[names[i]].Info, in.Members[names[j]].Info
		if a.Initialized != b.Initialized {
			return a.Initialized
		}
		if a.WAL != b.WAL {
			return a.WAL > b.WAL
		}
		return names[i] < names[j]
	})
	leader := names[0]
	d := &cluster.Data{
		FormatVersion: cluster.FormatVersion,
		Options:       in.Options,
		Generation:    1,
		Leader:        leader,
		Members:       map[string]*cluster.Member{},
		Async:         true, // no standby yet; set before any commit
		ChangeTime:    in.Now,
	}
	for _, n := range names {
		d.Members[n] = &cluster.Member{Name: n, Target: cluster.RoleReplica, Follow: leader, Generation: 1}
	}
	d.Members[leader] = &cluster.Member{Name: leader, Target: cluster.RoleLeader, Generation: 1}
	return d, []Decision{{Kind: "bootstrap", Reason: fmt.Sprintf("bootstrap: %s initializes the cluster as leader (generation 1)", leader)}}
}

func addMembers(d *cluster.Data, in Input, ds *[]Decision) {
	for _, name := range sortedNames(in.Members) {
		st := in.Members[name]
		if _, ok := d.Members[name]; ok || !st.Alive || st.Info == nil {
			continue
		}
		d.Members[name] = &cluster.Member{Name: name, Target: cluster.RoleReplica, Follow: d.Leader, Generation: d.Generation}
		*ds = append(*ds, Decision{Kind: "member", Reason: fmt.Sprintf("member %s joined; it replicates from %s", name, d.Leader)})
	}
}

// converged: the leader has applied the current generation as leader.
func converged(d *cluster.Data, in Input) bool {
	st := in.Members[d.Leader]
	return st.Alive && st.Info != nil && st.Info.Role == cluster.RoleLeader &&
		st.Info.Generation == d.Generation && in.LeaderKey.Holder == d.Leader
}

func leaderLost(d *cluster.Data, in Input) (bool, string) {
	if d.Leader == "" {
		return true, "no leader"
	}
	if in.LeaderKey.Holder == d.Leader {
		return false, ""
	}
	st := in.Members[d.Leader]
	switch {
	case st.Info == nil && !st.Alive:
		return in.Now.Sub(d.ChangeTime) > in.Timing.ConvergeTimeout, fmt.Sprintf("leader %s never reported", d.Leader)
	case st.Alive && st.Info != nil && st.Info.CleanStop && in.Now.Sub(d.ChangeTime) <= in.Timing.ConvergeTimeout:
		// Stopped cleanly for a switchover that was then aborted: it is
		// restarting as leader, not lost.
		return false, ""
	case st.Info != nil && st.Info.Generation >= d.Generation:
		// It had taken over this generation and no longer holds the key:
		// its postgres died (it stepped down) or it fenced itself.
		if st.Alive {
			return true, fmt.Sprintf("leader %s lost its leader key (%s)", d.Leader, st.Info.Role)
		}
		return true, fmt.Sprintf("leader %s is gone (lease expired)", d.Leader)
	case !st.Alive:
		return true, fmt.Sprintf("leader %s died before taking over", d.Leader)
	default:
		return in.Now.Sub(d.ChangeTime) > in.Timing.ConvergeTimeout,
			fmt.Sprintf("leader %s did not take over within %s", d.Leader, in.Timing.ConvergeTimeout)
	}
}

func failover(d *cluster.Data, in Input, why string, ds *[]Decision) {
	old := d.Leader
	best, reason := bestCandidate(d, in, old, false)
	if best == "" {
		*ds = append(*ds, Decision{Kind: "failover", Reason: fmt.Sprintf("%s; no replica can be promoted safely: %s", why, reason)})
		return
	}
	promote(d, in, best)
	*ds = append(*ds, Decision{Kind: "failover", Reason: fmt.Sprintf("%s; promoting %s (%s) in generation %d", why, best, reason, d.Generation)})
}

// promote names a new leader in a new generation; everyone else follows it.
func promote(d *cluster.Data, in Input, leader string) {
	d.Generation++
	d.Leader = leader
	for name, m := range d.Members {
		if name == leader {
			*m = cluster.Member{Name: name, Target: cluster.RoleLeader, Generation: d.Generation}
		} else {
			*m = cluster.Member{Name: name, Target: cluster.RoleReplica, Follow: leader, Generation: d.Generation}
		}
	}
	d.SyncStandby = ""
	d.SyncLostAt, d.SyncLostReport = time.Time{}, time.Time{}
	d.Switchover = nil
	d.ChangeTime = in.Now
	// The new leader has every commit; nobody else has its new ones yet.
	// Non-strict: it commits asynchronously until a standby catches up, and
	// the flag stops automatic promotion meanwhile. Strict: it waits for any
	// standby, and every member may then hold acknowledged commits.
	d.Async = d.Options.SyncMode && !d.Options.Strict
	d.SyncSafe = nil
	if d.Options.SyncMode && d.Options.Strict {
		for name := range d.Members {
			if name != leader {
				d.SyncSafe = append(d.SyncSafe, name)
			}
		}
		sort.Strings(d.SyncSafe)
	}
}

// bestCandidate picks the replica to promote, or "" with the reason none
// qualifies. force skips the sync and lag rules (an operator's choice).
func bestCandidate(d *cluster.Data, in Input, exclude string, force bool) (string, string) {
	var healthy []string
	for _, name := range sortedNames(in.Members) {
		st := in.Members[name]
		if name == exclude || d.Members[name] == nil || !st.Alive || st.Info == nil {
			continue
		}
		if st.Info.Healthy && st.Info.Initialized && st.Info.Role == cluster.RoleReplica {
			healthy = append(healthy, name)
		}
	}
	if len(healthy) == 0 {
		return "", "no healthy replica"
	}
	pool := healthy
	if !force && d.Options.SyncMode {
		if d.Async {
			return "", "the leader was acknowledging commits asynchronously, so no replica is known to hold them all"
		}
		for _, s := range d.SyncSafe {
			if !slices.Contains(healthy, s) && len(d.SyncSafe) > 1 {
				return "", fmt.Sprintf("sync standby %s is unreachable and may hold acknowledged commits", s)
			}
		}
		pool = nil
		for _, s := range healthy {
			if slices.Contains(d.SyncSafe, s) {
				pool = append(pool, s)
			}
		}
		if len(pool) == 0 {
			return "", fmt.Sprintf("no healthy replica among the sync standbys %v", d.SyncSafe)
		}
	}
	best := pool[0]
	for _, s := range pool[1:] {
		if in.Members[s].Info.WAL > in.Members[best].Info.WAL {
			best = s
		}
	}
	bestWAL := in.Members[best].Info.WAL
	if old := in.Members[exclude].Info; old != nil && !force && old.WAL > bestWAL {
		lag := int64(old.WAL - bestWAL)
		if lag > d.Options.MaxLagBytes {
			return "", fmt.Sprintf("best replica %s is %d bytes behind, more than max_lag %d", best, lag, d.Options.MaxLagBytes)
		}
	}
	if d.Options.SyncMode && !force {
		return best, "sync standby, holds every acknowledged commit"
	}
	return best, fmt.Sprintf("most WAL: %d", bestWAL)
}

func followLeader(d *cluster.Data) {
	for name, m := range d.Members {
		if name == d.Leader {
			continue
		}
		if m.Target != cluster.RoleReplica || m.Follow != d.Leader {
			*m = cluster.Member{Name: name, Target: cluster.RoleReplica, Follow: d.Leader, Generation: d.Generation}
		}
	}
}

func sortedNames(m map[string]cluster.MemberState) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func join(names []string) string { return strings.Join(names, ",") }
