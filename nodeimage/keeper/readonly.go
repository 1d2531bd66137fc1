package keeper

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A read-only leader has default_transaction_read_only = on in its
// server configuration: every transaction starts read-only and a write
// fails with "cannot execute INSERT in a read-only transaction". That
// setting is USERSET, though: a client may SET it off (or BEGIN READ
// WRITE), and postgres has no privilege that forbids it. So on every
// round the leader's keeper also ends, with pg_terminate_backend, each
// client session that holds a transaction ID: postgres assigns one only
// when a transaction writes, so a session found with one has overridden
// the setting. Its transaction is rolled back unless it already
// committed: a single autocommit statement that commits within one round
// (500 ms) can still get through, which the log line then shows.
// The call sits in the select list, so it runs only for rows that pass
// the WHERE clause.
const terminateWritersSQL = `SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), pg_terminate_backend(pid)
	FROM pg_stat_activity
	WHERE backend_type = 'client backend' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`

// enforceReadOnly ends sessions that write while the leader is
// read-only.
func (k *Keeper) enforceReadOnly(ctx context.Context) {
	ended, err := terminateWriters(ctx, k.cfg.PG)
	if err != nil {
		k.log.Warn("read-only: could not check sessions for writes", "err", err)
		return
	}
	for _, s := range ended {
		k.log.Warn("read-only: ended a session that wrote after overriding default_transaction_read_only", "session", s)
	}
}

type connector interface {
	Connect(ctx context.Context) (*pgx.Conn, error)
}

func terminateWriters(ctx context.Context, c connector) ([]string, error) {
	conn, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, terminateWritersSQL)
	if err != nil {
		return nil, fmt.Errorf("terminate writing sessions: %w", err)
	}
	defer rows.Close()
	var ended []string
	for rows.Next() {
		var pid int
		var user, app string
		var ok bool
		if err := rows.Scan(&pid, &user, &app, &ok); err != nil {
			return nil, fmt.Errorf("terminate writing sessions: %w", err)
		}
		ended = append(ended, fmt.Sprintf("pid %d user %s application %q", pid, user, app))
	}
	return ended, rows.Err()
}
