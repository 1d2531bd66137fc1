package pg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// BaseBackup copies the source (src.User: the replication user) into
// DataDir: pg_basebackup runs as RunAs into DataDir.tmp (emptied first)
// with -X stream -c fast, the password in PGPASSWORD (never on the command
// line), and the result is renamed into place. DataDir must not hold a
// cluster. The copy carries the source's configuration files: call
// WriteConf before Start.
func (i *Instance) BaseBackup(ctx context.Context, src ConnInfo) error {
	i.life.Lock()
	defer i.life.Unlock()
	dir := i.cfg.DataDir
	if i.Running() || i.Initialized() {
		return fmt.Errorf("base backup into %s: it already holds a cluster", dir)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("base backup into %s: %w", dir, err)
	}
	if err := mkdirOwned(tmp, 0o700, i.cfg.RunAs); err != nil {
		return fmt.Errorf("base backup into %s: %w", dir, err)
	}
	start := time.Now()
	out, err := i.run(ctx, passwordEnv(src), i.cfg.Bin.Path("pg_basebackup"),
		"-D", tmp, "-d", src.withoutPassword(), "-X", "stream", "-c", "fast", "--no-password")
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("pg_basebackup into %s from %s:%d: %w\n%s", dir, src.Host, src.Port, err, lastLines(out, 10))
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("base backup into %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("base backup into %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("base backup into %s: %w", dir, err)
	}
	i.log.Info("base backup done", "from", fmt.Sprintf("%s:%d", src.Host, src.Port), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func passwordEnv(src ConnInfo) []string {
	if src.Password == "" {
		return nil
	}
	return []string{"PGPASSWORD=" + src.Password}
}

// localFiles are the data dir's own configuration: pg_rewind would
// replace them with the source's copies, so Rewind puts them back.
func localFiles() []string {
	return []string{"postgresql.conf", "postgresql.auto.conf", "pgtui.conf", "pg_hba.conf",
		"pg_ident.conf", "standby.signal", "recovery.signal"}
}

// Rewind makes the stopped DataDir follow the source's timeline with
// `pg_rewind --source-server`; src.User must be a superuser and
// src.DBName defaults to postgres. A CHECKPOINT is run on the source first
// (see checkpoint). A target that was not shut down cleanly is settled
// first: a crashed standby is started and stopped (fast) as a standby;
// anything else (a crashed primary) gets pg_rewind's own crash recovery in
// single-user mode, with the target's configuration. The data dir's
// configuration and signal files are the same afterwards as before: call
// WriteConf (a replica's settings) before Start. On failure the error
// carries pg_rewind's last output lines; a fresh BaseBackup is the usual
// remedy.
func (i *Instance) Rewind(ctx context.Context, src ConnInfo) error {
	dir := i.cfg.DataDir
	if i.Running() {
		return fmt.Errorf("pg_rewind %s: postgres is running", dir)
	}
	if !i.Initialized() {
		return fmt.Errorf("pg_rewind %s: no cluster", dir)
	}
	if err := i.settleCrashedStandby(ctx); err != nil {
		return fmt.Errorf("pg_rewind %s: %w", dir, err)
	}
	if src.DBName == "" {
		src.DBName = "postgres"
	}
	i.life.Lock()
	defer i.life.Unlock()
	if i.Running() {
		return fmt.Errorf("pg_rewind %s: postgres is running", dir)
	}
	saved := map[string][]byte{}
	for _, f := range localFiles() {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
			saved[f] = b
		}
	}
	start := time.Now()
	if err := checkpoint(ctx, src); err != nil {
		return fmt.Errorf("pg_rewind %s: %w", dir, err)
	}
	out, err := i.run(ctx, passwordEnv(src), i.cfg.Bin.Path("pg_rewind"),
		"-D", dir, "--source-server="+src.withoutPassword(), "--progress")
	restoreErr := i.restoreLocal(saved)
	if err != nil {
		return fmt.Errorf("pg_rewind %s from %s:%d: %w\n%s", dir, src.Host, src.Port, err, lastLines(out, 15))
	}
	if restoreErr != nil {
		return fmt.Errorf("pg_rewind %s: %w", dir, restoreErr)
	}
	i.log.Info("pg_rewind done", "from", fmt.Sprintf("%s:%d", src.Host, src.Port),
		"took", time.Since(start).Round(time.Millisecond), "result", string(lastLines(out, 1)))
	return nil
}

// settleCrashedStandby gives a standby that crashed a clean "shut down in
// recovery" state by starting and stopping it. pg_rewind's own crash
// recovery runs in single-user mode, which cannot be a standby: it would
// end recovery and write a checkpoint of its own on the timeline it shares
// with the source, a divergence pg_rewind does not see.
func (i *Instance) settleCrashedStandby(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(i.cfg.DataDir, "standby.signal")); err != nil {
		return nil
	}
	state, err := i.ClusterState(ctx)
	if err != nil || state != "in archive recovery" {
		return err
	}
	i.log.Info("target of pg_rewind is a crashed standby: starting and stopping it first")
	if err := i.Start(ctx); err != nil {
		return err
	}
	return i.Stop(ctx, StopFast)
}

// checkpoint runs CHECKPOINT on the source: pg_rewind reads the source's
// timeline from its pg_control, which a just-promoted server updates only
// with its first checkpoint after promotion (pg_rewind would otherwise
// report "no rewind required" and the target could not follow).
func checkpoint(ctx context.Context, src ConnInfo) error {
	cfg, err := pgx.ParseConfig(src.String())
	if err != nil {
		return fmt.Errorf("checkpoint on %s:%d: %w", src.Host, src.Port, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("checkpoint on %s:%d: %w", src.Host, src.Port, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint on %s:%d: %w", src.Host, src.Port, err)
	}
	return nil
}

// restoreLocal puts the local configuration files back as they were.
func (i *Instance) restoreLocal(saved map[string][]byte) error {
	var errs []error
	for _, f := range localFiles() {
		if b, ok := saved[f]; ok {
			errs = append(errs, i.writeFile(f, b))
		} else if err := os.Remove(filepath.Join(i.cfg.DataDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// controlData runs pg_controldata: "Database cluster state" and friends.
func (i *Instance) controlData(ctx context.Context) (map[string]string, error) {
	out, err := i.run(ctx, nil, i.cfg.Bin.Path("pg_controldata"), "-D", i.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pg_controldata %s: %w\n%s", i.cfg.DataDir, err, lastLines(out, 5))
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

func cleanlyShutDown(ctl map[string]string) bool {
	s := ctl["Database cluster state"]
	return s == "shut down" || s == "shut down in recovery"
}

// ClusterState is pg_controldata's "Database cluster state" (e.g. "shut
// down", "shut down in recovery", "in production", "in archive recovery").
func (i *Instance) ClusterState(ctx context.Context) (string, error) {
	ctl, err := i.controlData(ctx)
	if err != nil {
		return "", err
	}
	return ctl["Database cluster state"], nil
}

// CheckpointWAL reads the latest checkpoint location from pg_control (the
// shutdown checkpoint after a clean stop).
func (i *Instance) CheckpointWAL(ctx context.Context) (uint64, error) {
	ctl, err := i.controlData(ctx)
	if err != nil {
		return 0, err
	}
	v, ok := ctl["Latest checkpoint location"]
	if !ok {
		return 0, fmt.Errorf("pg_controldata %s: no latest checkpoint location", i.cfg.DataDir)
	}
	return ParseLSN(v)
}
