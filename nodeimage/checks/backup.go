package checks

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// BackupFacts is what the pg check's backup line reports on the leader:
// the newest backup and WAL archiving (pg_stat_archiver).
type BackupFacts struct {
	// LastBackup: when the newest backup finished; zero when none yet.
	LastBackup time.Time
	// InfoErr: the repository could not be read (its reason).
	InfoErr string
	// LastArchived and LastFailed are pg_stat_archiver's times (zero:
	// never); FailedWAL the segment that failed last; Started when
	// postgres started (failing since then when nothing was archived).
	LastArchived, LastFailed time.Time
	FailedWAL                string
	Started                  time.Time
	// MaxAge: a newest backup older than this is critical (0: no limit).
	MaxAge time.Duration
	// Grace: archiving that has failed for this long is critical.
	Grace time.Duration
}

// BackupSource returns the leader's backup facts; nil on other roles.
type BackupSource func(ctx context.Context) *BackupFacts

// ArchiveFailing reports whether archiving has been failing for at least
// the grace period, and since when.
func (f BackupFacts) ArchiveFailing() (bool, time.Time) {
	if f.LastFailed.IsZero() || !f.LastFailed.After(f.LastArchived) {
		return false, time.Time{}
	}
	since := f.LastArchived
	if since.IsZero() || since.Before(f.Started) {
		since = f.Started
	}
	return f.LastFailed.Sub(since) >= f.Grace, since
}

// BackupLine: "backup: last backup 3h ago, WAL archived 2s ago";
// critical while archiving fails (repository unreachable or full) or
// when the newest backup is older than the schedule allows. The cluster
// keeps serving writes either way.
func BackupLine(f BackupFacts, now time.Time) result {
	last := "no backup yet"
	if !f.LastBackup.IsZero() {
		last = "last backup " + ago(now, f.LastBackup)
	}
	wal := "no WAL archived yet"
	if !f.LastArchived.IsZero() {
		wal = "WAL archived " + ago(now, f.LastArchived)
	}
	if failing, since := f.ArchiveFailing(); failing {
		return fail(Critical, "backup: WAL archiving failing for %s (segment %s): check the repository, %s",
			strings.TrimSuffix(ago(now, since), " ago"), f.FailedWAL, last)
	}
	if f.InfoErr != "" {
		return fail(Critical, "backup: repository unreadable (%s), %s", f.InfoErr, wal)
	}
	if f.MaxAge > 0 && !f.LastBackup.IsZero() && now.Sub(f.LastBackup) > f.MaxAge {
		return fail(Critical, "backup: %s, older than the schedule allows (%s), %s", last, strings.TrimSuffix(ago(now, now.Add(-f.MaxAge)), " ago"), wal)
	}
	return pass("backup: %s, %s", last, wal)
}

// ago: "3h ago", "2s ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
