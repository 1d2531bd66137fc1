package nodeapi

import (
	"time"

	"github.com/pgtui/pgtui/nodeimage/backrest"
)

// Backup endpoints on the health port (token required):
//
//	GET  /backup/info    BackupInfo
//	POST /backup?type=T  newline-delimited BackupEvent, the last with Done (leader only)
//	POST /backup/check   force a WAL switch and wait until it is archived (leader only)
//	POST /backup/expire  apply the retention (leader only)
//
// Errors are {"error": "..."} with a 4xx/5xx status.

// BackupInfo is the repository's view plus the node's archiver.
type BackupInfo struct {
	Stanza   string         `json:"stanza"`
	Info     *backrest.Info `json:"info"`
	Archiver *Archiver      `json:"archiver,omitempty"`
}

// Archiver is the node's pg_stat_archiver.
type Archiver struct {
	ArchivedCount   int64     `json:"archived_count"`
	LastArchivedWAL string    `json:"last_archived_wal"`
	LastArchived    time.Time `json:"last_archived,omitzero"`
	FailedCount     int64     `json:"failed_count"`
	LastFailedWAL   string    `json:"last_failed_wal"`
	LastFailed      time.Time `json:"last_failed,omitzero"`
	InRecovery      bool      `json:"in_recovery"`
}

// BackupEvent is one line of POST /backup's stream.
type BackupEvent struct {
	Percent float64 `json:"percent"`
	Done    bool    `json:"done,omitempty"`
	Label   string  `json:"label,omitempty"`
	Error   string  `json:"error,omitempty"`
}
