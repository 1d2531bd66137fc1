package router

import (
	"context"

	"github.com/pgtui/pgtui/backend"
)

func (r *Router) CreateBackup(ctx context.Context, cluster, typ string) (<-chan backend.BackupProgress, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.CreateBackup(ctx, cluster, typ)
}

func (r *Router) ListBackups(ctx context.Context, cluster string) (*backend.BackupList, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.ListBackups(ctx, cluster)
}

func (r *Router) BackupConfig(ctx context.Context, cluster string) (*backend.BackupSettings, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.BackupConfig(ctx, cluster)
}

func (r *Router) UpdateBackupConfig(ctx context.Context, cluster string, u backend.BackupConfigUpdate) (*backend.BackupSettings, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.UpdateBackupConfig(ctx, cluster, u)
}

// Restore goes to the source's platform; the new cluster is created there.
func (r *Router) Restore(ctx context.Context, req backend.RestoreRequest) (<-chan backend.CreateEvent, error) {
	b, err := r.pick(req.Source)
	if err != nil {
		return nil, err
	}
	return b.Restore(ctx, req)
}
