package nodeimage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgtui/pgtui/nodeimage/backrest"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/keeper"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
	"github.com/pgtui/pgtui/nodeimage/pg"
)

// BackupConfig turns on continuous archiving and backups through
// pgBackRest (see nodeimage/backrest). The stanza is the cluster's name.
type BackupConfig struct {
	Repo backrest.Repo
	// Restore, when set, bootstraps a new cluster from another cluster's
	// repository instead of initdb.
	Restore *RestoreConfig
	// MaxAge: the pg check turns critical when the newest backup is older
	// (0: never). ArchiveGrace: ... when archiving has failed this long
	// (default 30s: a failure right at bootstrap, before the stanza
	// exists, is retried and passes).
	MaxAge, ArchiveGrace time.Duration
}

// RestoreConfig names the backup a new cluster starts from.
type RestoreConfig struct {
	Stanza string // the source cluster
	Repo   backrest.Repo
	Target backrest.Target
}

// backups runs on every node: it creates the stanza once this node leads,
// and serves the backup endpoints of the node API.
type backups struct {
	br   *backrest.Backrest
	inst *pg.Instance
	kp   *keeper.Keeper
	log  *slog.Logger

	mu        sync.Mutex
	stanzaFor int64 // generation under which the stanza was last created
	lastErr   string
	// The newest backup, read from the repository at most every
	// infoEvery (pgbackrest info costs a process and the repository's
	// reads) and after each backup.
	lastBackup time.Time
	infoErr    string
	infoAt     time.Time
	maxAge     time.Duration
	grace      time.Duration
}

const infoEvery = time.Minute

// facts are the pg check's backup line and the backup metrics on the
// leader; nil on other roles.
func (b *backups) facts(ctx context.Context) *checks.BackupFacts {
	if b.kp.Info().Role != cluster.RoleLeader {
		return nil
	}
	b.mu.Lock()
	stale := time.Since(b.infoAt) > infoEvery
	b.mu.Unlock()
	if stale {
		b.refreshInfo(ctx)
	}
	f := &checks.BackupFacts{MaxAge: b.maxAge, Grace: b.grace}
	b.mu.Lock()
	f.LastBackup, f.InfoErr = b.lastBackup, b.infoErr
	b.mu.Unlock()
	a, started, err := b.archiverStarted(ctx)
	if err != nil {
		return f
	}
	f.LastArchived, f.LastFailed, f.FailedWAL, f.Started = a.LastArchived, a.LastFailed, a.LastFailedWAL, started
	return f
}

func (b *backups) refreshInfo(ctx context.Context) {
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := b.br.Info(ictx)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.infoAt = time.Now()
	if err != nil {
		b.infoErr = firstLine(err.Error())
		return
	}
	b.infoErr = ""
	if n, ok := info.Newest(); ok {
		b.lastBackup = n.Stop
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// backupSetup validates the backup settings and writes the node's
// pgBackRest configuration; it returns the postgres settings that archive
// WAL through it and, for a restore, the keeper's bootstrap hooks.
func backupSetup(cfg Config, inst *pg.Instance, log *slog.Logger) (*backrest.Backrest, map[string]string, func(context.Context) error, func() error, error) {
	if cfg.Backup == nil {
		return nil, nil, nil, nil, nil
	}
	volume, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	pc := inst.Config()
	ru := brRunAs(pc.RunAs)
	br, err := backrest.New(backrest.Config{Stanza: cfg.Cluster, Repo: cfg.Backup.Repo, Dir: filepath.Join(volume, "backrest"),
		PGPath: pc.DataDir, PGPort: pc.Port, PGSocket: pc.SocketDir, RunAs: ru, Log: log})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("backups: %w", err)
	}
	params := map[string]string{"archive_mode": "on", "archive_command": br.ArchiveCommand(), "restore_command": br.RestoreCommand(),
		"archive_timeout": "60"}
	rc := cfg.Backup.Restore
	if rc == nil {
		return br, params, nil, nil, nil
	}
	src, err := backrest.New(backrest.Config{Stanza: rc.Stanza, Repo: rc.Repo, Dir: filepath.Join(volume, "backrest-restore"),
		PGPath: pc.DataDir, PGSocket: pc.SocketDir, RunAs: ru, Log: log})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("restore: %w", err)
	}
	restore := func(ctx context.Context) error {
		if err := src.Restore(ctx, rc.Target); err != nil {
			return err
		}
		// The new cluster gets a certificate of its own (EnsureCert).
		for _, f := range []string{pg.CertFile, pg.KeyFile} {
			if err := os.Remove(filepath.Join(pc.DataDir, f)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("restore: %w", err)
			}
		}
		return nil
	}
	after := func() error { return backrest.CleanRecovery(pc.DataDir) }
	return br, params, restore, after, nil
}

func brRunAs(ru *pg.RunAs) *backrest.RunAs {
	if ru == nil {
		return nil
	}
	return &backrest.RunAs{UID: ru.UID, GID: ru.GID}
}

