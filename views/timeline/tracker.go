package timeline

import (
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// maxEvents bounds the timeline kept in memory.
const maxEvents = 500

// event is one line of the timeline.
type event struct {
	at     time.Time
	kind   string
	detail string
}

// tracker turns successive Status polls into failover events and
// measures write unavailability: from the first poll that finds no
// healthy leader to the first that reports one. When the leader changes
// between two polls without a poll seeing it gone, the outage is only
// known to be under the gap between the two polls, reported as "<gap (poll gap)".
type tracker struct {
	seen       bool
	leader     string // as last reported, "" while none is named
	healthy    string // the last leader seen up
	generation int64
	standby    string
	lastPoll   time.Time
	lostAt     time.Time // zero while a leader is up
	events     []event
	failovers  int
	outage     string // the last write unavailability, described
}

// leaderUp reports whether the cluster names a leader that is running
// as leader.
func leaderUp(st *backend.ClusterStatus) bool {
	if st.Leader == "" {
		return false
	}
	for _, m := range st.Machines {
		if m.ID == st.Leader {
			return m.State == "running" && m.Role == "leader"
		}
	}
	return false
}

func standbyOf(st *backend.ClusterStatus) string {
	switch {
	case st.SyncStandby != "":
		return st.SyncStandby
	case st.Async:
		return "none (async)"
	}
	return "none"
}

func (t *tracker) record(at time.Time, kind, format string, a ...any) {
	t.events = append(t.events, event{at: at, kind: kind, detail: fmt.Sprintf(format, a...)})
	if len(t.events) > maxEvents {
		t.events = t.events[len(t.events)-maxEvents:]
	}
}

// observe compares a poll with the previous one and records what
// changed.
func (t *tracker) observe(st *backend.ClusterStatus, now time.Time) {
	up, standby := leaderUp(st), standbyOf(st)
	if !t.seen {
		t.seen = true
		t.record(now, "observed", "leader %s, generation %d, sync standby %s", orNone(st.Leader), st.Generation, standby)
		if !up {
			t.lostAt = now
		} else {
			t.healthy = st.Leader
		}
		t.leader, t.generation, t.standby, t.lastPoll = st.Leader, st.Generation, standby, now
		return
	}
	switch {
	case !up && t.lostAt.IsZero():
		t.lostAt = now
		t.record(now, "leader lost", "no healthy leader (was %s): writes stop", orNone(t.healthy))
	case up && st.Leader != t.healthy:
		t.failovers++
		t.outage = t.unavailable(now)
		t.record(now, "new leader", "%s -> %s, unavailable %s", orNone(t.healthy), st.Leader, t.outage)
	case up && !t.lostAt.IsZero():
		t.outage = t.unavailable(now)
		t.record(now, "leader back", "%s leads again, unavailable %s", st.Leader, t.outage)
	}
	if up {
		t.lostAt, t.healthy = time.Time{}, st.Leader
	}
	if st.Generation != t.generation {
		t.record(now, "generation", "%d -> %d", t.generation, st.Generation)
	}
	if standby != t.standby {
		t.record(now, "sync standby", "%s -> %s", t.standby, standby)
	}
	t.leader, t.generation, t.standby, t.lastPoll = st.Leader, st.Generation, standby, now
}

// unavailable describes the outage that ends now.
func (t *tracker) unavailable(now time.Time) string {
	if !t.lostAt.IsZero() {
		return round(now.Sub(t.lostAt)).String()
	}
	return fmt.Sprintf("<%s (poll gap)", round(now.Sub(t.lastPoll)))
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
