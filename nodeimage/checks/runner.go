package checks

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// Sources are what a node's checks read.
type Sources struct {
	Host    Host   // nil: the real /proc and statfs
	DataDir string // the volume whose free space is reported
	PG      Connector
	// Role returns the role the keeper observes.
	Role func() cluster.Role
	// ReadOnly says why the leader refuses writes ("" when it does not)
	// and whether the operator asked for it; nil: never read-only.
	ReadOnly   func() (reason string, byHand bool)
	Thresholds Thresholds
	// Timeout bounds the postgres query (default 2s).
	Timeout time.Duration
}

// Evaluate computes the vm, pg and role checks, in that order.
func (s Sources) Evaluate(ctx context.Context) []Check {
	host := s.Host
	if host == nil {
		host = OSHost{}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	role := cluster.RoleNone
	if s.Role != nil {
		role = s.Role()
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := QueryPG(qctx, s.PG)
	if s.ReadOnly != nil && role == cluster.RoleLeader {
		f.ReadOnlyReason, f.ReadOnlyByHand = s.ReadOnly()
	}
	return []Check{VM(host, s.DataDir, s.Thresholds), PG(f, err, s.Thresholds), Role(role)}
}

// DefaultPoll is how often the runner calls Watch unless told otherwise.
const DefaultPoll = 250 * time.Millisecond

// RunnerConfig sets how often checks run.
type RunnerConfig struct {
	// Evaluate computes every check (Sources.Evaluate).
	Evaluate func(ctx context.Context) []Check
	// Interval between evaluations (default 5s).
	Interval time.Duration
	// Watch, when set, summarises the state the checks depend on (the
	// keeper's role, health, streaming); a change is evaluated at once
	// instead of at the next interval, so callers polling the results see
	// a promotion or a replica catching up without waiting.
	Watch func() string
	// Poll is how often Watch is called (default DefaultPoll).
	Poll time.Duration
	Log  *slog.Logger
	Now  func() time.Time
}

// Runner evaluates the checks periodically and caches the results. Its
// methods are safe for concurrent use.
type Runner struct {
	cfg RunnerConfig

	mu      sync.Mutex
	results []Check
	runs    int
}

// NewRunner makes a runner; Run starts it.
func NewRunner(cfg RunnerConfig) *Runner {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runner{cfg: cfg}
}

// Results returns a copy of the latest results, nil before the first
// evaluation.
func (r *Runner) Results() []Check {
	r.mu.Lock()
	defer r.mu.Unlock()
	return cloneChecks(r.results)
}

// Runs counts the evaluations so far.
func (r *Runner) Runs() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs
}

// Evaluate runs every check now and caches the results. A check whose
// status and output are unchanged keeps its Updated time; a change of
// status is logged as the seed's [HEALTHCHECK] line.
func (r *Runner) Evaluate(ctx context.Context) []Check {
	fresh := r.cfg.Evaluate(ctx)
	now := r.cfg.Now().UTC()
	r.mu.Lock()
	prev := map[string]Check{}
	for _, c := range r.results {
		prev[c.Name] = c
	}
	var changed []Check
	for i, c := range fresh {
		old, seen := prev[c.Name]
		if seen && sameResult(old, c) {
			fresh[i].Updated = old.Updated
			continue
		}
		fresh[i].Updated = now
		if !seen || old.Status != c.Status {
			changed = append(changed, fresh[i])
		}
	}
	r.results = fresh
	r.runs++
	out := cloneChecks(fresh)
	r.mu.Unlock()
	for _, c := range changed {
		r.cfg.Log.Info(c.LogLine())
	}
	return out
}

// Run evaluates at once, then every Interval and whenever Watch changes,
// until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	var poll <-chan time.Time
	last := ""
	if r.cfg.Watch != nil {
		last = r.cfg.Watch()
		t := time.NewTicker(r.cfg.Poll)
		defer t.Stop()
		poll = t.C
	}
	r.Evaluate(ctx)
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if r.cfg.Watch != nil {
				last = r.cfg.Watch()
			}
		case <-poll:
			w := r.cfg.Watch()
			if w == last {
				continue
			}
			last = w
			tick.Reset(r.cfg.Interval)
		}
		r.Evaluate(ctx)
	}
}

func cloneChecks(cs []Check) []Check {
	if cs == nil {
		return nil
	}
	out := make([]Check, len(cs))
	for i, c := range cs {
		c.Output = append([]Line(nil), c.Output...)
		out[i] = c
	}
	return out
}