// run creates the stanza whenever this node has become the leader of a
// new generation (creating an existing one is a no-op), retrying until it
// succeeds.
func (b *backups) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		info := b.kp.Info()
		b.mu.Lock()
		done := b.stanzaFor == info.Generation
		b.mu.Unlock()
		if info.Role == cluster.RoleLeader && info.Healthy && !done {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err := b.br.StanzaCreate(cctx)
			cancel()
			b.mu.Lock()
			if err != nil {
				b.lastErr = err.Error()
				b.log.Warn("backup stanza-create failed; retrying", "err", err)
			} else {
				b.stanzaFor, b.lastErr = info.Generation, ""
				b.log.Info("backup stanza ready", "stanza", b.br.Stanza(), "generation", info.Generation)
			}
			b.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ready reports whether the stanza exists for the current leadership.
func (b *backups) ready() error {
	info := b.kp.Info()
	if info.Role != cluster.RoleLeader {
		return fmt.Errorf("this node is not the leader (role %q): ask the leader", info.Role)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stanzaFor != info.Generation {
		if b.lastErr != "" {
			return fmt.Errorf("backup stanza not ready: %s", b.lastErr)
		}
		return fmt.Errorf("backup stanza not ready yet: retry in a few seconds")
	}
	return nil
}

// archiverRow is pg_stat_archiver and when postgres started.
type archiverRow struct {
	nodeapi.Archiver
	started time.Time
}

func (b *backups) archiverStarted(ctx context.Context) (*nodeapi.Archiver, time.Time, error) {
	a, err := b.archiver(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	return &a.Archiver, a.started, nil
}

func (b *backups) archiver(ctx context.Context) (*archiverRow, error) {
	conn, err := b.inst.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var a archiverRow
	var lastOK, lastFail *time.Time
	err = conn.QueryRow(ctx, `SELECT archived_count, coalesce(last_archived_wal, ''), last_archived_time,
		failed_count, coalesce(last_failed_wal, ''), last_failed_time, pg_is_in_recovery(), pg_postmaster_start_time() FROM pg_stat_archiver`).
		Scan(&a.ArchivedCount, &a.LastArchivedWAL, &lastOK, &a.FailedCount, &a.LastFailedWAL, &lastFail, &a.InRecovery, &a.started)
	if err != nil {
		return nil, fmt.Errorf("pg_stat_archiver: %w", err)
	}
	if lastOK != nil {
		a.LastArchived = lastOK.UTC()
	}
	if lastFail != nil {
		a.LastFailed = lastFail.UTC()
	}
	return &a, nil
}

// handlers adds the backup endpoints (all behind the node API token).
func (b *backups) handlers(mux *http.ServeMux, token string) {
	mux.Handle("GET /backup/info", nodeapi.Require(token, http.HandlerFunc(b.handleInfo)))
	mux.Handle("POST /backup", nodeapi.Require(token, http.HandlerFunc(b.handleBackup)))
	mux.Handle("POST /backup/check", nodeapi.Require(token, http.HandlerFunc(b.handleCheck)))
	mux.Handle("POST /backup/expire", nodeapi.Require(token, http.HandlerFunc(b.handleExpire)))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *backups) handleInfo(w http.ResponseWriter, r *http.Request) {
	out := nodeapi.BackupInfo{Stanza: b.br.Stanza()}
	if a, err := b.archiver(r.Context()); err == nil {
		out.Archiver = &a.Archiver
	}
	info, err := b.br.Info(r.Context())
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	out.Info = info
	writeJSON(w, http.StatusOK, out)
}

// handleBackup runs a backup on the leader and streams its progress as
// newline-delimited nodeapi.BackupEvent, the last one with Done.
func (b *backups) handleBackup(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = backrest.Full
	}
	if !backrest.ValidType(typ) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("backup type %q: use full, diff or incr", typ)})
		return
	}
	if err := b.ready(); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	send := func(ev nodeapi.BackupEvent) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(ev)
		if flusher != nil {
			flusher.Flush()
		}
	}
	last := -1.0
	b.log.Info("backup starting", "type", typ)
	label, err := b.br.Backup(r.Context(), typ, func(p float64) {
		if p-last >= 1 || p == 100 {
			last = p
			send(nodeapi.BackupEvent{Percent: p})
		}
	})
	if err != nil {
		b.log.Warn("backup failed", "type", typ, "err", err)
		send(nodeapi.BackupEvent{Done: true, Error: err.Error()})
		return
	}
	b.log.Info("backup done", "type", typ, "label", label)
	b.refreshInfo(r.Context())
	send(nodeapi.BackupEvent{Done: true, Percent: 100, Label: label})
}

func (b *backups) handleCheck(w http.ResponseWriter, r *http.Request) {
	if err := b.ready(); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	if err := b.br.Check(r.Context()); err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "archived"})
}

func (b *backups) handleExpire(w http.ResponseWriter, r *http.Request) {
	if err := b.ready(); err != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	if err := b.br.Expire(r.Context()); err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "expired"})
}

// backupCollector exports the leader's backup times: the newest backup's
// end and how long ago WAL was last archived.
type backupCollector struct {
	src           checks.BackupSource
	timeout       time.Duration
	last, archLag *prometheus.Desc
}

func newBackupCollector(src checks.BackupSource, timeout time.Duration) *backupCollector {
	return &backupCollector{src: src, timeout: timeout,
		last:    prometheus.NewDesc("pgtui_backup_last_success_timestamp_seconds", "When the newest backup in the repository finished (unix time; leader only).", nil, nil),
		archLag: prometheus.NewDesc("pgtui_wal_archive_lag_seconds", "Seconds since a WAL segment was last archived (leader only).", nil, nil),
	}
}

func (c *backupCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.last; ch <- c.archLag }

func (c *backupCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	f := c.src(ctx)
	if f == nil {
		return
	}
	if !f.LastBackup.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(f.LastBackup.Unix()))
	}
	if !f.LastArchived.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.archLag, prometheus.GaugeValue, time.Since(f.LastArchived).Seconds())
	}
}
