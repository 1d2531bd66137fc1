package checks

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script returns the checks a test sets, one evaluation at a time.
type script struct {
	mu  sync.Mutex
	cur []Check
}

func (s *script) set(cs ...Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = cs
}

func (s *script) evaluate(context.Context) []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneChecks(s.cur)
}

func TestCheckRunnerCachesAndLogs(t *testing.T) {
	var logs bytes.Buffer
	clock := time.Date(2021, 2, 19, 22, 53, 35, 0, time.UTC)
	s := &script{}
	r := NewRunner(RunnerConfig{Evaluate: s.evaluate, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if r.Results() != nil {
		t.Fatal("results before the first evaluation")
	}
	s.set(build("vm", []result{pass("load averages: 0.29 0.35 0.58")}))
	first := r.Evaluate(context.Background())[0]
	s.set(build("vm", []result{pass("load averages: 0.29 0.35 0.58")}))
	if again := r.Evaluate(context.Background())[0]; !again.Updated.Equal(first.Updated) {
		t.Fatalf("unchanged check got a new time: %v then %v", first.Updated, again.Updated)
	}
	s.set(build("vm", []result{pass("load averages: 0.31 0.37 0.32")}))
	changed := r.Evaluate(context.Background())[0]
	if !changed.Updated.After(first.Updated) {
		t.Fatalf("changed output kept its time %v", changed.Updated)
	}
	s.set(build("vm", []result{fail(Critical, "system spent 6.3 of the last 10 seconds waiting for memory")}))
	r.Evaluate(context.Background())
	if got := r.Results(); len(got) != 1 || got[0].Status != Critical || r.Runs() != 4 {
		t.Fatalf("results %+v after %d runs", got, r.Runs())
	}
	// Logged: the first result and the change of status, not the rest.
	out := logs.String()
	if n := strings.Count(out, "[HEALTHCHECK]"); n != 2 ||
		!strings.Contains(out, `msg="[HEALTHCHECK] [vm: passing] [✓] load averages: 0.29 0.35 0.58\n"`) ||
		!strings.Contains(out, `[HEALTHCHECK] [vm: failing] [✗] system spent 6.3`) {
		t.Fatalf("log:\n%s", out)
	}
	// Callers get copies.
	r.Results()[0].Output[0].Text = "changed"
	if r.Results()[0].Output[0].Text == "changed" {
		t.Fatal("Results shares its slices")
	}
}

// Run evaluates at once, again when the watched state changes (long
// before the interval), and stops with its context.
func TestCheckRunnerWakesOnChange(t *testing.T) {
	s := &script{}
	s.set(Role("replica"))
	var state atomic.Value
	state.Store("replica")
	r := NewRunner(RunnerConfig{Evaluate: s.evaluate, Interval: time.Hour, Poll: 5 * time.Millisecond,
		Watch: func() string { return state.Load().(string) }, Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	waitUntil(t, "first evaluation", func() bool { return r.Runs() >= 1 })
	s.set(Role("leader"))
	state.Store("leader")
	waitUntil(t, "evaluation after the change", func() bool {
		res := r.Results()
		return len(res) == 1 && res[0].Output[0].Text == "leader"
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("%s: not within 10s", what)
		case <-tick.C:
		}
	}
}
