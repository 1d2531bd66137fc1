package checks

import (
	"testing"
	"time"
)

func TestBackupLine(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	start := now.Add(-10 * time.Hour)
	for _, c := range []struct {
		f    BackupFacts
		ok   bool
		want string
	}{
		{BackupFacts{Started: start, Grace: 30 * time.Second}, true, "backup: no backup yet, no WAL archived yet"},
		{BackupFacts{Started: start, LastBackup: now.Add(-3 * time.Hour), LastArchived: now.Add(-2 * time.Second), Grace: 30 * time.Second},
			true, "backup: last backup 3h ago, WAL archived 2s ago"},
		// A failure right after start (before the stanza existed) is retried.
		{BackupFacts{Started: start, LastFailed: start.Add(2 * time.Second), Grace: 30 * time.Second}, true, "backup: no backup yet, no WAL archived yet"},
		{BackupFacts{Started: start, LastBackup: now.Add(-time.Hour), LastArchived: now.Add(-5 * time.Minute), LastFailed: now, FailedWAL: "000000010000000000000009", Grace: 30 * time.Second},
			false, "backup: WAL archiving failing for 5m (segment 000000010000000000000009): check the repository, last backup 1h ago"},
		{BackupFacts{Started: start, LastBackup: now.Add(-72 * time.Hour), LastArchived: now, MaxAge: 48 * time.Hour, Grace: time.Minute},
			false, "backup: last backup 3d ago, older than the schedule allows (2d), WAL archived just now"},
	} {
		r := BackupLine(c.f, now)
		if r.line.OK != c.ok || r.line.Text != c.want {
			t.Errorf("%+v:\n got %v %q\nwant %v %q", c.f, r.line.OK, r.line.Text, c.ok, c.want)
		}
	}
}
