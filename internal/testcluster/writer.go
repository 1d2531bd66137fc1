package testcluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Ack is one acknowledged insert: the commit returned success.
type Ack struct {
	ID       int64
	Node     string    // inet_server_addr() of the postgres that committed it
	Timeline int64     // that postgres's timeline when it inserted
	Server   time.Time // clock_timestamp() on that server (one host clock)
	Client   time.Time // when the client saw the commit succeed
}

// AckReturning is appended to an INSERT to fill an Ack's Node, Timeline
// and Server. The timeline is the one of the current WAL file's name.
const AckReturning = `RETURNING coalesce(host(inet_server_addr()), 'local'),
  ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint, clock_timestamp()`

// Writer inserts rows with unique ids through one connection string,
// reconnecting after every error, and records which inserts were
// acknowledged (the commit returned success) and where.
type Writer struct {
	url  string
	dial DialFunc // nil: the default dialer

	mu       sync.Mutex
	acked    []Ack
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

// Via makes the writer dial with d, e.g. Cluster.DialIn for a client
// inside a node's namespace. Call before Run.
func (w *Writer) Via(d DialFunc) *Writer {
	w.dial = d
	return w
}

// ConnectVia opens a pgx connection dialed by d (nil: the default).
func ConnectVia(ctx context.Context, url string, d DialFunc) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	if d != nil {
		cfg.DialFunc = pgconn.DialFunc(d)
	}
	return pgx.ConnectConfig(ctx, cfg)
}

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
			c, err := ConnectVia(cctx, w.url, w.dial)
			cancel()
			if err != nil {
				w.failed()
				pause(ctx, 20*time.Millisecond)
				continue
			}
			conn = c
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		a := Ack{ID: id}
		err := conn.QueryRow(qctx, `INSERT INTO acked (id) VALUES ($1) `+AckReturning, id).Scan(&a.Node, &a.Timeline, &a.Server)
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
		a.Client = time.Now()
		w.ok(a)
		id++
	}
}

func (w *Writer) ok(a Ack) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := a.Client
	if !w.firstErr.IsZero() && !w.lastOK.IsZero() {
		if gap := now.Sub(w.lastOK); gap > w.maxGap {
			w.maxGap = gap
		}
	}
	w.firstErr = time.Time{}
	w.lastOK = now
	w.acked = append(w.acked, a)
}

func (w *Writer) failed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs++
	if w.firstErr.IsZero() {
		w.firstErr = time.Now()
	}
}

// Acked returns the acknowledged ids.
func (w *Writer) Acked() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]int64, len(w.acked))
	for i, a := range w.acked {
		ids[i] = a.ID
	}
	return ids
}

// Acks returns a copy of the acknowledged inserts with where they landed.
func (w *Writer) Acks() []Ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Ack(nil), w.acked...)
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

// SplitBrain counts acknowledged writes that a node committed on an older
// timeline after another node had already committed on a newer one (server
// clocks are one clock here): two writable primaries at once.
func SplitBrain(acks []Ack) int {
	acks = slices.Clone(acks)
	slices.SortFunc(acks, func(a, b Ack) int { return a.Server.Compare(b.Server) })
	type newest struct {
		timeline int64
		at       time.Time
		node     string
	}
	var seen []newest
	n := 0
	for _, a := range acks {
		for _, s := range seen {
			if s.at.Before(a.Server) && (s.timeline > a.Timeline || (s.timeline == a.Timeline && s.node != a.Node)) {
				n++
				break
			}
		}
		if len(seen) == 0 || a.Timeline > seen[len(seen)-1].timeline {
			seen = append(seen, newest{a.Timeline, a.Server, a.Node})
		}
	}
	return n
}
