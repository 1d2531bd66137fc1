// Package cluster holds the data that the HA node's parts share through the
// store: the cluster data the sentinel writes (who leads, in which
// generation, which standbys are safe to promote) and the member info every
// keeper publishes about its own postgres. Nothing here does I/O.
package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// FormatVersion is bumped when Data changes incompatibly.
const FormatVersion = 1

// Role is what a member's postgres is (observed) or should be (target).
type Role string

const (
	RoleNone    Role = ""
	RoleLeader  Role = "leader"
	RoleReplica Role = "replica"
	RoleFenced  Role = "fenced"
)

// Options are the cluster's settings, fixed at bootstrap and changeable later.
type Options struct {
	// SyncMode: a commit is acknowledged only once a standby has it.
	SyncMode bool `json:"sync_mode"`
	// Strict: in sync mode with no standby, refuse writes instead of
	// falling back to asynchronous commits.
	Strict bool `json:"strict"`
	// MaxLagBytes: never promote a replica further behind than this.
	MaxLagBytes int64 `json:"max_lag_bytes"`
	// ReadOnlyBelowPct: the leader turns read-only while its volume has
	// less free space than this (0 = the default, 10; negative = never).
	ReadOnlyBelowPct float64 `json:"read_only_below_pct,omitempty"`
	// SSLDisabled turns TLS off (it is on by default, self-signed).
	SSLDisabled bool `json:"ssl_disabled,omitempty"`
	// ReadOnly: the operator switched the cluster to read-only by hand
	// (`config update --read-only`); the leader refuses writes until
	// --read-write, whatever the free space.
	ReadOnly bool `json:"read_only,omitempty"`
}

// ReadOnlyThreshold is the free-space fraction under which the leader
// refuses writes, or -1 when never.
func (o Options) ReadOnlyThreshold() float64 {
	switch {
	case o.ReadOnlyBelowPct < 0:
		return -1
	case o.ReadOnlyBelowPct == 0:
		return 0.10
	}
	return o.ReadOnlyBelowPct / 100
}

// DefaultOptions are sync mode on, non-strict, 1 MiB max lag.
func DefaultOptions() Options {
	return Options{SyncMode: true, MaxLagBytes: 1 << 20}
}

// Data is the cluster data. Only the elected sentinel writes it, and only with
// compare-and-swap on the store revision it read.
type Data struct {
	FormatVersion int     `json:"format_version"`
	Options       Options `json:"options"`
	// Generation increases with every leader change. Proxies route only to
	// the leader of the newest generation; keepers reject older ones.
	Generation int64 `json:"generation"`
	// Leader is the member that should be the writable primary in this
	// generation. Empty while no member can be safely promoted.
	Leader string `json:"leader"`
	// Members are every member ever seen, by name.
	Members map[string]*Member `json:"members"`
	// SyncStandby is the standby the leader must wait for (sync mode).
	SyncStandby string `json:"sync_standby,omitempty"`
	// SyncSafe are the members that may hold every acknowledged commit: the
	// only automatic failover candidates in sync mode. It is always a
	// superset of what the leader's postgres waits for.
	SyncSafe []string `json:"sync_safe,omitempty"`
	// Async is set before the leader is allowed to acknowledge commits
	// without a standby; while set, no replica is promoted automatically.
	Async bool `json:"async"`
	// SyncLostAt is when the sync standby was first seen not streaming.
	SyncLostAt time.Time `json:"sync_lost_at,omitempty"`
	// Switchover asks for a planned leader change to Target ("" = best).
	Switchover *Switchover `json:"switchover,omitempty"`
	ChangeTime time.Time   `json:"change_time"`
}

// Member is one node as the cluster data knows it.
type Member struct {
	Name string `json:"name"`
	// Target is the role the keeper must reconcile its postgres to.
	Target Role `json:"target"`
	// Follow is the leader a replica streams from.
	Follow string `json:"follow,omitempty"`
	// Generation is when this member was last assigned a role.
	Generation int64 `json:"generation"`
}

// Switchover is a planned change of leader requested by an operator.
type Switchover struct {
	Target    string    `json:"target,omitempty"`
	Requested time.Time `json:"requested"`
	// Phase: PhaseRequested -> PhaseStopping (old leader shutting down
	// cleanly) -> cleared once the target is promoted.
	Phase string `json:"phase"`
	// Force allows promoting a replica beyond max lag or outside SyncSafe.
	Force bool `json:"force,omitempty"`
	// Waiting is set once the sentinel has said it waits for the target
	// to catch up (so the reason is recorded once, not every round).
	Waiting bool `json:"waiting,omitempty"`
	// Stopped is when the sentinel first saw the old leader's clean stop.
	Stopped time.Time `json:"stopped,omitempty"`
}

