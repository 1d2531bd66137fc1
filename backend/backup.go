package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Backups is the part of Backend that keeps backups and restores them
// (pgBackRest on the nodes). Platforms that cannot (external clusters)
// return ErrBackupsNotSupported.
type Backups interface {
	// CreateBackup takes a backup now (type full, diff or incr) and
	// streams its progress; the last event has Done.
	CreateBackup(ctx context.Context, cluster, typ string) (<-chan BackupProgress, error)
	// ListBackups lists the repository's backups and the restorable window.
	ListBackups(ctx context.Context, cluster string) (*BackupList, error)
	BackupConfig(ctx context.Context, cluster string) (*BackupSettings, error)
	UpdateBackupConfig(ctx context.Context, cluster string, u BackupConfigUpdate) (*BackupSettings, error)
	// Restore creates the new cluster req.Target from req.Source's
	// repository (the source is never touched) and streams its deployment
	// like CreateCluster.
	Restore(ctx context.Context, req RestoreRequest) (<-chan CreateEvent, error)
}

// ErrBackupsNotSupported: the platform does not run backups.
var ErrBackupsNotSupported = errors.New("backups are not supported for external clusters: run pgBackRest beside your nodes")

// BackupProgress is one step of a running backup.
type BackupProgress struct {
	Percent float64 `json:"percent"`
	Done    bool    `json:"done,omitempty"`
	ID      string  `json:"id,omitempty"` // the new backup's id once Done
	Error   string  `json:"error,omitempty"`
}

// BackupList is `backup list`: the backups, oldest first, and the window
// a restore can reach.
type BackupList struct {
	Cluster string       `json:"cluster"`
	Backups []BackupItem `json:"backups"`
	// Earliest and Latest bound the restorable moments (zero: none yet).
	Earliest time.Time `json:"earliest,omitzero"`
	Latest   time.Time `json:"latest,omitzero"`
	WALMin   string    `json:"wal_min,omitempty"`
	WALMax   string    `json:"wal_max,omitempty"`
	// LastArchived is when the leader last archived a WAL segment;
	// ArchiveError is set while archiving fails.
	LastArchived time.Time `json:"last_archived,omitzero"`
	ArchiveError string    `json:"archive_error,omitempty"`
}

// BackupItem is one backup.
type BackupItem struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"` // full, diff, incr
	Start    time.Time `json:"start"`
	Stop     time.Time `json:"stop"`
	Size     int64     `json:"size"`      // database size
	RepoSize int64     `json:"repo_size"` // stored (compressed, changed files only)
	WALStart string    `json:"wal_start"`
	WALStop  string    `json:"wal_stop"`
}

// BackupSettings is `backup config`.
type BackupSettings struct {
	Repository    string        `json:"repository"` // a directory, or s3://bucket/path
	Encryption    string        `json:"encryption"` // aes-256-cbc
	FullEvery     time.Duration `json:"full_every"`
	DiffEvery     time.Duration `json:"diff_every"`
	RetentionFull int           `json:"retention_full"`
	S3Endpoint    string        `json:"s3_endpoint,omitempty"`
	S3Bucket      string        `json:"s3_bucket,omitempty"`
	// RestoredFrom names the cluster this one was restored from.
	RestoredFrom string `json:"restored_from,omitempty"`
}

// Schedule renders the schedule as `--schedule` takes it.
func (s BackupSettings) Schedule() string {
	return "full=" + FormatDays(s.FullEvery) + ",diff=" + FormatDays(s.DiffEvery)
}

// BackupConfigUpdate changes the given settings; nil leaves one alone.
type BackupConfigUpdate struct {
	FullEvery     *time.Duration `json:"full_every,omitempty"`
	DiffEvery     *time.Duration `json:"diff_every,omitempty"`
	RetentionFull *int           `json:"retention_full,omitempty"`
	S3            *S3Config      `json:"s3,omitempty"`
}

// S3Config moves the repository into an S3-compatible bucket (HTTPS).
type S3Config struct {
	Endpoint string `json:"endpoint"` // host[:port]
	Bucket   string `json:"bucket"`
	Region   string `json:"region,omitempty"`
	Key      string `json:"key"`
	Secret   string `json:"secret"`
	CAFile   string `json:"ca_file,omitempty"`
}

