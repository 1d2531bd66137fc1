package timeline

import (
	"fmt"
	"net"
	"slices"
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
	// proxyGen and proxies (proxy switched events) let later switches of
	// the same generation count into this event instead of adding lines.
	proxyGen int64
	proxies  []string
}

// tracker turns successive Status polls and the nodes' log lines into
// failover events, kept in time order, and measures write
// unavailability (from polls only): from the first poll that finds no
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
	// led holds the machines seen leading (polls, keeper lines) and not
	// seen rejoining since: their next start as replica is a rejoin.
	led map[string]bool
	// ips maps the last poll's private addresses to machines, to name a
	// proxy's target.
	ips map[string]string
	// promotedGen and promoted are the last keeper promotion seen, to
	// name a proxy's target no poll has placed yet.
	promotedGen int64
	promoted    string
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
	t.add(event{at: at, kind: kind, detail: fmt.Sprintf(format, a...)})
}

// add inserts ev after every event not later than it: log lines arrive
// in batches and a little late, polls stamp their own time.
func (t *tracker) add(ev event) {
	i := len(t.events)
	for i > 0 && t.events[i-1].at.After(ev.at) {
		i--
	}
	t.events = slices.Insert(t.events, i, ev)
	if len(t.events) > maxEvents {
		t.events = t.events[len(t.events)-maxEvents:]
	}
}

func (t *tracker) markLed(machine string) {
	if machine == "" {
		return
	}
	if t.led == nil {
		t.led = map[string]bool{}
	}
	t.led[machine] = true
}

// apply puts a log line's fact on the timeline.
func (t *tracker) apply(f fact) {
	switch f.kind {
	case factDecision:
		t.record(f.at, f.event, "%s", f.detail)
	case factElected:
		t.record(f.at, "election", "sentinel of %s elected", f.machine)
	case factPromoted:
		t.markLed(f.machine)
		t.promotedGen, t.promoted = f.gen, f.machine
		t.record(f.at, "promoted", "%s promoted to leader (generation %d)", f.machine, f.gen)
	case factPrimary:
		t.markLed(f.machine)
	case factReplica:
		if t.led[f.machine] {
			delete(t.led, f.machine) // one rejoin, though it logs both rewinding and starting
			t.record(f.at, "rejoined", "%s rejoined as replica of %s", f.machine, f.leader)
		}
	case factProxy:
		t.proxySwitched(f)
	}
}

// proxySwitched counts a node's proxy into its generation's one event.
func (t *tracker) proxySwitched(f fact) {
	target := f.addr
	if host, _, err := net.SplitHostPort(f.addr); err == nil && t.ips[host] != "" {
		target = t.ips[host]
	} else if t.promoted != "" && t.promotedGen == f.gen {
		target = t.promoted
	}
	for i := len(t.events) - 1; i >= 0; i-- {
		ev := &t.events[i]
		if ev.kind != "proxy switched" || ev.proxyGen != f.gen {
			continue
		}
		if slices.Contains(ev.proxies, f.machine) {
			return
		}
		ev.proxies = append(ev.proxies, f.machine)
		ev.detail = proxyDetail(len(ev.proxies), target, f.gen)
		if f.at.Before(ev.at) { // machines' lines may come in separate batches: the first switch dates it
			moved := *ev
			moved.at = f.at
			t.events = slices.Delete(t.events, i, i+1)
			t.add(moved)
		}
		return
	}
	t.add(event{at: f.at, kind: "proxy switched", detail: proxyDetail(1, target, f.gen),
		proxyGen: f.gen, proxies: []string{f.machine}})
}

// observe compares a poll with the previous one and records what
// changed.
func (t *tracker) observe(st *backend.ClusterStatus, now time.Time) {
	up, standby := leaderUp(st), standbyOf(st)
	t.ips = make(map[string]string, len(st.Machines))
	for _, m := range st.Machines {
		if m.PrivateIP != "" {
			t.ips[m.PrivateIP] = m.ID
		}
	}
	if up && (!t.seen || st.Leader != t.healthy) {
		// Only a change marks: a poll answered before the old leader
		// rejoined must not mark it again.
		t.markLed(st.Leader)
	}
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