// Switchover phases.
const (
	PhaseRequested = "requested"
	PhaseStopping  = "stopping"
)

// MemberState is a member's last published info and whether its lease is
// alive. Info is kept after death so its last WAL position stays known.
type MemberState struct {
	Info  *Info
	Alive bool
}

// LeaderKey is who holds the leader key, for which generation.
type LeaderKey struct {
	Holder     string `json:"holder"`
	Generation int64  `json:"generation"`
}

// Clone returns a deep copy, so a decision never mutates its input.
func (d *Data) Clone() *Data {
	if d == nil {
		return nil
	}
	c := *d
	c.Members = make(map[string]*Member, len(d.Members))
	for k, m := range d.Members {
		mm := *m
		c.Members[k] = &mm
	}
	c.SyncSafe = slices.Clone(d.SyncSafe)
	if d.Switchover != nil {
		s := *d.Switchover
		c.Switchover = &s
	}
	return &c
}

// Decode parses stored cluster data with a clear error on corruption.
func Decode(b []byte) (*Data, error) {
	var d Data
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode cluster data (%d bytes): %w", len(b), err)
	}
	if d.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("cluster data format %d, this build reads %d", d.FormatVersion, FormatVersion)
	}
	if d.Members == nil {
		d.Members = map[string]*Member{}
	}
	if len(d.SyncSafe) == 0 {
		d.SyncSafe = nil // one form for "none", as Encode writes it
	}
	for name, m := range d.Members {
		if m == nil {
			return nil, fmt.Errorf("decode cluster data: member %q is empty", name)
		}
	}
	return &d, nil
}

// Encode is the inverse of Decode.
func (d *Data) Encode() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("encode cluster data: %v", err)) // plain structs: cannot fail
	}
	return b
}

// Info is what a keeper publishes about itself, under a lease so that it
// disappears when the node dies.
type Info struct {
	Name string `json:"name"`
	// Host is the address others reach this node on; PGPort is postgres.
	Host   string `json:"host"`
	PGPort int    `json:"pg_port"`
	// ProxyPort, HealthPort and MetricsPort: the node's other listeners on
	// Host, for platforms that find nodes through the store (0: default).
	ProxyPort   int `json:"proxy_port,omitempty"`
	HealthPort  int `json:"health_port,omitempty"`
	MetricsPort int `json:"metrics_port,omitempty"`
	// Role is what the local postgres is now.
	Role Role `json:"role"`
	// Healthy: postgres is running and answering queries.
	Healthy bool `json:"healthy"`
	// Initialized: the data dir holds a usable cluster.
	Initialized bool `json:"initialized"`
	// Generation is the newest generation this keeper has applied.
	Generation int64 `json:"generation"`
	Timeline   int64 `json:"timeline"`
	// WAL is the current position on a leader, the flushed receive
	// position on a replica (what it would have if promoted).
	WAL uint64 `json:"wal"`
	// Streaming: a replica's WAL receiver is connected to Follow.
	Streaming bool   `json:"streaming"`
	Follow    string `json:"follow,omitempty"`
	// SyncApplied / SyncAppliedWAL: on the leader, the standby postgres now
	// waits for and the WAL position when that took effect.
	SyncApplied    string `json:"sync_applied,omitempty"`
	SyncAppliedWAL uint64 `json:"sync_applied_wal,omitempty"`
	// AsyncApplied: the leader's postgres acknowledges without standbys.
	AsyncApplied bool `json:"async_applied,omitempty"`
	// Standbys the leader sees streaming, by name, with their flush position.
	Standbys map[string]uint64 `json:"standbys,omitempty"`
	// ReadOnly: the leader refuses writes because its volume is nearly
	// full; FreePct is the volume's free space in percent.
	ReadOnly bool    `json:"read_only,omitempty"`
	FreePct  float64 `json:"free_pct,omitempty"`
	// ReadOnlyReason says why the leader is read-only: by hand, or the
	// volume's free space under the threshold.
	ReadOnlyReason string `json:"read_only_reason,omitempty"`
	ReadOnlyByHand bool   `json:"read_only_by_hand,omitempty"`
	// Stopped: a planned switchover's clean shutdown finished here.
	CleanStop bool      `json:"clean_stop,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}
