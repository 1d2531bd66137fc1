package pg

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Connect opens a superuser connection on the local socket.
func (i *Instance) Connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=5",
		quoteConnValue(i.cfg.SocketDir), i.cfg.Port))
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func (i *Instance) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := i.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to local postgres: %w", err)
	}
	defer conn.Close(context.Background())
	return f(conn)
}

// Standby is a row of pg_stat_replication.
type Standby struct {
	Name      string
	State     string
	SyncState string
	FlushWAL  uint64
}

// Status is what postgres reports about itself.
type Status struct {
	InRecovery        bool
	Timeline          int64
	WAL               uint64
	ReceiverStreaming bool
	ReceiverHost      string
	Standbys          []Standby
	SyncStandbyNames  string
	ReadOnly          bool
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
	if st.Timeline, err = strconv.ParseInt(walfile[:8], 16, 64); err != nil {
		return err
	}
	rows, err := c.Query(ctx, `SELECT coalesce(application_name, ''), coalesce(state, ''), coalesce(sync_state, ''),
		coalesce(flush_lsn::text, '0/0') FROM pg_stat_replication`)
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
	if err == pgx.ErrNoRows {
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
			return fmt.Errorf("promote: not finished within 60s")
		}
		return nil
	})
}

// Reload makes postgres re-read its configuration.
func (i *Instance) Reload(ctx context.Context) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `SELECT pg_reload_conf()`)
		return err
	})
}

// Role is a login role to create or update.
type Role struct {
	Name, Password         string
	Superuser, Replication bool
}

// EnsureRoles creates or alters each role. Utility statements take no
// parameters, so the statement is built server-side with format(%I, %L).
func (i *Instance) EnsureRoles(ctx context.Context, roles []Role) error {
	return i.withConn(ctx, func(c *pgx.Conn) error {
		for _, r := range roles {
			var exists bool
			if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r.Name).Scan(&exists); err != nil {
				return err
			}
			verb := "CREATE"
			if exists {
				verb = "ALTER"
			}
			attrs := "LOGIN " + pick(r.Superuser, "SUPERUSER", "NOSUPERUSER") + " " + pick(r.Replication, "REPLICATION", "NOREPLICATION")
			var stmt string
			if err := c.QueryRow(ctx, `SELECT format('%s ROLE %I WITH %s PASSWORD %L', $1::text, $2::text, $3::text, $4::text)`,
				verb, r.Name, attrs, r.Password).Scan(&stmt); err != nil {
				return err
			}
			if _, err := c.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s role %s: %w", verb, r.Name, err) // never the statement: it holds the password
			}
		}
		return nil
	})
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// EnsureSlots creates missing physical replication slots.
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
			WHERE slot_type = 'physical' AND NOT active AND NOT (slot_name = ANY($1))`, keep)
		return err
	})
}

// BaseBackup copies the source into DataDir (via DataDir.tmp).
func (i *Instance) BaseBackup(ctx context.Context, src ConnInfo) error {
	if i.Initialized() {
		return fmt.Errorf("base backup: %s already holds data", i.cfg.DataDir)
	}
	tmp := i.cfg.DataDir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := i.mkdirOwned(tmp, 0o700); err != nil {
		return err
	}
	start := time.Now()
	out, err := i.run(ctx, []string{"PGPASSWORD=" + src.Password}, i.cfg.Bin.Path("pg_basebackup"),
		"-D", tmp, "-d", src.withoutPassword(), "-X", "stream", "-c", "fast", "--no-password")
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("pg_basebackup: %w\n%s", err, lastLines(out, 10))
	}
	_ = os.RemoveAll(i.cfg.DataDir)
	if err := os.Rename(tmp, i.cfg.DataDir); err != nil {
		return fmt.Errorf("base backup: %w", err)
	}
	i.log.Debug("base backup done", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Rewind makes the stopped DataDir follow the source's timeline.
func (i *Instance) Rewind(ctx context.Context, src ConnInfo) error {
	if i.Running() {
		return fmt.Errorf("pg_rewind: postgres is running")
	}
	out, err := i.run(ctx, []string{"PGPASSWORD=" + src.Password}, i.cfg.Bin.Path("pg_rewind"),
		"-D", i.cfg.DataDir, "--source-server="+src.withoutPassword(), "--progress")
	if err != nil {
		return fmt.Errorf("pg_rewind: %w\n%s", err, lastLines(out, 10))
	}
	i.log.Info("pg_rewind done", "output", string(lastLines(out, 1)))
	return nil
}
