package sentinel

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// Fixed clock and timing shared by every case.
var (
	now    = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	timing = Timing{ConvergeTimeout: 10 * time.Second, SyncGrace: 2 * time.Second, SwitchoverTimeout: 30 * time.Second}
	// long ago: older than every timeout above.
	longAgo = now.Add(-time.Hour)
)

// ---- member info ----------------------------------------------------------

type infoOpt func(*cluster.Info)

// info is a healthy, initialized member's published state.
func info(name string, role cluster.Role, gen int64, wal uint64, opts ...infoOpt) *cluster.Info {
	i := &cluster.Info{
		Name: name, Host: name + ".local", PGPort: 5432,
		Role: role, Healthy: true, Initialized: true,
		Generation: gen, Timeline: 1, WAL: wal, UpdatedAt: now,
	}
	for _, o := range opts {
		o(i)
	}
	return i
}

// streamingFrom: a replica whose WAL receiver is connected to leader.
func streamingFrom(leader string) infoOpt {
	return func(i *cluster.Info) { i.Streaming, i.Follow = true, leader }
}

// notStreaming: a replica that follows leader but has no WAL receiver.
func notStreaming(leader string) infoOpt {
	return func(i *cluster.Info) { i.Streaming, i.Follow = false, leader }
}

// standbys: the standbys a leader sees streaming, with flush positions.
func standbys(kv ...any) infoOpt {
	return func(i *cluster.Info) {
		i.Standbys = map[string]uint64{}
		for j := 0; j < len(kv); j += 2 {
			i.Standbys[kv[j].(string)] = uint64(kv[j+1].(int))
		}
	}
}

// syncApplied: the standby the leader's postgres waits for, since wal.
func syncApplied(name string, wal uint64) infoOpt {
	return func(i *cluster.Info) { i.SyncApplied, i.SyncAppliedWAL, i.AsyncApplied = name, wal, name == "" }
}

func unhealthy(i *cluster.Info)     { i.Healthy = false }
func uninitialized(i *cluster.Info) { i.Initialized, i.Role, i.WAL = false, cluster.RoleNone, 0 }
func cleanStop(i *cluster.Info)     { i.CleanStop, i.Role = true, cluster.RoleFenced }

func alive(i *cluster.Info) cluster.MemberState { return cluster.MemberState{Info: i, Alive: true} }
func dead(i *cluster.Info) cluster.MemberState  { return cluster.MemberState{Info: i, Alive: false} }

// ---- cluster data ---------------------------------------------------------

func leaderM(name string, gen int64) *cluster.Member {
	return &cluster.Member{Name: name, Target: cluster.RoleLeader, Generation: gen}
}

func replicaM(name, follow string, gen int64) *cluster.Member {
	return &cluster.Member{Name: name, Target: cluster.RoleReplica, Follow: follow, Generation: gen}
}

// members builds the members map of a cluster led by leader in gen.
func members(leader string, gen int64, names ...string) map[string]*cluster.Member {
	m := map[string]*cluster.Member{}
	for _, n := range names {
		if n == leader {
			m[n] = leaderM(n, gen)
		} else {
			m[n] = replicaM(n, leader, gen)
		}
	}
	return m
}

// baseData: a leads b and c in generation 3, sync settled on b.
func baseData() *cluster.Data {
	return &cluster.Data{
		FormatVersion: cluster.FormatVersion,
		Options:       cluster.DefaultOptions(),
		Generation:    3,
		Leader:        "a",
		Members:       members("a", 3, "a", "b", "c"),
		SyncStandby:   "b",
		SyncSafe:      []string{"b"},
		Async:         false,
		ChangeTime:    longAgo,
	}
}

// baseMembers: everybody alive, a leads and waits for b, b and c stream.
func baseMembers() map[string]cluster.MemberState {
	return map[string]cluster.MemberState{
		"a": alive(info("a", cluster.RoleLeader, 3, 1000, syncApplied("b", 500), standbys("b", 1000, "c", 900))),
		"b": alive(info("b", cluster.RoleReplica, 3, 1000, streamingFrom("a"))),
		"c": alive(info("c", cluster.RoleReplica, 3, 900, streamingFrom("a"))),
	}
}

// base is the steady state; mods adjust it.
func base(mods ...func(*Input)) Input {
	in := Input{
		Data:      baseData(),
		Members:   baseMembers(),
		LeaderKey: cluster.LeaderKey{Holder: "a", Generation: 3},
		Options:   cluster.DefaultOptions(),
		Now:       now,
		Timing:    timing,
	}
	for _, m := range mods {
		m(&in)
	}
	return in
}

// data returns baseData changed by mods (for expected outputs).
func data(mods ...func(*cluster.Data)) *cluster.Data {
	d := baseData()
	for _, m := range mods {
		m(d)
	}
	return d
}

// dataOf returns in.Data (already modified) cloned and changed by mods.
func dataOf(in Input, mods ...func(*cluster.Data)) *cluster.Data {
	d := in.Data.Clone()
	for _, m := range mods {
		m(d)
	}
	return d
}

