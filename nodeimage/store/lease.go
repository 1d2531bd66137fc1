package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Lease is a member's etcd lease, renewed in a loop. It also tracks how long
// the lease is certainly still valid from this node's point of view: the
// send time of the last successful renewal plus the TTL. The server's expiry
// is never earlier than that, so a leader that stops writing by then has
// stopped before anyone else can take the leader key.
type Lease struct {
	cli *clientv3.Client
	ttl time.Duration
	log *slog.Logger

	mu         sync.Mutex
	id         clientv3.LeaseID
	validUntil time.Time
	changed    chan struct{} // closed and replaced when id or validity changes
	failing    bool          // owned by Run: a failure was logged
}

// NewLease prepares a lease of ttl; Run grants and renews it.
func NewLease(cli *clientv3.Client, ttl time.Duration, log *slog.Logger) *Lease {
	return &Lease{cli: cli, ttl: ttl, log: log, changed: make(chan struct{})}
}

// TTL is the lease's time to live.
func (l *Lease) TTL() time.Duration { return l.ttl }

// Current returns the lease id and the local validity deadline. The id is 0
// when no lease is held.
func (l *Lease) Current() (clientv3.LeaseID, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.id, l.validUntil
}

// Valid reports whether the lease is held and still certainly valid at now
// with margin to spare.
func (l *Lease) Valid(now time.Time, margin time.Duration) bool {
	id, until := l.Current()
	return id != 0 && now.Add(margin).Before(until)
}

// Changed returns a channel closed at the next change of id or validity.
func (l *Lease) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

func (l *Lease) set(id clientv3.LeaseID, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.id, l.validUntil = id, until
	close(l.changed)
	l.changed = make(chan struct{})
}

// Run grants the lease and renews it every TTL/8 until ctx ends, then
// revokes it so that a clean shutdown frees the leader key at once.
// Renewing often keeps the validity close to a full TTL when the store
// goes away, so a store outage of half the TTL does not make the leader
// fence (at TTL/4, 2 to 3 trials in 30 of `make chaos`'s 1 s outage did).
func (l *Lease) Run(ctx context.Context) {
	interval := l.ttl / 8
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.revoke()
			return
		case <-t.C:
		}
		if l.renew(ctx) {
			t.Reset(interval)
		} else {
			// Retry soon: the slack before fencing is short.
			t.Reset(100 * time.Millisecond)
		}
	}
}

// renew grants or renews the lease once and reports success. Attempts
// are short so that a store that comes back is used at once.
func (l *Lease) renew(ctx context.Context) bool {
	id, _ := l.Current()
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, min(l.ttl/4, 300*time.Millisecond))
	defer cancel()
	if id == 0 {
		resp, err := l.cli.Grant(rctx, int64((l.ttl+time.Second-1)/time.Second))
		if err != nil {
			l.warn("lease grant failed", err)
			return false
		}
		l.set(resp.ID, sent.Add(l.ttl))
		l.log.Info("lease granted", "lease", int64(resp.ID), "ttl", l.ttl)
		return true
	}
	_, err := l.cli.KeepAliveOnce(rctx, id)
	switch {
	case err == nil:
		l.set(id, sent.Add(l.ttl))
		l.failing = false
		return true
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		l.log.Warn("lease expired", "lease", int64(id))
		l.set(0, time.Time{})
	default:
		l.warn("lease renewal failed", err)
	}
	return false
}

// warn logs the first of a run of failures only.
func (l *Lease) warn(msg string, err error) {
	if !l.failing {
		l.log.Warn(msg, "err", err)
	}
	l.failing = true
}

func (l *Lease) revoke() {
	id, _ := l.Current()
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := l.cli.Revoke(ctx, id); err != nil {
		l.log.Warn("lease revoke failed", "err", err)
	}
	l.set(0, time.Time{})
}
