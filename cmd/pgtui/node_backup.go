package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/backrest"
	"github.com/spf13/cobra"
)

// Backup secrets: from --secrets-file or the environment, never flags.
const (
	envBackupCipher  = "PGTUI_BACKUP_CIPHER_PASS"
	envBackupS3Key   = "PGTUI_BACKUP_S3_KEY"
	envBackupS3Sec   = "PGTUI_BACKUP_S3_SECRET"
	envRestoreCipher = "PGTUI_RESTORE_CIPHER_PASS"
	envRestoreS3Key  = "PGTUI_RESTORE_S3_KEY"
	envRestoreS3Sec  = "PGTUI_RESTORE_S3_SECRET"
)

// s3Flags locate an S3-compatible bucket.
type s3Flags struct{ endpoint, bucket, region, caFile string }

func (s *s3Flags) add(cmd *cobra.Command, prefix, what string) {
	f := cmd.Flags()
	f.StringVar(&s.endpoint, prefix+"-s3-endpoint", "", what+" in an S3-compatible bucket at this host[:port] (HTTPS)")
	f.StringVar(&s.bucket, prefix+"-s3-bucket", "", "bucket of "+what)
	f.StringVar(&s.region, prefix+"-s3-region", "us-east-1", "region of the bucket of "+what)
	f.StringVar(&s.caFile, prefix+"-s3-ca-file", "", "CA certificate the S3 endpoint of "+what+" is signed by")
}

func (s *s3Flags) config(key, secret string) *backrest.S3 {
	if s.endpoint == "" {
		return nil
	}
	return &backrest.S3{Endpoint: s.endpoint, Bucket: s.bucket, Region: s.region, Key: key, Secret: secret, CAFile: s.caFile, PathStyle: true}
}

// nodeBackupFlags: `pgtui node` flags for archiving and for restoring.
type nodeBackupFlags struct {
	repo          string
	retentionFull int
	maxAge, grace time.Duration
	s3            s3Flags

	restoreFrom, restoreRepo, restoreTime, restoreBackup string
	restoreLatest                                        bool
	restoreS3                                            s3Flags
}

func (b *nodeBackupFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&b.repo, "backup-repo", "", "archive WAL and keep backups with pgBackRest in this repository directory (the path in the bucket with --backup-s3-*); cipher passphrase in "+envBackupCipher)
	f.IntVar(&b.retentionFull, "backup-retention-full", 2, "full backups to keep (with the WAL they need)")
	f.DurationVar(&b.maxAge, "backup-max-age", 0, "the pg check turns critical when the newest backup is older (0: never)")
	f.DurationVar(&b.grace, "backup-archive-grace", 30*time.Second, "the pg check turns critical when WAL archiving has failed this long")
	b.s3.add(cmd, "backup", "the backup repository")
	f.StringVar(&b.restoreFrom, "restore-from", "", "bootstrap from this cluster's backups instead of initdb (its cipher passphrase in "+envRestoreCipher+")")
	f.StringVar(&b.restoreRepo, "restore-repo", "", "repository of --restore-from")
	f.StringVar(&b.restoreTime, "restore-time", "", "recover to this moment (RFC 3339)")
	f.StringVar(&b.restoreBackup, "restore-backup", "", "recover to the end of this backup (its label)")
	f.BoolVar(&b.restoreLatest, "restore-latest", false, "recover to the end of the archived WAL")
	b.restoreS3.add(cmd, "restore", "the repository of --restore-from")
}

func (b *nodeBackupFlags) config(secretsFile string) (*nodeimage.BackupConfig, error) {
	if b.repo == "" {
		if b.restoreFrom != "" {
			return nil, errors.New("--restore-from needs --backup-repo for the new cluster's own backups")
		}
		return nil, nil
	}
	get, err := secretGetter(secretsFile)
	if err != nil {
		return nil, err
	}
	if get(envBackupCipher) == "" {
		return nil, fmt.Errorf("--backup-repo needs the repository's cipher passphrase in %s (or the secrets file)", envBackupCipher)
	}
	bc := &nodeimage.BackupConfig{Repo: backrest.Repo{Path: b.repo, CipherPass: get(envBackupCipher), RetentionFull: b.retentionFull,
		S3: b.s3.config(get(envBackupS3Key), get(envBackupS3Sec))}, MaxAge: b.maxAge, ArchiveGrace: b.grace}
	if b.restoreFrom == "" {
		return bc, nil
	}
	if b.restoreRepo == "" || get(envRestoreCipher) == "" {
		return nil, fmt.Errorf("--restore-from needs --restore-repo and the source's cipher passphrase in %s", envRestoreCipher)
	}
	t := backrest.Target{Set: b.restoreBackup, Latest: b.restoreLatest}
	if b.restoreTime != "" {
		if t.Time, err = time.Parse(time.RFC3339Nano, b.restoreTime); err != nil {
			return nil, fmt.Errorf("--restore-time %q: use RFC 3339, e.g. 2026-12-02T10:00:00Z", b.restoreTime)
		}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	bc.Restore = &nodeimage.RestoreConfig{Stanza: b.restoreFrom, Target: t, Repo: backrest.Repo{Path: b.restoreRepo,
		CipherPass: get(envRestoreCipher), S3: b.restoreS3.config(get(envRestoreS3Key), get(envRestoreS3Sec))}}
	return bc, nil
}