// promoted is base-shaped data after promoting leader in gen (non-strict
// sync mode: Async until a standby catches up, nobody sync-safe).
func promoted(leader string, gen int64, names ...string) func(*cluster.Data) {
	return func(d *cluster.Data) {
		d.Generation = gen
		d.Leader = leader
		d.Members = members(leader, gen, names...)
		d.SyncStandby = ""
		d.SyncSafe = nil
		d.SyncLostAt = time.Time{}
		d.Switchover = nil
		d.Async = d.Options.SyncMode && !d.Options.Strict
		d.ChangeTime = now
	}
}

// ---- input modifiers ------------------------------------------------------

func set(name string, st cluster.MemberState) func(*Input) {
	return func(in *Input) { in.Members[name] = st }
}

func remove(name string) func(*Input) {
	return func(in *Input) { delete(in.Members, name) }
}

func noLeaderKey(in *Input) { in.LeaderKey = cluster.LeaderKey{} }

func withData(mods ...func(*cluster.Data)) func(*Input) {
	return func(in *Input) {
		for _, m := range mods {
			m(in.Data)
		}
	}
}

func syncSafe(names ...string) func(*cluster.Data) {
	return func(d *cluster.Data) { d.SyncSafe = names }
}

func async(v bool) func(*cluster.Data) { return func(d *cluster.Data) { d.Async = v } }

func syncStandby(n string) func(*cluster.Data) { return func(d *cluster.Data) { d.SyncStandby = n } }

func syncLostAt(t time.Time) func(*cluster.Data) { return func(d *cluster.Data) { d.SyncLostAt = t } }

func changeTime(t time.Time) func(*cluster.Data) { return func(d *cluster.Data) { d.ChangeTime = t } }

func options(o cluster.Options) func(*cluster.Data) { return func(d *cluster.Data) { d.Options = o } }

func strict(d *cluster.Data) { d.Options.Strict = true }

func asyncMode(d *cluster.Data) {
	d.Options = cluster.Options{SyncMode: false, MaxLagBytes: 1 << 20}
	d.SyncStandby, d.SyncSafe, d.Async = "", nil, false
}

func switchoverTo(target, phase string, requested time.Time) func(*cluster.Data) {
	return func(d *cluster.Data) {
		d.Switchover = &cluster.Switchover{Target: target, Requested: requested, Phase: phase}
	}
}

// stoppedAt: the sentinel saw the old leader's clean stop at t.
func stoppedAt(t time.Time) func(*cluster.Data) {
	return func(d *cluster.Data) { d.Switchover.Stopped = t }
}

// waiting: the sentinel already said it waits for the target.
func waiting(d *cluster.Data) { d.Switchover.Waiting = true }

func target(name string, r cluster.Role) func(*cluster.Data) {
	return func(d *cluster.Data) { d.Members[name].Target = r }
}

// leaderDead: a converged at generation 3, then its lease expired.
func leaderDead(in *Input) {
	noLeaderKey(in)
	in.Members["a"] = dead(in.Members["a"].Info)
}

// stoppingInput: a switchover to c in phase stopping; a has fenced itself.
func stoppingInput(aWAL, cWAL uint64, requested time.Time, mods ...func(*Input)) Input {
	return base(append([]func(*Input){
		withData(switchoverTo("c", cluster.PhaseStopping, requested), target("a", cluster.RoleFenced), changeTime(now.Add(-time.Second))),
		noLeaderKey,
		set("a", alive(info("a", cluster.RoleLeader, 3, aWAL, cleanStop))),
		set("c", alive(info("c", cluster.RoleReplica, 3, cWAL, streamingFrom("a")))),
	}, mods...)...)
}

// newLeaderB: generation 4 names b leader (async mode, so a failover away
// from b is allowed); b has not applied it yet, a died at generation 3.
func newLeaderB(since time.Duration, mods ...func(*Input)) Input {
	return base(append([]func(*Input){
		withData(asyncMode, func(d *cluster.Data) {
			d.Generation, d.Leader, d.Members = 4, "b", members("b", 4, "a", "b", "c")
		}, changeTime(now.Add(-since))),
		noLeaderKey,
		set("a", dead(info("a", cluster.RoleLeader, 3, 1000))),
		set("b", alive(info("b", cluster.RoleReplica, 3, 1000, notStreaming("a")))),
		set("c", alive(info("c", cluster.RoleReplica, 3, 990, notStreaming("a")))),
	}, mods...)...)
}

// syncInput: a converged leader of generation 3 with data changed by dm and
// the leader's info replaced by leaderOpts (role, generation and WAL fixed).
func syncInput(dm []func(*cluster.Data), leaderOpts []infoOpt, mods ...func(*Input)) Input {
	return base(append([]func(*Input){
		withData(dm...),
		set("a", alive(info("a", cluster.RoleLeader, 3, 1000, leaderOpts...))),
	}, mods...)...)
}

// ---- deep copies for the no-mutation check -------------------------------

func cloneInfo(i *cluster.Info) *cluster.Info {
	if i == nil {
		return nil
	}
	c := *i
	c.Standbys = maps.Clone(i.Standbys)
	return &c
}

