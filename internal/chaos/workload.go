package main

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ack is one acknowledged insert: the commit returned success.
type ack struct {
	id       int64
	node     string    // inet_server_addr of the postgres that committed it
	timeline int64     // that postgres's timeline when it committed
	server   time.Time // clock_timestamp() on that server (same host clock)
	client   time.Time
}

// writer inserts unique ids through one proxy, reconnecting on errors.
// Unacknowledged ids (errors, timeouts) are never reused and not counted.
type writer struct {
	url  string
	next int64

	mu      sync.Mutex
	acks    []ack
	lastOK  time.Time
	errSeen bool
	maxGap  time.Duration
}

const insertSQL = `INSERT INTO chaos (id) VALUES ($1)
RETURNING host(inet_server_addr()), ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint, clock_timestamp()`

func (w *writer) run(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for ctx.Err() == nil {
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			c, err := pgx.Connect(cctx, w.url)
			cancel()
			if err != nil {
				w.failed()
				sleepCtx(ctx, 20*time.Millisecond)
				continue
			}
			conn = c
		}
		id := w.next
		w.next++
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var a ack
		err := conn.QueryRow(qctx, insertSQL, id).Scan(&a.node, &a.timeline, &a.server)
		cancel()
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			w.failed()
			continue
		}
		a.id, a.client = id, time.Now()
		w.ok(a)
	}
}

func (w *writer) ok(a ack) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.errSeen && !w.lastOK.IsZero() {
		w.maxGap = max(w.maxGap, a.client.Sub(w.lastOK))
	}
	w.errSeen, w.lastOK = false, a.client
	w.acks = append(w.acks, a)
}

func (w *writer) failed() {
	w.mu.Lock()
	w.errSeen = true
	w.mu.Unlock()
}

// takeGap returns and resets the longest write gap seen since the last call.
func (w *writer) takeGap() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.maxGap
	w.maxGap = 0
	return g
}

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acks)
}

func (w *writer) snapshot() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ack(nil), w.acks...)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// splitBrain counts acknowledged writes that a node committed on an older
// timeline after another node had already committed on a newer one (server
// clocks are one clock here): two writable primaries at once.
func splitBrain(acks []ack) int {
	type newest struct {
		timeline int64
		at       time.Time
		node     string
	}
	var seen []newest
	n := 0
	for _, a := range acks {
		for _, s := range seen {
			if s.at.Before(a.server) && (s.timeline > a.timeline || (s.timeline == a.timeline && s.node != a.node)) {
				n++
				break
			}
		}
		if len(seen) == 0 || a.timeline > seen[len(seen)-1].timeline {
			seen = append(seen, newest{a.timeline, a.server, a.node})
		}
	}
	return n
}
