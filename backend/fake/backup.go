package fake

import (
	"context"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// fakeBackups is a cluster's made-up repository.
type fakeBackups struct {
	list []backend.BackupItem
	cfg  backend.BackupSettings
}

// backupsOf returns the cluster's repository, made on first use with one
// full backup (the one taken at creation); b.mu is held.
func (b *Backend) backupsOf(c *cluster) *fakeBackups {
	if b.backups == nil {
		b.backups = map[string]*fakeBackups{}
	}
	fb := b.backups[c.name]
	if fb == nil {
		fb = &fakeBackups{cfg: backend.BackupSettings{Repository: "/var/lib/pgtui/backups/" + c.name, Encryption: "aes-256-cbc",
			FullEvery: 7 * 24 * time.Hour, DiffEvery: 24 * time.Hour, RetentionFull: 2}}
		fb.list = append(fb.list, fakeItem(c, 0, backend.BackupItemFull))
		b.backups[c.name] = fb
	}
	return fb
}

func fakeItem(c *cluster, n int, typ string) backend.BackupItem {
	start := c.created.Add(time.Duration(n+1) * time.Hour)
	suffix := map[string]string{"full": "F", "diff": "D", "incr": "I"}[typ]
	return backend.BackupItem{ID: start.Format("20060102-150405") + suffix, Type: typ, Start: start, Stop: start.Add(4 * time.Second),
		Size: 23 << 20, RepoSize: 3 << 20, WALStart: fmt.Sprintf("0000000100000000%08X", 2*n+2), WALStop: fmt.Sprintf("0000000100000000%08X", 2*n+2)}
}

// CreateBackup appends a backup after four progress steps.
func (b *Backend) CreateBackup(_ context.Context, name, typ string) (<-chan backend.BackupProgress, error) {
	b.record("CreateBackup")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	if typ != backend.BackupItemFull && typ != "diff" && typ != "incr" {
		return nil, fmt.Errorf("backup type %q: use full, diff or incr", typ)
	}
	fb := b.backupsOf(c)
	item := fakeItem(c, len(fb.list), typ)
	fb.list = append(fb.list, item)
	ch := make(chan backend.BackupProgress, 5)
	for _, p := range []float64{25, 50, 75, 100} {
		ch <- backend.BackupProgress{Percent: p}
	}
	ch <- backend.BackupProgress{Percent: 100, Done: true, ID: item.ID}
	close(ch)
	return ch, nil
}

// ListBackups lists the made-up backups; the window ends at the newest
// backup's stop plus an hour of archived WAL.
func (b *Backend) ListBackups(_ context.Context, name string) (*backend.BackupList, error) {
	b.record("ListBackups")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	fb := b.backupsOf(c)
	last := fb.list[len(fb.list)-1]
	return &backend.BackupList{Cluster: name, Backups: append([]backend.BackupItem(nil), fb.list...),
		Earliest: fb.list[0].Stop.Add(time.Second), Latest: last.Stop.Add(time.Hour), WALMin: fb.list[0].WALStart,
		WALMax: fmt.Sprintf("0000000100000000%08X", 2*len(fb.list)+3), LastArchived: last.Stop.Add(time.Hour)}, nil
}

func (b *Backend) BackupConfig(_ context.Context, name string) (*backend.BackupSettings, error) {
	b.record("BackupConfig")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	cfg := b.backupsOf(c).cfg
	return &cfg, nil
}

func (b *Backend) UpdateBackupConfig(_ context.Context, name string, u backend.BackupConfigUpdate) (*backend.BackupSettings, error) {
	b.record("UpdateBackupConfig")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	fb := b.backupsOf(c)
	if u.FullEvery != nil {
		fb.cfg.FullEvery = *u.FullEvery
	}
	if u.DiffEvery != nil {
		fb.cfg.DiffEvery = *u.DiffEvery
	}
	if u.RetentionFull != nil {
		fb.cfg.RetentionFull = *u.RetentionFull
	}
	if u.S3 != nil {
		fb.cfg.S3Endpoint, fb.cfg.S3Bucket = u.S3.Endpoint, u.S3.Bucket
		fb.cfg.Repository = "s3://" + u.S3.Bucket + "/" + name
	}
	cfg := fb.cfg
	return &cfg, nil
}

// Restore checks the target like the agent does, then deploys the new
// cluster like CreateCluster.
func (b *Backend) Restore(ctx context.Context, req backend.RestoreRequest) (<-chan backend.CreateEvent, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	src, err := b.cluster(req.Source)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	fb := b.backupsOf(src)
	list := append([]backend.BackupItem(nil), fb.list...)
	b.mu.Unlock()
	l := &backend.BackupList{Backups: list, Earliest: list[0].Stop.Add(time.Second), Latest: list[len(list)-1].Stop.Add(time.Hour)}
	if err := backend.CheckRestoreTarget(req, l); err != nil {
		return nil, err
	}
	n := req.InitialClusterSize
	if n == 0 {
		n = len(src.machines)
	}
	return b.CreateCluster(ctx, backend.CreateRequest{Name: req.Target, Org: src.org, Region: src.region, VMSize: src.vmSize,
		VolumeGB: src.volumeGB, InitialClusterSize: n})
}
