package main

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/internal/testcluster"
)

// ack is one acknowledged insert: the commit returned success.
type ack = testcluster.Ack

// writer inserts unique ids through one proxy, reconnecting on errors.
// Unacknowledged ids (errors, timeouts) are never reused and not counted.
type writer struct {
	url  string
	dial testcluster.DialFunc // nil: the default dialer
	next int64

	mu      sync.Mutex
	acks    []ack
	lastOK  time.Time
	errSeen bool
	maxGap  time.Duration
}

const insertSQL = `INSERT INTO chaos (id) VALUES ($1) ` + testcluster.AckReturning

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
			c, err := testcluster.ConnectVia(cctx, w.url, w.dial)
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
		err := conn.QueryRow(qctx, insertSQL, id).Scan(&a.Node, &a.Timeline, &a.Server)
		cancel()
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			w.failed()
			continue
		}
		a.ID, a.Client = id, time.Now()
		w.ok(a)
	}
}

func (w *writer) ok(a ack) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.errSeen && !w.lastOK.IsZero() {
		w.maxGap = max(w.maxGap, a.Client.Sub(w.lastOK))
	}
	w.errSeen, w.lastOK = false, a.Client
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
