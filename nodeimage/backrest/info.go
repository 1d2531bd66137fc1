package backrest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Info is what the repository holds for the stanza.
type Info struct {
	Stanza  string   `json:"stanza"`
	Status  string   `json:"status"` // pgBackRest's status message: "ok", "no valid backups", ...
	Code    int      `json:"code"`   // 0 ok, 1 missing stanza, 2 no valid backups, ...
	Backups []Backup `json:"backups"`
	// WALMin and WALMax are the oldest and newest archived WAL segments.
	WALMin string `json:"wal_min,omitempty"`
	WALMax string `json:"wal_max,omitempty"`
}

// Backup is one backup set, oldest first in Info.Backups.
type Backup struct {
	Label string    `json:"label"`
	Type  string    `json:"type"` // full, diff, incr
	Start time.Time `json:"start"`
	Stop  time.Time `json:"stop"`
	// Size is the database's size; RepoSize what the backup takes in the
	// repository (compressed, only the changed files for diff/incr).
	Size     int64  `json:"size"`
	RepoSize int64  `json:"repo_size"`
	WALStart string `json:"wal_start"`
	WALStop  string `json:"wal_stop"`
	Prior    string `json:"prior,omitempty"` // the backup a diff/incr builds on
}

// rawInfo is `pgbackrest info --output=json` (2.45), the parts we read.
type rawInfo []struct {
	Name    string `json:"name"`
	Archive []struct {
		Min string `json:"min"`
		Max string `json:"max"`
	} `json:"archive"`
	Backup []struct {
		Label   string `json:"label"`
		Type    string `json:"type"`
		Prior   string `json:"prior"`
		Archive struct {
			Start string `json:"start"`
			Stop  string `json:"stop"`
		} `json:"archive"`
		Info struct {
			Size       int64 `json:"size"`
			Repository struct {
				Delta int64 `json:"delta"`
			} `json:"repository"`
		} `json:"info"`
		Timestamp struct {
			Start int64 `json:"start"`
			Stop  int64 `json:"stop"`
		} `json:"timestamp"`
		Error bool `json:"error"`
	} `json:"backup"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

// ParseInfo reads `pgbackrest info --output=json` for one stanza.
func ParseInfo(data []byte, stanza string) (*Info, error) {
	var raw rawInfo
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("pgbackrest info: %w", err)
	}
	for _, s := range raw {
		if s.Name != stanza {
			continue
		}
		in := &Info{Stanza: s.Name, Status: s.Status.Message, Code: s.Status.Code, Backups: []Backup{}}
		for _, a := range s.Archive {
			if in.WALMin == "" || (a.Min != "" && a.Min < in.WALMin) {
				in.WALMin = a.Min
			}
			if a.Max > in.WALMax {
				in.WALMax = a.Max
			}
		}
		for _, b := range s.Backup {
			if b.Error {
				continue
			}
			in.Backups = append(in.Backups, Backup{
				Label: b.Label, Type: b.Type, Prior: b.Prior,
				Start: time.Unix(b.Timestamp.Start, 0).UTC(), Stop: time.Unix(b.Timestamp.Stop, 0).UTC(),
				Size: b.Info.Size, RepoSize: b.Info.Repository.Delta,
				WALStart: b.Archive.Start, WALStop: b.Archive.Stop,
			})
		}
		return in, nil
	}
	return nil, fmt.Errorf("pgbackrest info: stanza %s not in the output", stanza)
}

// Info lists the stanza's backups and archived WAL range.
func (b *Backrest) Info(ctx context.Context) (*Info, error) {
	out, err := b.run(ctx, nil, "--output=json", "info")
	if err != nil {
		return nil, err
	}
	return ParseInfo(out, b.cfg.Stanza)
}

// Find returns the backup labelled label.
func (in *Info) Find(label string) (Backup, bool) {
	for _, b := range in.Backups {
		if b.Label == label {
			return b, true
		}
	}
	return Backup{}, false
}

// Earliest is the first restorable moment: the second after the oldest
// backup's end (pgBackRest keeps stop times in whole seconds and picks a
// backup whose stop is before the target).
func (in *Info) Earliest() time.Time {
	if len(in.Backups) == 0 {
		return time.Time{}
	}
	return in.Backups[0].Stop.Add(time.Second)
}

// Newest is the most recent backup, if any.
func (in *Info) Newest() (Backup, bool) {
	if len(in.Backups) == 0 {
		return Backup{}, false
	}
	return in.Backups[len(in.Backups)-1], true
}
