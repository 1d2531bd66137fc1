package sentinel

import (
	"fmt"
	"slices"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// manageSync keeps one synchronous standby and the set of members that may
// hold every acknowledged commit (SyncSafe). Order matters for safety: the
// cluster data always names a standby in SyncSafe before the leader waits
// for it, and records Async before the leader stops waiting.
func manageSync(d *cluster.Data, in Input, ds *[]Decision) {
	if !d.Options.SyncMode || !converged(d, in) {
		return
	}
	leader := in.Members[d.Leader].Info
	streaming := streamingStandbys(d, in, leader)

	// Whether the sync standby is lost is the leader's call alone: when the
	// leader itself dies, its replicas stop streaming before its lease
	// expires, and that must not look like a lost standby (the fallback
	// to async would then forbid the failover that is about to be needed).
	// A standby whose lease lapsed is lost too, though the leader may still
	// list it: cut off by a partition its connection stalls rather than
	// resets, and the leader's walsender keeps it until wal_sender_timeout
	// (commits waited 3-6.5 s in `make chaos CHAOS_HOSTS=3`).
	if _, ok := leader.Standbys[d.SyncStandby]; ok && d.SyncStandby != "" && in.Members[d.SyncStandby].Alive {
		d.SyncLostAt = time.Time{}
		settle(d, leader, ds)
		return
	}
	if d.SyncStandby != "" && d.SyncLostAt.IsZero() {
		d.SyncLostAt = in.Now
	}
	if len(streaming) > 0 {
		next := mostWAL(streaming, leader)
		prev := d.SyncStandby
		d.SyncStandby = next
		d.SyncLostAt = time.Time{}
		if d.Async {
			d.SyncSafe = []string{next}
		} else if !slices.Contains(d.SyncSafe, next) {
			d.SyncSafe = append(d.SyncSafe, next)
		}
		reason := fmt.Sprintf("sync standby: %s chosen; the leader will wait for it", next)
		if prev != "" {
			reason = fmt.Sprintf("sync standby %s is not streaming; %s replaces it", prev, next)
		}
		*ds = append(*ds, Decision{Kind: "sync", Reason: reason})
		return
	}
	if d.SyncStandby == "" || d.Options.Strict || in.Now.Sub(d.SyncLostAt) < in.Timing.SyncGrace {
		return
	}
	lost := d.SyncStandby
	d.SyncStandby = ""
	d.SyncLostAt = time.Time{}
	d.Async = true
	*ds = append(*ds, Decision{Kind: "sync", Reason: fmt.Sprintf(
		"sync standby %s gone for %s and no other standby streams: leader falls back to asynchronous commits; no automatic failover until a standby catches up",
		lost, in.Timing.SyncGrace)})
}

// settle narrows SyncSafe to the sync standby once it provably holds every
// commit the leader acknowledged before it started waiting for it.
func settle(d *cluster.Data, leader *cluster.Info, ds *[]Decision) {
	s := d.SyncStandby
	if !d.Async && len(d.SyncSafe) == 1 && d.SyncSafe[0] == s {
		return
	}
	if leader.SyncApplied != s || leader.Standbys[s] < leader.SyncAppliedWAL {
		return
	}
	wasAsync := d.Async
	d.SyncSafe = []string{s}
	d.Async = false
	reason := fmt.Sprintf("sync standby %s holds every acknowledged commit; only it may be promoted", s)
	if wasAsync {
		reason = fmt.Sprintf("sync standby %s caught up: commits are synchronous again", s)
	}
	*ds = append(*ds, Decision{Kind: "sync", Reason: reason})
}

// streamingStandbys are replicas of the current generation that the leader
// sees streaming from it.
func streamingStandbys(d *cluster.Data, in Input, leader *cluster.Info) []string {
	var out []string
	for _, name := range sortedNames(in.Members) {
		st := in.Members[name]
		if name == d.Leader || d.Members[name] == nil || !st.Alive || st.Info == nil {
			continue
		}
		i := st.Info
		if i.Role != cluster.RoleReplica || !i.Healthy || !i.Streaming || i.Follow != d.Leader {
			continue
		}
		if _, ok := leader.Standbys[name]; ok {
			out = append(out, name)
		}
	}
	return out
}

func mostWAL(names []string, leader *cluster.Info) string {
	best := names[0]
	for _, n := range names[1:] {
		if leader.Standbys[n] > leader.Standbys[best] {
			best = n
		}
	}
	return best
}
