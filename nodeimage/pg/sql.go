package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Connect opens a superuser (postgres) connection to the postgres
// database over the unix socket in SocketDir.
func (i *Instance) Connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=3 application_name=pgtui-keeper",
		quoteConnValue(i.cfg.SocketDir), i.cfg.Port))
	if err != nil {
		return nil, fmt.Errorf("connect to postgres in %s: %w", i.cfg.SocketDir, err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres in %s: %w", i.cfg.SocketDir, err)
	}
	return conn, nil
}

func (i *Instance) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := i.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return f(conn)
}

// Standby is a row of pg_stat_replication.
type Standby struct {
	Name      string // application_name
	State     string // e.g. streaming, catchup
	SyncState string // async, potential, sync, quorum
	FlushWAL  uint64 // flush_lsn
}

// Status is what postgres reports about itself.
type Status struct {
	InRecovery bool
	// Timeline: on a primary the timeline WAL is written on now (from
	// pg_walfile_name, current right after a promotion, unlike
	// pg_control_checkpoint which waits for the next checkpoint); on a
	// standby the larger of the WAL receiver's received_tli and the last
	// restartpoint's timeline.
	Timeline int64
	// WAL: primary pg_current_wal_flush_lsn(); standby the larger of
	// pg_last_wal_receive_lsn() and pg_last_wal_replay_lsn().
	WAL               uint64
	ReceiverStreaming bool      // pg_stat_wal_receiver.status = 'streaming'
	ReceiverHost      string    // pg_stat_wal_receiver.sender_host
	Standbys          []Standby // pg_stat_replication, by name (primary only)
	SyncStandbyNames  string
	ReadOnly          bool // default_transaction_read_only
}

// Status queries recovery state, WAL positions and replication.
func (i *Instance) Status(ctx context.Context) (Status, error) {
	var st Status
	err := i.withConn(ctx, func(c *pgx.Conn) error {
		if err := c.QueryRow(ctx, `SELECT pg_is_in_recovery(), current_setting('synchronous_standby_names'),
			current_setting('default_transaction_read_only') = 'on'`).Scan(&st.InRecovery, &st.SyncStandbyNames, &st.ReadOnly); err != nil {
			return err
		}
		if st.InRecovery {
			return i.standbyStatus(ctx, c, &st)
		}
		return i.primaryStatus(ctx, c, &st)
	})
	if err != nil {
		return Status{}, fmt.Errorf("postgres status: %w", err)
	}
	return st, nil
}

