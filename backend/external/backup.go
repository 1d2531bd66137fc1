package external

import (
	"context"

	"github.com/pgtui/pgtui/backend"
)

// Backups of external clusters are the operator's: pgtui does not reach
// their repository.

func (b *Backend) CreateBackup(ctx context.Context, cluster, typ string) (<-chan backend.BackupProgress, error) {
	return nil, backend.ErrBackupsNotSupported
}

func (b *Backend) ListBackups(ctx context.Context, cluster string) (*backend.BackupList, error) {
	return nil, backend.ErrBackupsNotSupported
}

func (b *Backend) BackupConfig(ctx context.Context, cluster string) (*backend.BackupSettings, error) {
	return nil, backend.ErrBackupsNotSupported
}

func (b *Backend) UpdateBackupConfig(ctx context.Context, cluster string, u backend.BackupConfigUpdate) (*backend.BackupSettings, error) {
	return nil, backend.ErrBackupsNotSupported
}

func (b *Backend) Restore(ctx context.Context, req backend.RestoreRequest) (<-chan backend.CreateEvent, error) {
	return nil, backend.ErrBackupsNotSupported
}