func cloneInput(in Input) Input {
	c := in
	c.Data = in.Data.Clone()
	if in.Members != nil {
		c.Members = make(map[string]cluster.MemberState, len(in.Members))
		for k, st := range in.Members {
			c.Members[k] = cluster.MemberState{Info: cloneInfo(st.Info), Alive: st.Alive}
		}
	}
	return c
}

// scribble changes every reachable part of out, to prove it shares nothing
// with the input.
func scribble(out *cluster.Data) {
	if out == nil {
		return
	}
	out.Generation = -1
	for _, m := range out.Members {
		m.Target, m.Follow, m.Generation = "scribbled", "scribbled", -1
	}
	for i := range out.SyncSafe {
		out.SyncSafe[i] = "scribbled"
	}
	if out.Switchover != nil {
		out.Switchover.Target, out.Switchover.Phase = "scribbled", "scribbled"
	}
}

func dump(d *cluster.Data) string {
	if d == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gen=%d leader=%q async=%v syncStandby=%q syncSafe=%q syncLostAt=%v change=%v opts=%+v",
		d.Generation, d.Leader, d.Async, d.SyncStandby, d.SyncSafe, d.SyncLostAt, d.ChangeTime, d.Options)
	if d.Switchover != nil {
		fmt.Fprintf(&b, " switchover=%+v", *d.Switchover)
	}
	for _, n := range slices.Sorted(maps.Keys(d.Members)) {
		fmt.Fprintf(&b, "\n    %+v", *d.Members[n])
	}
	return b.String()
}

// ---- the table ------------------------------------------------------------

