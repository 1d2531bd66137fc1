package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pgtui/pgtui/internal/testcluster"
)

// fault is one of the injected failures, the same for every system.
type fault int

const (
	faultKill       fault = iota // kill -9 of the leader's postgres and its manager
	faultStop                    // SIGSTOP of the leader's manager (postgres keeps running)
	faultSwitchover              // planned switchover
)

var faults = []fault{faultKill, faultStop, faultSwitchover}

func (f fault) String() string {
	return [...]string{"kill -9 leader (postgres + manager)", "SIGSTOP leader's manager", "planned switchover"}[f]
}

// system is one HA stack under test, reached through its own client path.
type system interface {
	Name() string
	// URL is the client path: what an application connects to.
	URL() string
	// Healthy reports a settled cluster: a primary with its synchronous
	// standby streaming, nothing pending.
	Healthy(ctx context.Context) (bool, error)
	// Inject starts the fault on the current primary and returns what
	// undoes it (restart, SIGCONT; nil for a switchover) and how long a
	// stopped manager must stay stopped so that a failover is due (0: no
	// hold).
	Inject(ctx context.Context, f fault) (undo func(context.Context) error, hold time.Duration, err error)
	// Logs is the tail of every process's log, for failure messages.
	Logs() string
	Close()
}

// result of one trial.
type result struct {
	unavailable time.Duration // longest time without an acknowledged write from the fault on
	acked       int
	lost        int // acknowledged writes absent afterwards
	splitBrain  int // acknowledged writes on an old primary after a newer one took writes
	timedOut    bool
}

// recoverTimeout bounds the wait for writes to come back after a fault.
const recoverTimeout = 90 * time.Second

// trial runs one fault on s under a writer through its client path and
// measures write unavailability and acknowledged writes lost.
func trial(ctx context.Context, s system, f fault, firstID int64) (result, error) {
	var r result
	if err := until(ctx, 3*time.Minute, s.Name()+" healthy", s.Healthy); err != nil {
		return r, err
	}
	w := testcluster.NewWriter(s.URL())
	wctx, stopW := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx, firstID) }()
	defer func() { stopW(); <-done }()
	if err := until(ctx, time.Minute, s.Name()+" taking writes", func(context.Context) (bool, error) { return w.Count() >= 20, nil }); err != nil {
		return r, err
	}
	acks := w.Acks()
	oldNode := acks[len(acks)-1].Node
	t0 := time.Now()
	undo, hold, err := s.Inject(ctx, f)
	if err != nil {
		return r, fmt.Errorf("%s: inject %s: %w", s.Name(), f, err)
	}
	// The outage is over when a write is acknowledged by another postgres
	// than the old primary, or (a stopped manager whose postgres keeps
	// serving) when writes flow after the hold.
	over := func(context.Context) (bool, error) {
		for _, a := range w.Acks() {
			if a.Client.After(t0) && (a.Node != oldNode || (hold > 0 && a.Client.After(t0.Add(hold)))) {
				return true, nil
			}
		}
		return false, nil
	}
	if err := until(ctx, recoverTimeout, s.Name()+" writes after "+f.String(), over); err != nil {
		r.timedOut = true
	}
	tEnd := time.Now()
	if undo != nil {
		if err := undo(ctx); err != nil {
			return r, fmt.Errorf("%s: undo %s: %w", s.Name(), f, err)
		}
	}
	if err := until(ctx, 3*time.Minute, s.Name()+" healthy again", s.Healthy); err != nil {
		return r, err
	}
	// A few writes on the settled cluster, then stop writing.
	n := w.Count()
	if err := until(ctx, time.Minute, s.Name()+" writes after recovery", func(context.Context) (bool, error) { return w.Count() >= n+10, nil }); err != nil {
		return r, err
	}
	stopW()
	<-done
	all := w.Acks()
	r.unavailable = unavailability(all, t0, tEnd)
	if r.timedOut {
		r.unavailable = tEnd.Sub(t0)
	}
	r.acked = len(all)
	r.splitBrain = testcluster.SplitBrain(all)
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	missing, err := testcluster.Missing(mctx, s.URL(), w.Acked())
	if err != nil {
		return r, fmt.Errorf("%s: read back acknowledged writes: %w", s.Name(), err)
	}
	r.lost = len(missing)
	return r, nil
}

// unavailability is the longest time without an acknowledged write in
// [t0, tEnd]: from the fault to the first acknowledged write, or a later
// gap if one is longer.
func unavailability(acks []testcluster.Ack, t0, tEnd time.Time) time.Duration {
	times := make([]time.Time, 0, len(acks))
	for _, a := range acks {
		times = append(times, a.Client)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var worst time.Duration
	prev := t0
	for _, t := range times {
		if !t.After(t0) {
			continue
		}
		if t.After(tEnd) {
			break
		}
		if d := t.Sub(prev); d > worst {
			worst = d
		}
		prev = t
	}
	return worst
}