// Validate checks the update's values.
func (u BackupConfigUpdate) Validate() error {
	if u.FullEvery != nil && *u.FullEvery < time.Hour {
		return InputError{errors.New("full backups at most every hour: use e.g. full=7d")}
	}
	if u.DiffEvery != nil && *u.DiffEvery < time.Hour {
		return InputError{errors.New("differential backups at most every hour: use e.g. diff=1d")}
	}
	if u.RetentionFull != nil && (*u.RetentionFull < 1 || *u.RetentionFull > 100) {
		return InputError{errors.New("--retention-full must be between 1 and 100")}
	}
	if s := u.S3; s != nil {
		if s.Endpoint == "" || s.Bucket == "" || s.Key == "" || s.Secret == "" {
			return InputError{errors.New("S3 needs --s3-endpoint, --s3-bucket, --s3-key and --s3-secret")}
		}
		for _, v := range []string{s.Endpoint, s.Bucket, s.Region, s.Key, s.Secret, s.CAFile} {
			if strings.ContainsAny(v, "\x00\r\n \t'\"") {
				return InputError{errors.New("S3 settings must not hold spaces, quotes or line breaks")}
			}
		}
	}
	return nil
}

// ParseSchedule reads "full=7d,diff=1d" (either part may be left out).
func ParseSchedule(s string) (full, diff *time.Duration, err error) {
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, nil, InputError{fmt.Errorf("schedule %q: use full=7d,diff=1d", s)}
		}
		d, err := ParseDays(v)
		if err != nil {
			return nil, nil, InputError{fmt.Errorf("schedule %q: %v", s, err)}
		}
		switch k {
		case "full":
			full = &d
		case "diff":
			diff = &d
		default:
			return nil, nil, InputError{fmt.Errorf("schedule %q: %q is not full or diff", s, k)}
		}
	}
	return full, diff, nil
}

// ParseDays reads a duration that may end in d (days), e.g. 7d or 12h.
func ParseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days <= 0 || fmt.Sprint(days) != n {
			return 0, fmt.Errorf("%q is not a number of days", v)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration (7d, 12h)", v)
	}
	return d, nil
}

// FormatDays writes whole days as Nd, else Go's duration form.
func FormatDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// RestoreRequest is `postgres restore`. Exactly one of Time, BackupID and
// Latest.
type RestoreRequest struct {
	Source   string    `json:"source"`
	Target   string    `json:"target"`
	Time     time.Time `json:"time,omitzero"`
	BackupID string    `json:"backup_id,omitempty"`
	Latest   bool      `json:"latest,omitempty"`
	// Region, VMSize, VolumeGB and InitialClusterSize of the new cluster;
	// zero values take the source's.
	InitialClusterSize int `json:"initial_cluster_size,omitempty"`
}

// Validate checks the names and that exactly one target is given.
func (r RestoreRequest) Validate() error {
	if err := ValidateName(r.Source); err != nil {
		return InputError{err}
	}
	if err := ValidateName(r.Target); err != nil {
		return InputError{err}
	}
	if r.Source == r.Target {
		return InputError{errors.New("--to must name a new cluster, not the source: restore never overwrites a cluster")}
	}
	n := 0
	for _, set := range []bool{!r.Time.IsZero(), r.BackupID != "", r.Latest} {
		if set {
			n++
		}
	}
	if n != 1 {
		return InputError{errors.New("give exactly one of --time, --backup or --latest")}
	}
	if r.InitialClusterSize < 0 || r.InitialClusterSize > 9 {
		return InputError{errors.New("--initial-cluster-size must be between 1 and 9")}
	}
	return nil
}

// BackupItemFull is the type of a full backup.
const BackupItemFull = "full"

// CheckRestoreTarget refuses a restore target the list cannot reach: a
// time outside the restorable window or an unknown backup id.
func CheckRestoreTarget(req RestoreRequest, l *BackupList) error {
	if len(l.Backups) == 0 {
		return InputError{fmt.Errorf("cluster %s has no backup yet: run `pgtui postgres backup create -a %s` first", req.Source, req.Source)}
	}
	const layout = "2006-01-02 15:04:05Z07:00"
	switch {
	case req.BackupID != "":
		for _, b := range l.Backups {
			if b.ID == req.BackupID {
				return nil
			}
		}
		return InputError{fmt.Errorf("backup %q not found in %s: see `pgtui postgres backup list -a %s`", req.BackupID, req.Source, req.Source)}
	case !req.Time.IsZero():
		if req.Time.Before(l.Earliest) || (!l.Latest.IsZero() && req.Time.After(l.Latest)) {
			return InputError{fmt.Errorf("time %s is outside the restorable window %s .. %s of %s", req.Time.UTC().Format(layout),
				l.Earliest.UTC().Format(layout), l.Latest.UTC().Format(layout), req.Source)}
		}
	}
	return nil
}
