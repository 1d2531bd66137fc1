package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/spf13/cobra"
)

// newPostgresBackup is `pgtui postgres backup create|list|config`.
func newPostgresBackup(d *deps) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "Take, list and schedule backups (pgBackRest, encrypted, with point-in-time recovery)"}
	cmd.AddCommand(newBackupCreate(d), newBackupList(d), newBackupConfig(d))
	return cmd
}

func newBackupCreate(d *deps) *cobra.Command {
	var app, typ string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Take a backup now (--type full, diff or incr), showing its progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupCreate(cmd.Context(), d, app, typ)
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	cmd.Flags().StringVar(&typ, "type", "full", "full, diff (changes since the last full) or incr (changes since the last backup)")
	return cmd
}

func runBackupCreate(ctx context.Context, d *deps, app, typ string) error {
	if err := requireApp(app); err != nil {
		return err
	}
	if typ != "full" && typ != "diff" && typ != "incr" {
		return fmt.Errorf("--type %q: use full, diff or incr", typ)
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	start := d.now()
	events, err := b.CreateBackup(ctx, app, typ)
	if err != nil {
		return fmt.Errorf("backup of %s: %w", app, err)
	}
	d.printf("Taking a %s backup of %s\n", typ, app)
	last := -10.0
	for ev := range events {
		if ev.Error != "" {
			return fmt.Errorf("backup of %s failed: %s", app, ev.Error)
		}
		if ev.Done {
			d.printf("Backup %s done in %s\n", ev.ID, d.now().Sub(start).Round(100*time.Millisecond))
			return nil
		}
		if ev.Percent-last >= 10 || ev.Percent == 100 && last != 100 {
			last = ev.Percent
			d.printf("  %3.0f%% copied\n", ev.Percent)
		}
	}
	return fmt.Errorf("backup of %s: the stream ended before the backup did: see `pgtui postgres backup list -a %s`", app, app)
}

func newBackupList(d *deps) *cobra.Command {
	var app string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List backups and the restorable window",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupList(cmd.Context(), d, app, asJSON)
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	addJSONFlag(cmd, &asJSON)
	return cmd
}

const timeLayout = "2006-01-02 15:04:05Z07:00"

func runBackupList(ctx context.Context, d *deps, app string, asJSON bool) error {
	if err := requireApp(app); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	l, err := b.ListBackups(ctx, app)
	if err != nil {
		return err
	}
	if asJSON {
		return render.JSON(d.Out, l)
	}
	rows := [][]string{}
	for _, bk := range l.Backups {
		rows = append(rows, []string{bk.ID, bk.Type, bk.Start.UTC().Format(timeLayout), bk.Stop.UTC().Format(timeLayout),
			humanBytes(bk.Size), humanBytes(bk.RepoSize), bk.WALStart + " .. " + bk.WALStop})
	}
	if err := render.Table(d.Out, "Backups of "+app, rows, "ID", "TYPE", "STARTED", "FINISHED", "SIZE", "STORED", "WAL"); err != nil {
		return err
	}
	if l.Earliest.IsZero() {
		d.printf("\nNo backup yet: nothing is restorable. Take one with `pgtui postgres backup create -a %s`.\n", app)
		return nil
	}
	d.printf("\nRestorable from %s to %s\n", l.Earliest.UTC().Format(timeLayout), l.Latest.UTC().Format(timeLayout))
	if l.ArchiveError != "" {
		d.printf("WAL archiving is failing: %s\n", l.ArchiveError)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func newBackupConfig(d *deps) *cobra.Command {
	var (
		app, schedule string
		retention     int
		asJSON        bool
		s3            backend.S3Config
	)
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show or change the schedule, retention and repository (a directory, or an S3 bucket)",
		Long: `Without flags, shows the settings. --schedule full=7d,diff=1d sets how often the
platform takes full and differential backups; --retention-full N keeps N full
backups (and the WAL they need). --s3-endpoint, --s3-bucket, --s3-key and
--s3-secret move the repository into an S3-compatible bucket over HTTPS (the
key and secret are stored 0600 with the cluster's secrets, never shown).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireApp(app); err != nil {
				return err
			}
			var u backend.BackupConfigUpdate
			f := cmd.Flags()
			changed := false
			if f.Changed("schedule") {
				full, diff, err := backend.ParseSchedule(schedule)
				if err != nil {
					return err
				}
				u.FullEvery, u.DiffEvery, changed = full, diff, true
			}
			if f.Changed("retention-full") {
				u.RetentionFull, changed = &retention, true
			}
			if f.Changed("s3-endpoint") || f.Changed("s3-bucket") || f.Changed("s3-key") || f.Changed("s3-secret") {
				u.S3, changed = &s3, true
			}
			if err := u.Validate(); err != nil {
				return err
			}
			return runBackupConfig(cmd.Context(), d, app, asJSON, changed, u)
		},
	}
	addAppFlag(cmd, &app, "the cluster")
	addJSONFlag(cmd, &asJSON)
	f := cmd.Flags()
	f.StringVar(&schedule, "schedule", "full=7d,diff=1d", "how often to take full and differential backups")
	f.IntVar(&retention, "retention-full", 2, "full backups to keep")
	f.StringVar(&s3.Endpoint, "s3-endpoint", "", "S3-compatible endpoint, host[:port] (HTTPS)")
	f.StringVar(&s3.Bucket, "s3-bucket", "", "bucket")
	f.StringVar(&s3.Region, "s3-region", "us-east-1", "region")
	f.StringVar(&s3.Key, "s3-key", "", "access key (stored 0600, never shown)")
	f.StringVar(&s3.Secret, "s3-secret", "", "secret key (stored 0600, never shown)")
	f.StringVar(&s3.CAFile, "s3-ca-file", "", "CA certificate that signs the endpoint's (a private server)")
	return cmd
}

func runBackupConfig(ctx context.Context, d *deps, app string, asJSON, changed bool, u backend.BackupConfigUpdate) error {
	b, err := d.backend()
	if err != nil {
		return err
	}
	var s *backend.BackupSettings
	if changed {
		s, err = b.UpdateBackupConfig(ctx, app, u)
	} else {
		s, err = b.BackupConfig(ctx, app)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return render.JSON(d.Out, s)
	}
	rows := [][2]string{{"Repository", s.Repository}, {"Encryption", s.Encryption},
		{"Schedule", fmt.Sprintf("full every %s, differential every %s", backend.FormatDays(s.FullEvery), backend.FormatDays(s.DiffEvery))},
		{"Retention", fmt.Sprintf("%d full backups", s.RetentionFull)}}
	if s.RestoredFrom != "" {
		rows = append(rows, [2]string{"Restored from", s.RestoredFrom})
	}
	return render.VerticalTable(d.Out, "Backups of "+app, rows)
}

// newPostgresRestore is `pgtui postgres restore -a SRC --to NEW ...`.
func newPostgresRestore(d *deps) *cobra.Command {
	var (
		app, to, at, id string
		latest, detach  bool
	)
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Create a new cluster from a cluster's backups, at a moment (--time), a backup (--backup) or the latest",
		Long: `Creates the new cluster --to from the source's repository and streams its
deployment like create. The source is never touched. --time takes
"2026-12-02 10:00:00+00" or RFC 3339 and must lie in the restorable window
that ` + "`pgtui postgres backup list`" + ` shows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireApp(app); err != nil {
				return err
			}
			if to == "" {
				return errors.New("--to is required: name the new cluster")
			}
			req := backend.RestoreRequest{Source: app, Target: to, BackupID: id, Latest: latest}
			if at != "" {
				t, err := parseRestoreTime(at)
				if err != nil {
					return err
				}
				req.Time = t
			}
			return runRestore(cmd.Context(), d, req, detach)
		},
	}
	addAppFlag(cmd, &app, "the source cluster")
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "name of the new cluster")
	f.StringVar(&at, "time", "", `recover to this moment, e.g. "2026-12-02 10:00:00+00"`)
	f.StringVar(&id, "backup", "", "recover to the end of this backup (an id from backup list)")
	f.BoolVar(&latest, "latest", false, "recover every archived commit")
	f.BoolVar(&detach, "detach", false, "return once the machines are placed")
	return cmd
}

// parseRestoreTime reads "2006-01-02 15:04:05+00", with optional
// fractions and a zone like +00, +00:00 or Z, or RFC 3339.
func parseRestoreTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf(`--time %q: use "2026-12-02 10:00:00+00" (with a zone) or RFC 3339`, s)
}

func runRestore(ctx context.Context, d *deps, req backend.RestoreRequest, detach bool) error {
	if err := req.Validate(); err != nil {
		return err
	}
	b, err := d.backend()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := b.Restore(ctx, req)
	if err != nil {
		return fmt.Errorf("restore %s into %s: %w", req.Source, req.Target, err)
	}
	d.printf("Restoring %s into the new cluster %s\n\n", req.Source, req.Target)
	m := &monitor{d: d, name: req.Target, org: "personal", detach: detach}
	for ev := range events {
		if done, err := m.handle(ev); err != nil || done {
			return err
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped watching %s: the restore continues; see `pgtui status -a %s`", req.Target, req.Target)
	}
	return errors.New("the deployment stream of " + req.Target + " ended before it was deployed: see `pgtui status -a " + req.Target + "`")
}
