package local

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/pgtui/pgtui/backend"
)

func (c *Client) CreateBackup(ctx context.Context, name, typ string) (<-chan backend.BackupProgress, error) {
	resp, err := c.send(ctx, "POST", "/v1/clusters/"+esc(name)+"/backups", map[string]string{"type": typ})
	if err != nil {
		return nil, err
	}
	out := make(chan backend.BackupProgress)
	go func() {
		defer close(out)
		streamLines(ctx, resp, func(b []byte) bool {
			var ev backend.BackupProgress
			if err := json.Unmarshal(b, &ev); err != nil {
				ev = backend.BackupProgress{Done: true, Error: fmt.Sprintf("bad event from agent: %v", err)}
			}
			select {
			case out <- ev:
				return !ev.Done
			case <-ctx.Done():
				return false
			}
		})
	}()
	return out, nil
}

// streamLines hands each line of a streamed response to f until f
// returns false or the stream ends.
func streamLines(ctx context.Context, resp *http.Response, f func([]byte) bool) {
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && ctx.Err() == nil {
		if !f(sc.Bytes()) {
			return
		}
	}
}

func (c *Client) ListBackups(ctx context.Context, name string) (*backend.BackupList, error) {
	var out backend.BackupList
	return &out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/backups", nil, &out)
}

func (c *Client) BackupConfig(ctx context.Context, name string) (*backend.BackupSettings, error) {
	var out backend.BackupSettings
	return &out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/backups/config", nil, &out)
}

func (c *Client) UpdateBackupConfig(ctx context.Context, name string, u backend.BackupConfigUpdate) (*backend.BackupSettings, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var out backend.BackupSettings
	return &out, c.do(ctx, "PATCH", "/v1/clusters/"+esc(name)+"/backups/config", u, &out)
}

func (c *Client) Restore(ctx context.Context, req backend.RestoreRequest) (<-chan backend.CreateEvent, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, "POST", "/v1/clusters/"+esc(req.Source)+"/restore", req)
	if err != nil {
		return nil, err
	}
	out := make(chan backend.CreateEvent)
	go func() {
		defer close(out)
		streamLines(ctx, resp, func(b []byte) bool {
			var ev backend.CreateEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				ev = backend.CreateEvent{Step: "failed", Error: fmt.Sprintf("bad event from agent: %v", err), Done: true}
			}
			select {
			case out <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	return out, nil
}
