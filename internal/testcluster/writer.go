package testcluster

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Writer inserts rows with unique ids through one connection string,
// reconnecting after every error, and records which inserts were
// acknowledged (the commit returned success).
type Writer struct {
	url string

	mu       sync.Mutex
	acked    []int64
	errs     int
	lastOK   time.Time
	firstErr time.Time // start of the current unavailability, zero if none
	maxGap   time.Duration
}

// CreateTable makes the table writers insert into.
func CreateTable(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS acked (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`)
	return err
}

// NewWriter prepares a writer; Run starts it.
func NewWriter(url string) *Writer { return &Writer{url: url} }

// Run inserts ids from start upward until ctx ends.
func (w *Writer) Run(ctx context.Context, start int64) {
	id := start
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for ctx.Err() == nil {
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			c, err := pgx.Connect(cctx, w.url)
			cancel()
			if err != nil {
				w.failed()
				pause(ctx, 20*time.Millisecond)
				continue
			}
			conn = c
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := conn.Exec(qctx, `INSERT INTO acked (id) VALUES ($1)`, id)
		cancel()
		if err != nil {
			// Unknown outcome: the id is not recorded as acknowledged and
			// never reused.
			conn.Close(context.Background())
			conn = nil
			id++
			w.failed()
			continue
		}
		w.ok(id)
		id++
	}
}

func (w *Writer) ok(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if !w.firstErr.IsZero() && !w.lastOK.IsZero() {
		if gap := now.Sub(w.lastOK); gap > w.maxGap {
			w.maxGap = gap
		}
	}
	w.firstErr = time.Time{}
	w.lastOK = now
	w.acked = append(w.acked, id)
}

func (w *Writer) failed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs++
	if w.firstErr.IsZero() {
		w.firstErr = time.Now()
	}
}

// Acked returns a copy of the acknowledged ids.
func (w *Writer) Acked() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int64(nil), w.acked...)
}

// Count of acknowledged inserts so far.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// MaxGap is the longest time between two acknowledged writes that had
// errors in between (the write unavailability).
func (w *Writer) MaxGap() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxGap
}

// Missing returns the acknowledged ids absent from the table at url.
func Missing(ctx context.Context, url string, acked []int64) ([]int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT a FROM unnest($1::bigint[]) a WHERE NOT EXISTS (SELECT 1 FROM acked WHERE id = a)`, acked)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