func TestDecide(t *testing.T) {
	fresh := func(name string) *cluster.Info { return info(name, cluster.RoleNone, 0, 0, uninitialized) }

	tests := []struct {
		name string
		in   Input
		// want is the exact expected output (nil means no cluster data)
		// unless check is set, which then judges the output instead.
		want  *cluster.Data
		check func(t *testing.T, out *cluster.Data)
		// wantReasons: one substring per decision, in order; none means
		// no decision at all.
		wantReasons []string
	}{
		// 1. bootstrap
		{
			name: "bootstrap: no members",
			in:   Input{Members: map[string]cluster.MemberState{}, Options: cluster.DefaultOptions(), Now: now, Timing: timing},
			want: nil,
		},
		{
			name: "bootstrap: only dead or silent members",
			in: Input{Members: map[string]cluster.MemberState{
				"a": dead(fresh("a")),
				"b": {Alive: true}, // lease but no info yet
			}, Options: cluster.DefaultOptions(), Now: now, Timing: timing},
			want: nil,
		},
		{
			name: "bootstrap: fresh members b,a: a leads generation 1 asynchronously",
			in: Input{Members: map[string]cluster.MemberState{
				"b": alive(fresh("b")),
				"a": alive(fresh("a")),
				"z": dead(fresh("z")),
			}, Options: cluster.DefaultOptions(), Now: now, Timing: timing},
			want: &cluster.Data{
				FormatVersion: cluster.FormatVersion,
				Options:       cluster.DefaultOptions(),
				Generation:    1,
				Leader:        "a",
				Members:       members("a", 1, "a", "b"),
				Async:         true,
				ChangeTime:    now,
			},
			wantReasons: []string{"bootstrap: a initializes the cluster as leader (generation 1)"},
		},
		{
			name: "bootstrap: the initialized member leads and keeps options",
			in: Input{Members: map[string]cluster.MemberState{
				"a": alive(fresh("a")),
				"b": alive(info("b", cluster.RoleNone, 0, 5000)),
				"c": alive(fresh("c")),
			}, Options: cluster.Options{SyncMode: true, Strict: true, MaxLagBytes: 42}, Now: now, Timing: timing},
			want: &cluster.Data{
				FormatVersion: cluster.FormatVersion,
				Options:       cluster.Options{SyncMode: true, Strict: true, MaxLagBytes: 42},
				Generation:    1,
				Leader:        "b",
				Members:       members("b", 1, "a", "b", "c"),
				Async:         true,
				ChangeTime:    now,
			},
			wantReasons: []string{"bootstrap: b initializes"},
		},
		{
			name: "bootstrap: of two initialized members the one with most WAL leads",
			in: Input{Members: map[string]cluster.MemberState{
				"a": alive(info("a", cluster.RoleNone, 0, 10)),
				"b": alive(fresh("b")),
				"c": alive(info("c", cluster.RoleNone, 0, 20)),
			}, Options: cluster.DefaultOptions(), Now: now, Timing: timing},
			check: func(t *testing.T, out *cluster.Data) {
				if out == nil || out.Leader != "c" || out.Members["c"].Target != cluster.RoleLeader ||
					out.Members["a"].Follow != "c" || out.Members["b"].Follow != "c" {
					t.Errorf("want c leading a and b, got %s", dump(out))
				}
			},
			wantReasons: []string{"bootstrap: c initializes"},
		},

		// 2. steady state
		{
			name: "steady state: nothing changes",
			in:   base(),
			want: data(),
		},
		{
			name: "steady state in async mode: nothing changes",
			in:   base(withData(asyncMode)),
			want: data(asyncMode),
		},
		{
			name: "steady state: a replica with a stale target is pointed at the leader",
			in:   base(withData(func(d *cluster.Data) { d.Members["c"] = replicaM("c", "x", 2) })),
			want: data(),
		},

		// 3. members joining
		{
			name: "new alive member d joins as a replica of the leader",
			in: base(
				set("d", alive(fresh("d"))),
				set("e", dead(fresh("e"))),
				set("f", cluster.MemberState{Alive: true}),
			),
			want:        data(func(d *cluster.Data) { d.Members["d"] = replicaM("d", "a", 3) }),
			wantReasons: []string{"member d joined; it replicates from a"},
		},

		// 4. failover to the sync standby
		{
			name: "leader gone: failover to the sync-safe member even if another has more WAL",
			in:   base(leaderDead, set("c", alive(info("c", cluster.RoleReplica, 3, 1200, notStreaming("a"))))),
			want: data(promoted("b", 4, "a", "b", "c")),
			wantReasons: []string{
				"leader a is gone (lease expired); promoting b (sync standby, holds every acknowledged commit) in generation 4",
			},
		},
		{
			name: "leader gone, strict: failover, no async, every other member sync-safe",
			in:   base(leaderDead, withData(strict)),
			want: data(strict, promoted("b", 4, "a", "b", "c"), syncSafe("a", "c")),
			wantReasons: []string{
				"promoting b",
			},
		},

		// 5. no failover while asynchronous
		{
			name:        "leader gone while async: no failover",
			in:          base(leaderDead, withData(async(true))),
			want:        data(async(true)),
			wantReasons: []string{"leader a is gone (lease expired); no replica can be promoted safely: the leader was acknowledging commits asynchronously"},
		},

		// 6. the only sync standby is dead
		{
			name:        "leader gone, sync standby b dead, c alive: no failover",
			in:          base(leaderDead, set("b", dead(info("b", cluster.RoleReplica, 3, 1000)))),
			want:        data(),
			wantReasons: []string{"no healthy replica among the sync standbys [b]"},
		},
		{
			name:        "leader gone, sync standby b unhealthy: no failover",
			in:          base(leaderDead, set("b", alive(info("b", cluster.RoleReplica, 3, 1000, unhealthy)))),
			want:        data(),
			wantReasons: []string{"no healthy replica among the sync standbys [b]"},
		},
		{
			name:        "leader gone, no healthy replica at all",
			in:          base(leaderDead, remove("b"), remove("c")),
			want:        data(),
			wantReasons: []string{"no replica can be promoted safely: no healthy replica"},
		},

		// 7. two sync-safe members
		{
			name: "leader gone, SyncSafe [b c] with c dead: no failover",
			in: base(leaderDead, withData(syncStandby("c"), syncSafe("b", "c")),
				set("c", dead(info("c", cluster.RoleReplica, 3, 900)))),
			want:        data(syncStandby("c"), syncSafe("b", "c")),
			wantReasons: []string{"sync standby c is unreachable and may hold acknowledged commits"},
		},
		{
			name: "leader gone, SyncSafe [b c] both alive: the one with most WAL",
			in: base(leaderDead, withData(syncStandby("c"), syncSafe("b", "c")),
				set("c", alive(info("c", cluster.RoleReplica, 3, 1100)))),
			want:        data(promoted("c", 4, "a", "b", "c")),
			wantReasons: []string{"promoting c"},
		},

		// 8. async mode
		{
			name: "async mode: leader gone, most WAL wins",
			in: base(leaderDead, withData(asyncMode),
				set("b", alive(info("b", cluster.RoleReplica, 3, 900))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 950)))),
			want:        data(asyncMode, promoted("c", 4, "a", "b", "c")),
			wantReasons: []string{"leader a is gone (lease expired); promoting c (most WAL: 950) in generation 4"},
		},
		{
			name: "async mode: lag exactly max_lag is allowed",
			in: base(leaderDead, withData(asyncMode),
				set("a", dead(info("a", cluster.RoleLeader, 3, 950+1<<20))),
				set("b", alive(info("b", cluster.RoleReplica, 3, 900))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 950)))),
			want:        data(asyncMode, promoted("c", 4, "a", "b", "c")),
			wantReasons: []string{"promoting c (most WAL: 950)"},
		},
		{
			name: "async mode: best replica beyond max_lag: no failover",
			in: base(leaderDead, withData(asyncMode),
				set("a", dead(info("a", cluster.RoleLeader, 3, 950+1<<20+1))),
				set("b", alive(info("b", cluster.RoleReplica, 3, 900))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 950)))),
			want:        data(asyncMode),
			wantReasons: []string{fmt.Sprintf("best replica c is %d bytes behind, more than max_lag %d", 1<<20+1, 1<<20)},
		},
		{
			name: "async mode: an uninitialized or unhealthy replica is never promoted",
			in: base(leaderDead, withData(asyncMode),
				set("b", alive(info("b", cluster.RoleReplica, 3, 5000, func(i *cluster.Info) { i.Initialized = false }))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 6000, unhealthy))),
				set("d", alive(info("d", cluster.RoleReplica, 3, 990)))),
			check: func(t *testing.T, out *cluster.Data) {
				if out.Leader != "d" || out.Generation != 4 || out.Members["d"].Target != cluster.RoleLeader {
					t.Errorf("want d promoted in generation 4, got %s", dump(out))
				}
			},
			wantReasons: []string{"member d joined", "promoting d (most WAL: 990)"},
		},

		// 9. leader alive but without the key
		{
			name:        "leader alive but fenced without the key: failover",
			in:          base(noLeaderKey, set("a", alive(info("a", cluster.RoleFenced, 3, 1000, standbys("b", 1000))))),
			want:        data(promoted("b", 4, "a", "b", "c")),
			wantReasons: []string{"leader a lost its leader key (fenced); promoting b"},
		},
		{
			name:        "another member holds the key: the leader lost it",
			in:          base(func(in *Input) { in.LeaderKey = cluster.LeaderKey{Holder: "c", Generation: 3} }),
			want:        data(promoted("b", 4, "a", "b", "c")),
			wantReasons: []string{"leader a lost its leader key (leader); promoting b"},
		},

		// 10. a newly named leader that does not take over
		{
			name: "new leader b not converged, within ConvergeTimeout: wait",
			in:   newLeaderB(5 * time.Second),
			want: dataOf(newLeaderB(5 * time.Second)),
		},
		{
			name: "new leader b not converged, exactly ConvergeTimeout: wait",
			in:   newLeaderB(10 * time.Second),
			want: dataOf(newLeaderB(10 * time.Second)),
		},
		{
			name: "new leader b not converged beyond ConvergeTimeout: failover excluding it",
			in:   newLeaderB(11 * time.Second),
			want: dataOf(newLeaderB(11*time.Second), promoted("c", 5, "a", "b", "c")),
			wantReasons: []string{
				"leader b did not take over within 10s; promoting c (most WAL: 990) in generation 5",
			},
		},
		{
			name: "new leader b never reported, within ConvergeTimeout: wait",
			in:   newLeaderB(5*time.Second, remove("b")),
			want: dataOf(newLeaderB(5 * time.Second)),
		},
		{
			name:        "new leader b never reported, beyond ConvergeTimeout: failover",
			in:          newLeaderB(11*time.Second, remove("b")),
			want:        dataOf(newLeaderB(11*time.Second), promoted("c", 5, "a", "b", "c")),
			wantReasons: []string{"leader b never reported; promoting c"},
		},
		{
			name:        "new leader b died before taking over: failover at once",
			in:          newLeaderB(time.Second, set("b", dead(info("b", cluster.RoleReplica, 3, 1000)))),
			want:        dataOf(newLeaderB(time.Second), promoted("c", 5, "a", "b", "c")),
			wantReasons: []string{"leader b died before taking over; promoting c"},
		},
		{
			name: "new leader b in sync mode (async after promotion) does not take over: no failover",
			in:   newLeaderB(11*time.Second, withData(options(cluster.DefaultOptions()), async(true))),
			want: dataOf(newLeaderB(11*time.Second, withData(options(cluster.DefaultOptions()), async(true)))),
			wantReasons: []string{
				"leader b did not take over within 10s; no replica can be promoted safely: the leader was acknowledging commits asynchronously",
			},
		},

		// 11. choosing and settling the sync standby
		{
			name: "sync: b streams: chosen as sync standby, still async",
			in: syncInput(
				[]func(*cluster.Data){syncStandby(""), syncSafe(), async(true)},
				[]infoOpt{syncApplied("", 0), standbys("b", 1000)},
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want:        data(syncStandby("b"), syncSafe("b"), async(true)),
			wantReasons: []string{"sync standby: b chosen; the leader will wait for it"},
		},
		{
			name: "sync: of two streaming standbys the one with most flushed WAL (leader's view)",
			in: syncInput(
				[]func(*cluster.Data){syncStandby(""), syncSafe(), async(true)},
				[]infoOpt{syncApplied("", 0), standbys("b", 900, "c", 950)}),
			want:        data(syncStandby("c"), syncSafe("c"), async(true)),
			wantReasons: []string{"sync standby: c chosen"},
		},
		{
			name: "sync: streaming replicas the leader does not see, or following someone else, are not chosen",
			in: syncInput(
				[]func(*cluster.Data){syncStandby(""), syncSafe(), async(true)},
				[]infoOpt{syncApplied("", 0), standbys("c", 900)},
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, streamingFrom("b"))))),
			want: data(syncStandby(""), syncSafe(), async(true)),
		},
		{
			name: "sync: b caught up since the leader applied it: synchronous again",
			in: syncInput(
				[]func(*cluster.Data){async(true)},
				[]infoOpt{syncApplied("b", 800), standbys("b", 800)}),
			want:        data(),
			wantReasons: []string{"sync standby b caught up: commits are synchronous again"},
		},
		{
			name: "sync: b not yet at the WAL where the leader started waiting: unchanged",
			in: syncInput(
				[]func(*cluster.Data){async(true)},
				[]infoOpt{syncApplied("b", 800), standbys("b", 799)}),
			want: data(async(true)),
		},
		{
			name: "sync: leader has not applied b yet: unchanged",
			in: syncInput(
				[]func(*cluster.Data){async(true)},
				[]infoOpt{syncApplied("", 0), standbys("b", 5000)}),
			want: data(async(true)),
		},
		{
			name: "sync: leader not converged (old generation): no sync management",
			in: base(
				withData(syncStandby(""), syncSafe(), async(true)),
				set("a", alive(info("a", cluster.RoleLeader, 2, 1000, standbys("b", 1000, "c", 900))))),
			want: data(syncStandby(""), syncSafe(), async(true)),
		},
		{
			name: "sync: async mode never picks a sync standby",
			in:   base(withData(asyncMode)),
			want: data(asyncMode),
		},

		// 12. replacing a sync standby that stops streaming
		{
			name: "sync: b stops streaming, c streams: c replaces b, both sync-safe",
			in: syncInput(nil,
				[]infoOpt{syncApplied("b", 500), standbys("c", 950)},
				set("b", alive(info("b", cluster.RoleReplica, 3, 1000, notStreaming("a"))))),
			want:        data(syncStandby("c"), syncSafe("b", "c")),
			wantReasons: []string{"sync standby b is not streaming; c replaces it"},
		},
		{
			name: "sync: b's lease lapsed while the leader still lists it (stalled connection), c streams: c replaces b",
			in: syncInput(nil,
				[]infoOpt{syncApplied("b", 500), standbys("b", 900, "c", 950)},
				set("b", dead(info("b", cluster.RoleReplica, 3, 900)))),
			want:        data(syncStandby("c"), syncSafe("b", "c")),
			wantReasons: []string{"sync standby b is not streaming; c replaces it"},
		},
		{
			name: "sync: replacement while async: only the new one is sync-safe",
			in: syncInput([]func(*cluster.Data){async(true)},
				[]infoOpt{syncApplied("", 0), standbys("c", 950)},
				set("b", dead(info("b", cluster.RoleReplica, 3, 1000)))),
			want:        data(syncStandby("c"), syncSafe("c"), async(true)),
			wantReasons: []string{"sync standby b is not streaming; c replaces it"},
		},
		{
			name: "sync: c applied and caught up: only c is sync-safe",
			in: syncInput([]func(*cluster.Data){syncStandby("c"), syncSafe("b", "c")},
				[]infoOpt{syncApplied("c", 950), standbys("c", 960)},
				set("b", alive(info("b", cluster.RoleReplica, 3, 1000, notStreaming("a"))))),
			want:        data(syncStandby("c"), syncSafe("c")),
			wantReasons: []string{"sync standby c holds every acknowledged commit; only it may be promoted"},
		},
		{
			name: "sync: c not applied by the leader yet: b stays sync-safe",
			in: syncInput([]func(*cluster.Data){syncStandby("c"), syncSafe("b", "c")},
				[]infoOpt{syncApplied("b", 500), standbys("c", 960)},
				set("b", alive(info("b", cluster.RoleReplica, 3, 1000, notStreaming("a"))))),
			want: data(syncStandby("c"), syncSafe("b", "c")),
		},

		// 13. losing the sync standby with nobody to replace it
		{
			name: "sync: b gone, nobody streams: loss noted, no fallback yet",
			in: syncInput(nil, []infoOpt{syncApplied("b", 500), standbys()},
				set("b", dead(info("b", cluster.RoleReplica, 3, 1000))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want: data(syncLostAt(now)),
		},
		{
			name: "sync: b gone within SyncGrace: unchanged",
			in: syncInput([]func(*cluster.Data){syncLostAt(now.Add(-time.Second))}, []infoOpt{syncApplied("b", 500), standbys()},
				set("b", dead(info("b", cluster.RoleReplica, 3, 1000))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want: data(syncLostAt(now.Add(-time.Second))),
		},
		{
			name: "sync: b gone beyond SyncGrace: fall back to async",
			in: syncInput([]func(*cluster.Data){syncLostAt(now.Add(-3 * time.Second))}, []infoOpt{syncApplied("b", 500), standbys()},
				set("b", dead(info("b", cluster.RoleReplica, 3, 1000))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want: data(syncStandby(""), async(true)),
			wantReasons: []string{
				"sync standby b gone for 2s and no other standby streams: leader falls back to asynchronous commits",
			},
		},
		{
			name: "sync: strict never falls back",
			in: syncInput([]func(*cluster.Data){strict, syncLostAt(longAgo)}, []infoOpt{syncApplied("b", 500), standbys()},
				set("b", dead(info("b", cluster.RoleReplica, 3, 1000))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want: data(strict, syncLostAt(longAgo)),
		},
		{
			name: "sync: b streams again: loss forgotten",
			in:   base(withData(syncLostAt(now.Add(-time.Second)))),
			want: data(),
		},
		{
			name: "sync: after the fallback c streams: c chosen, only it sync-safe",
			in: syncInput([]func(*cluster.Data){syncStandby(""), async(true)}, []infoOpt{syncApplied("", 0), standbys("c", 900)},
				set("b", dead(info("b", cluster.RoleReplica, 3, 1000)))),
			want:        data(syncStandby("c"), syncSafe("c"), async(true)),
			wantReasons: []string{"sync standby: c chosen"},
		},

		{
			name: "sync: replicas say they stopped streaming but the leader still sees b: no loss",
			in: base(
				set("b", alive(info("b", cluster.RoleReplica, 3, 1000, notStreaming("a")))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want: data(),
		},

		// 14. switchover
		{
			name: "switchover requested to c: old leader stops first",
			in:   base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second)))),
			want: data(switchoverTo("c", cluster.PhaseStopping, now.Add(-time.Second)), target("a", cluster.RoleFenced), changeTime(now)),
			wantReasons: []string{
				"switchover: stopping leader a cleanly before promoting c",
			},
		},
		{
			name: "switchover requested without target: the replica with most WAL",
			in:   base(withData(switchoverTo("", cluster.PhaseRequested, now.Add(-time.Second)))),
			want: data(switchoverTo("b", cluster.PhaseStopping, now.Add(-time.Second)), target("a", cluster.RoleFenced), changeTime(now)),
			wantReasons: []string{
				"before promoting b",
			},
		},
		{
			name: "switchover stopping: old leader not stopped yet: wait",
			in: stoppingInput(100, 100, now.Add(-time.Second),
				set("a", alive(info("a", cluster.RoleLeader, 3, 90)))),
			want: dataOf(stoppingInput(100, 100, now.Add(-time.Second))),
		},
		{
			name: "switchover stopping: c has not passed the clean-stop WAL: wait, noting when a stopped",
			in:   stoppingInput(100, 100, now.Add(-time.Second)),
			want: dataOf(stoppingInput(100, 100, now.Add(-time.Second), withData(stoppedAt(now)))),
		},
		{
			name: "switchover stopping: c still short of the clean-stop WAL within the grace: wait",
			in:   stoppingInput(100, 100, now.Add(-5*time.Second), withData(stoppedAt(now.Add(-4*time.Second)))),
			want: dataOf(stoppingInput(100, 100, now.Add(-5*time.Second), withData(stoppedAt(now.Add(-4*time.Second))))),
		},
		{
			// Regression (switchover bench, 30 s write gaps): with the
			// leader down nobody can receive its last WAL any more, so the
			// old leader comes back after the grace, not the timeout.
			name: "switchover stopping: nobody has the clean-stop WAL after the grace: aborted, old leader resumes",
			in: stoppingInput(100, 100, now.Add(-7*time.Second), withData(stoppedAt(now.Add(-6*time.Second))),
				set("b", alive(info("b", cluster.RoleReplica, 3, 100, streamingFrom("a"))))),
			want: data(changeTime(now)),
			wantReasons: []string{
				"switchover aborted: no replica received a's shutdown checkpoint within 5s; a resumes as leader",
			},
		},
		{
			name: "switchover stopping: c passed the clean-stop WAL: promote c",
			in:   stoppingInput(100, 101, now.Add(-time.Second)),
			want: data(promoted("c", 4, "a", "b", "c")),
			wantReasons: []string{
				"switchover: a stopped cleanly and c has all its WAL; promoting c in generation 4",
			},
		},
		{
			name: "switchover stopping: old leader's lease expired after its clean stop: still promote",
			in: stoppingInput(100, 101, now.Add(-time.Second),
				set("a", dead(info("a", cluster.RoleLeader, 3, 100, cleanStop)))),
			want:        data(promoted("c", 4, "a", "b", "c")),
			wantReasons: []string{"promoting c in generation 4"},
		},
		{
			name: "switchover stopping: timeout: aborted, old leader resumes",
			in:   stoppingInput(100, 100, now.Add(-31*time.Second)),
			// ChangeTime restarts: the old leader gets ConvergeTimeout to come back.
			want: data(changeTime(now)),
			wantReasons: []string{
				"switchover aborted after 30s: c did not catch up; a resumes as leader",
			},
		},
		{
			// The named target never catches up: after the grace period a
			// replica that has the shutdown checkpoint stands in.
			name: "switchover stopping: target stuck past the grace period, caught-up b promoted",
			in:   stoppingInput(100, 100, now.Add(-7*time.Second), withData(stoppedAt(now.Add(-6*time.Second)))),
			want: data(promoted("b", 4, "a", "b", "c")),
			wantReasons: []string{
				"switchover: a stopped cleanly and b has all its WAL; promoting b in generation 4",
			},
		},
		{
			// Regression: the round after an abort must not fail over while
			// the old leader restarts from its clean stop.
			name: "aborted switchover: old leader restarting from a clean stop is not lost",
			in: base(withData(changeTime(now.Add(-time.Second))), noLeaderKey,
				set("a", alive(info("a", cluster.RoleFenced, 3, 100, cleanStop)))),
			want: data(changeTime(now.Add(-time.Second))),
		},
		{
			name: "switchover stopping: old leader died without a clean stop: abandoned, failover",
			in: stoppingInput(100, 100, now.Add(-time.Second),
				set("a", dead(info("a", cluster.RoleLeader, 3, 1000)))),
			want: data(promoted("b", 4, "a", "b", "c")),
			wantReasons: []string{
				"switchover abandoned: a died while stopping",
				"leader a is gone (lease expired); promoting b",
			},
		},
		{
			// Regression (switchover bench, 30 s write gaps): a replica that
			// just rejoined was picked while not streaming, the leader
			// stopped, and nobody could receive its shutdown checkpoint.
			name: "switchover requested to c while c is not streaming: wait with the leader running",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want:        data(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second)), waiting),
			wantReasons: []string{"switchover: waiting for c before stopping a: it is not streaming from a yet"},
		},
		{
			name: "switchover still waiting for c: nothing new to say",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-2*time.Second)), waiting),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want: data(switchoverTo("c", cluster.PhaseRequested, now.Add(-2*time.Second)), waiting),
		},
		{
			name: "switchover requested to c still on the old timeline: wait",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, streamingFrom("a"), func(i *cluster.Info) { i.Timeline = 0 })))),
			want:        data(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second)), waiting),
			wantReasons: []string{"switchover: waiting for c before stopping a: it is on timeline 0, a on 1"},
		},
		{
			name: "switchover requested to c beyond max lag: wait",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second))),
				set("a", alive(info("a", cluster.RoleLeader, 3, 3<<20, syncApplied("b", 500), standbys("b", 3<<20, "c", 900)))),
				set("b", alive(info("b", cluster.RoleReplica, 3, 3<<20, streamingFrom("a")))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 1<<20, streamingFrom("a"))))),
			want:        data(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second)), waiting),
			wantReasons: []string{"switchover: waiting for c before stopping a: it is 2097152 bytes behind (max 1048576)"},
		},
		{
			name: "switchover requested: c never ready before the timeout: aborted, leader never stopped",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-31*time.Second)), waiting),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, notStreaming("a"))))),
			want:        data(),
			wantReasons: []string{"switchover aborted after 30s: no replica was ready to take over; a stays leader"},
		},
		{
			name:        "switchover requested to an unknown member: refused",
			in:          base(withData(switchoverTo("zz", cluster.PhaseRequested, now.Add(-time.Second)))),
			want:        data(),
			wantReasons: []string{`switchover refused: "zz" is not a healthy replica`},
		},
		{
			name: "switchover requested to an unhealthy member: refused",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second))),
				set("c", alive(info("c", cluster.RoleReplica, 3, 900, unhealthy)))),
			want:        data(),
			wantReasons: []string{`switchover refused: "c" is not a healthy replica`},
		},
		{
			name: "switchover requested to a dead member: refused",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second))),
				set("c", dead(info("c", cluster.RoleReplica, 3, 900)))),
			want:        data(),
			wantReasons: []string{`switchover refused: "c" is not a healthy replica`},
		},
		{
			name:        "switchover requested to the leader itself: refused",
			in:          base(withData(switchoverTo("a", cluster.PhaseRequested, now.Add(-time.Second)))),
			want:        data(),
			wantReasons: []string{`switchover refused: "a" is not a healthy replica`},
		},
		{
			name: "switchover requested while the leader has not converged: refused",
			in: base(withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second))),
				set("a", alive(info("a", cluster.RoleLeader, 2, 1000, syncApplied("b", 500), standbys("b", 1000))))),
			want:        data(),
			wantReasons: []string{"switchover refused: leader a is not running as leader"},
		},
		{
			name: "switchover requested but the leader is gone: refused, then failover",
			in:   base(leaderDead, withData(switchoverTo("c", cluster.PhaseRequested, now.Add(-time.Second)))),
			want: data(promoted("b", 4, "a", "b", "c")),
			wantReasons: []string{
				"switchover refused: leader a is not running as leader",
				"leader a is gone (lease expired); promoting b",
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneInput(tt.in)
			out, ds := Decide(tt.in)

			// 15. the input is never mutated.
			if !reflect.DeepEqual(tt.in, before) {
				t.Errorf("Decide mutated its input:\n got  %s\n want %s", dump(tt.in.Data), dump(before.Data))
			}

			if tt.check != nil {
				tt.check(t, out)
			} else if !reflect.DeepEqual(out, tt.want) {
				t.Errorf("cluster data:\n got  %s\n want %s", dump(out), dump(tt.want))
			}

			var got []string
			for _, d := range ds {
				got = append(got, d.Reason)
				if d.Kind == "" {
					t.Errorf("decision without kind: %q", d.Reason)
				}
			}
			if len(got) != len(tt.wantReasons) {
				t.Fatalf("decisions: got %d %q, want %d matching %q", len(got), got, len(tt.wantReasons), tt.wantReasons)
			}
			for i, w := range tt.wantReasons {
				if !strings.Contains(got[i], w) {
					t.Errorf("decision %d: %q does not contain %q", i, got[i], w)
				}
			}

			// The output shares nothing with the input.
			scribble(out)
			if !reflect.DeepEqual(tt.in, before) {
				t.Errorf("output aliases the input")
			}
		})
	}
}
