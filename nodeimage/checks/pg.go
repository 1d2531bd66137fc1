package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgtui/pgtui/nodeimage/cluster"
)

// Connector opens a connection to the node's own postgres (*pg.Instance
// does, over its unix socket).
type Connector interface {
	Connect(ctx context.Context) (*pgx.Conn, error)
}

// PGFacts is what the pg check reads from the local postgres.
type PGFacts struct {
	InRecovery bool
	// Streaming: a replica's WAL receiver streams from the leader.
	Streaming bool
	// Lag is how far a replica's replay trails: zero when it has replayed
	// all it received, else the age of the last replayed transaction.
	// Nil when unknown (nothing replayed yet).
	Lag *time.Duration
	// Used client connections, reserved slots (superuser and, from
	// PostgreSQL 16, pg_use_reserved_connections) and max_connections.
	Used, Reserved, Max int
	// ReadOnlyReason: why the leader refuses writes ("" when it takes
	// them); ReadOnlyByHand: the operator asked for it.
	ReadOnlyReason string
	ReadOnlyByHand bool
}

// LagSQL is postgres_exporter's pg_replication_lag in seconds (float8):
// 0 on a primary and on a replica that has replayed all it received,
// else the age of the last replayed transaction; NULL when nothing was
// replayed yet (it may be negative by clock skew: clamp it).
const LagSQL = `CASE WHEN NOT pg_is_in_recovery() THEN 0
	WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
	ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END`

// pgFactsSQL reads every fact in one round trip.
const pgFactsSQL = `SELECT pg_is_in_recovery(),
	(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
	current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0),
	current_setting('max_connections')::int,
	coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false), ` + LagSQL

// QueryPG reads the facts from the local postgres on a new connection.
// Not a connection kept between checks, though that would be cheaper
// (postgres forks, authenticates and tears down a backend for each, some
// 10ms of CPU: internal/bench/checks measures it): a new connection is
// what proves postgres still serves clients, while a kept backend goes on
// answering when the postmaster hangs.
func QueryPG(ctx context.Context, c Connector) (PGFacts, error) {
	conn, err := c.Connect(ctx)
	if err != nil {
		return PGFacts{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var f PGFacts
	var lag *float64
	if err := conn.QueryRow(ctx, pgFactsSQL).Scan(&f.InRecovery, &f.Used, &f.Reserved, &f.Max, &f.Streaming, &lag); err != nil {
		return PGFacts{}, fmt.Errorf("query postgres health: %w", err)
	}
	if lag != nil {
		d := time.Duration(max(*lag, 0) * float64(time.Second))
		f.Lag = &d
	}
	return f, nil
}

// PG is the `pg` check. On the leader: "replication: currently leader";
// on a replica: "leader check: connected" and "replication lag: 246µs";
// on both: "connections: 37 used, 3 reserved, 100 max". err is QueryPG's.
func PG(f PGFacts, err error, th Thresholds) Check {
	th = th.withDefaults()
	if err != nil {
		return build("pg", []result{fail(Critical, "postgres: not answering (%s)", shortCause(err))})
	}
	var rs []result
	if !f.InRecovery {
		rs = append(rs, pass("replication: currently leader"))
		// Read-only by hand is the operator's intent, shown but passing (it
		// must not hold up rolling operations); a nearly full volume is a
		// problem to fix.
		switch {
		case f.ReadOnlyReason != "" && f.ReadOnlyByHand:
			rs = append(rs, pass("mode: read-only, %s", f.ReadOnlyReason))
		case f.ReadOnlyReason != "":
			rs = append(rs, fail(Warning, "mode: read-only, %s", f.ReadOnlyReason))
		}
	} else {
		if f.Streaming {
			rs = append(rs, pass("leader check: connected"))
		} else {
			rs = append(rs, fail(Critical, "leader check: not connected"))
		}
		rs = append(rs, formatLag(f.Lag, th.MaxLag))
	}
	rs = append(rs, formatConnections(f.Used, f.Reserved, f.Max))
	c := build("pg", rs)
	c.Connections = &f.Used
	return c
}

// formatLag: "replication lag: 246µs", critical above limit.
func formatLag(lag *time.Duration, limit time.Duration) result {
	switch {
	case lag == nil:
		return fail(Warning, "replication lag: unknown (nothing replayed yet)")
	case *lag > limit:
		return fail(Critical, "replication lag: %s", FormatDuration(*lag))
	}
	return pass("replication lag: %s", FormatDuration(*lag))
}

// formatConnections: "connections: 37 used, 3 reserved, 100 max",
// critical once only reserved slots are left.
func formatConnections(used, reserved, maxConn int) result {
	text := fmt.Sprintf("connections: %d used, %d reserved, %d max", used, reserved, maxConn)
	if used >= maxConn-reserved {
		return fail(Critical, "%s", text)
	}
	return pass("%s", text)
}

// Role is the `role` check: the role the keeper observes, printed bare.
func Role(r cluster.Role) Check {
	var res result
	switch r {
	case cluster.RoleLeader, cluster.RoleReplica:
		res = pass("%s", r)
	case cluster.RoleFenced:
		res = fail(Critical, "fenced")
	default:
		res = fail(Warning, "starting")
	}
	c := build("role", []result{res})
	c.Plain = true
	return c
}

// shortCause words why postgres did not answer without the socket paths
// pgx repeats: "connection refused", "the database system is starting
// up", "timed out".
func shortCause(err error) string {
	var pgErr *pgconn.PgError
	var errno syscall.Errno
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &errno):
		return errno.Error()
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