func (i *Instance) primaryStatus(ctx context.Context, c *pgx.Conn, st *Status) error {
	var lsn, walfile string
	if err := c.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn()::text, pg_walfile_name(pg_current_wal_lsn())`).Scan(&lsn, &walfile); err != nil {
		return err
	}
	var err error
	if st.WAL, err = ParseLSN(lsn); err != nil {
		return err
	}
	// The WAL file name starts with the timeline in hex.
	if len(walfile) < 8 {
		return fmt.Errorf("unexpected WAL file name %q", walfile)
	}
	if st.Timeline, err = strconv.ParseInt(walfile[:8], 16, 64); err != nil {
		return err
	}
	rows, err := c.Query(ctx, `SELECT coalesce(application_name, ''), coalesce(state, ''), coalesce(sync_state, ''),
		coalesce(flush_lsn::text, '0/0') FROM pg_stat_replication ORDER BY 1`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s Standby
		var flush string
		if err := rows.Scan(&s.Name, &s.State, &s.SyncState, &flush); err != nil {
			return err
		}
		s.FlushWAL, _ = ParseLSN(flush)
		st.Standbys = append(st.Standbys, s)
	}
	return rows.Err()
}

func (i *Instance) standbyStatus(ctx context.Context, c *pgx.Conn, st *Status) error {
	var recv, replay string
	var tli int64
	if err := c.QueryRow(ctx, `SELECT coalesce(pg_last_wal_receive_lsn()::text, '0/0'), coalesce(pg_last_wal_replay_lsn()::text, '0/0'),
		(SELECT timeline_id FROM pg_control_checkpoint())`).Scan(&recv, &replay, &tli); err != nil {
		return err
	}
	r1, _ := ParseLSN(recv)
	r2, _ := ParseLSN(replay)
	st.WAL, st.Timeline = max(r1, r2), tli
	var status, host string
	var rtli int64
	err := c.QueryRow(ctx, `SELECT coalesce(status, ''), coalesce(received_tli, 0), coalesce(sender_host, '') FROM pg_stat_wal_receiver`).Scan(&status, &rtli, &host)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	st.ReceiverStreaming, st.ReceiverHost = status == "streaming", host
	if rtli > st.Timeline {
		st.Timeline = rtli
	}
	return nil
}

// Promote ends recovery and waits for it (up to 60 s).
func (i *Instance) Promote(ctx context.Context) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		var ok bool
		if err := c.QueryRow(ctx, `SELECT pg_promote(true, 60)`).Scan(&ok); err != nil {
			return fmt.Errorf("promote: %w", err)
		}
		if !ok {
			return errors.New("promote: still in recovery after 60s")
		}
		return nil
	})
}

// Reload makes postgres re-read its configuration.
func (i *Instance) Reload(ctx context.Context) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, `SELECT pg_reload_conf()`); err != nil {
			return fmt.Errorf("reload postgres config: %w", err)
		}
		return nil
	})
}

// Role is a login role to create or update.
type Role struct {
	Name, Password         string
	Superuser, Replication bool
}

// EnsureRoles creates or alters each role: LOGIN, (NO)SUPERUSER,
// (NO)REPLICATION and its password (hashed by the server, scram-sha-256).
// Utility statements take no parameters, so each statement is built
// server-side with format(%I, %L). Passwords are never logged: the session
// turns statement logging off first.
func (i *Instance) EnsureRoles(ctx context.Context, roles []Role) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, `SET log_statement = 'none'; SET log_min_error_statement = 'panic';
			SET log_min_duration_statement = -1; SET default_transaction_read_only = off`); err != nil {
			return fmt.Errorf("ensure roles: %w", err)
		}
		for _, r := range roles {
			if err := ensureRole(ctx, c, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func ensureRole(ctx context.Context, c *pgx.Conn, r Role) error {
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r.Name).Scan(&exists); err != nil {
		return fmt.Errorf("role %s: %w", r.Name, err)
	}
	verb := pick(exists, "ALTER", "CREATE")
	attrs := "LOGIN " + pick(r.Superuser, "SUPERUSER", "NOSUPERUSER") + " " + pick(r.Replication, "REPLICATION", "NOREPLICATION")
	var stmt string
	// %L renders NULL (no password) for an empty one.
	err := c.QueryRow(ctx, `SELECT format('%s ROLE %I WITH %s PASSWORD %L', $1::text, $2::text, $3::text, nullif($4::text, ''))`,
		verb, r.Name, attrs, r.Password).Scan(&stmt)
	if err != nil {
		return fmt.Errorf("%s role %s: %w", verb, r.Name, err)
	}
	if _, err := c.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s role %s: %w", verb, r.Name, err) // never stmt: it holds the password
	}
	return nil
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// EnsureSlots creates missing physical replication slots (reserving WAL
// at once); it never drops any.
func (i *Instance) EnsureSlots(ctx context.Context, names []string) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		for _, n := range names {
			if _, err := c.Exec(ctx, `SELECT pg_create_physical_replication_slot($1, true)
				WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, n); err != nil {
				return fmt.Errorf("create slot %s: %w", n, err)
			}
		}
		return nil
	})
}

// DropSlotsExcept drops inactive physical slots not in keep.
func (i *Instance) DropSlotsExcept(ctx context.Context, keep []string) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE slot_type = 'physical' AND NOT active AND NOT (slot_name = ANY($1::text[]))`, append([]string{}, keep...))
		if err != nil {
			return fmt.Errorf("drop replication slots: %w", err)
		}
		return nil
	})
}
