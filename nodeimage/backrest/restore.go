package backrest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Target is the moment a restore recovers to. Exactly one of Time, Set or
// Latest.
type Target struct {
	Time   time.Time // the last commit at or before this moment
	Set    string    // the end of this backup (its label)
	Latest bool      // the end of the archived WAL
}

// Validate reports a target that names none or several moments.
func (t Target) Validate() error {
	n := 0
	if !t.Time.IsZero() {
		n++
	}
	if t.Set != "" {
		n++
	}
	if t.Latest {
		n++
	}
	if n != 1 {
		return errors.New("restore needs exactly one of --time, --backup or --latest")
	}
	return nil
}

func (t Target) String() string {
	switch {
	case !t.Time.IsZero():
		return "time " + t.Time.UTC().Format("2006-01-02 15:04:05.000000Z07:00")
	case t.Set != "":
		return "backup " + t.Set
	}
	return "latest"
}

// TimeLayout is how recovery_target_time is written.
const TimeLayout = "2006-01-02 15:04:05.999999-07:00"

// Restore writes the stanza's data, recovered to target, into the empty
// (or missing) data directory cfg.PGPath. The restored cluster recovers
// when started (recovery.signal) with archiving off, reads WAL from this
// repository and promotes at the target; after that CleanRecovery must
// remove the restore's settings.
func (b *Backrest) Restore(ctx context.Context, target Target) error {
	if err := target.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if entries, err := os.ReadDir(b.cfg.PGPath); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore into %s: the directory is not empty", b.cfg.PGPath)
	}
	if err := b.mkdirOwned(b.cfg.PGPath); err != nil {
		return err
	}
	args := []string{"--pg1-path=" + b.cfg.PGPath, "--archive-mode=off",
		"--recovery-option=restore_command=" + b.RestoreCommand()}
	// Without a target, recovery replays the whole archive and promotes.
	switch {
	case !target.Time.IsZero():
		args = append(args, "--type=time", "--target="+target.Time.Format(TimeLayout), "--target-action=promote")
	case target.Set != "":
		args = append(args, "--set="+target.Set, "--type=immediate", "--target-action=promote")
	default:
		args = append(args, "--type=default")
	}
	start := time.Now()
	if _, err := b.run(ctx, nil, append(args, "restore")...); err != nil {
		return err
	}
	b.log.Info("restore done", "target", target.String(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// recoveryKeys are the settings a restore writes into postgresql.auto.conf.
var recoveryKeys = []string{"restore_command", "recovery_target", "archive_mode"}

// CleanRecovery removes the restore's settings from the data directory's
// postgresql.auto.conf once recovery has ended: left in place, a later
// standby start would read the source's archive and stop at its target.
func CleanRecovery(pgdata string) error {
	path := filepath.Join(pgdata, "postgresql.auto.conf")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clean recovery settings: %w", err)
	}
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		drop := false
		for _, k := range recoveryKeys {
			if strings.HasPrefix(t, k) {
				drop = true
			}
		}
		if !drop {
			keep = append(keep, l)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("clean recovery settings: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(keep, "\n")), 0o600); err != nil {
		return fmt.Errorf("clean recovery settings: %w", err)
	}
	if st, ok := statOwner(fi); ok {
		_ = os.Chown(tmp, st.uid, st.gid)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("clean recovery settings: %w", err)
	}
	return nil
}
