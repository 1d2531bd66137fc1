// Package nodeclient is the platforms' side of a node's HTTP ports: its
// checks and logs on the health port (with the cluster's token) and its
// exporter, turned into the backend's types. The local agent and the
// external platform both use it.
package nodeclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// Default ports of a node, on its own address.
const (
	ProxyPort   = 5432
	PGPort      = 5433
	HealthPort  = 5500 // GET /health, GET /checks, GET /logs
	MetricsPort = 9187 // GET /metrics
	// ChecksTimeout bounds one node's answer; its checks are critical
	// ("unreachable") when it does not answer in time.
	ChecksTimeout = time.Second
)

// Target is a machine as checks and metrics name it.
type Target struct {
	ID, Region string
}

// CheckNames are a node's checks, in the order it serves them.
func CheckNames() []string { return []string{"vm", "pg", "role"} }

// GetChecks GETs a node's /checks on addr (host:port) with the token.
func GetChecks(ctx context.Context, addr, token string) ([]checks.Check, error) {
	ctx, cancel := context.WithTimeout(ctx, ChecksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/checks", nil)
	if err != nil {
		return nil, fmt.Errorf("checks of %s: %w", addr, err)
	}
	nodeapi.SetAuth(req, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no answer on %s: %s", addr, Cause(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("no answer on %s: %s", addr, Cause(err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s: %s", addr, resp.Status, errorOf(body))
	}
	var cs []checks.Check
	if err := json.Unmarshal(body, &cs); err != nil {
		return nil, fmt.Errorf("checks of %s: %w", addr, err)
	}
	return cs, nil
}

// errorOf is the "error" of a JSON error body, else the body's start.
func errorOf(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return string(body)
}

// Cause words a failed request briefly: "connection refused",
// "nothing within 1s".
func Cause(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("nothing within %s", ChecksTimeout)
	case errors.As(err, &errno):
		return errno.Error()
	}
	return err.Error()
}

// FromNode turns a node's checks into the backend's.
func FromNode(m Target, cs []checks.Check) []backend.Check {
	out := make([]backend.Check, 0, len(cs))
	for _, c := range cs {
		out = append(out, backend.Check{Machine: m.ID, Region: m.Region, Name: c.Name, Status: string(c.Status),
			Output: c.Text(), Connections: c.Connections, Updated: c.Updated})
	}
	return out
}

// Unreachable is every check critical with the reason the node gave none.
func Unreachable(m Target, err error, since time.Time) []backend.Check {
	if err == nil {
		return nil
	}
	out := make([]backend.Check, 0, 3)
	for _, n := range CheckNames() {
		out = append(out, backend.Check{Machine: m.ID, Region: m.Region, Name: n, Status: string(checks.Critical),
			Output: []string{"[✗] unreachable: " + err.Error()}, Updated: since})
	}
	return out
}

// MachineChecks asks one node for its checks: the node's own, or each
// one critical with the reason it did not answer.
func MachineChecks(ctx context.Context, m Target, addr, token string) []backend.Check {
	cs, err := GetChecks(ctx, addr, token)
	if err != nil {
		return Unreachable(m, err, time.Now().UTC())
	}
	return FromNode(m, cs)
}

// CountChecks counts a machine's checks. serving: its pg and role checks
// pass, so it does its job in the cluster; the vm check reports the host
// and does not hold up deployments.
func CountChecks(cs []backend.Check) (backend.Checks, bool) {
	var n backend.Checks
	passing := map[string]bool{}
	for _, c := range cs {
		n.Total++
		switch checks.Status(c.Status) {
		case checks.Passing:
			n.Passing++
			passing[c.Name] = true
		case checks.Critical:
			n.Critical++
		}
		if c.Name == "pg" && onlyBackupFails(c.Output) {
			passing[c.Name] = true
		}
	}
	return n, passing["pg"] && passing["role"]
}

// onlyBackupFails: every failing line of the pg check is its backup line.
// Failing backups make the check critical, yet postgres serves.
func onlyBackupFails(out []string) bool {
	failed := false
	for _, l := range out {
		if strings.HasPrefix(l, "[✗]") || strings.HasPrefix(l, "[!]") {
			if !strings.Contains(l, "] backup: ") {
				return false
			}
			failed = true
		}
	}
	return failed
}

// BackupLine is the leader's backup line from its pg check, without its
// mark ("" when there is none).
func BackupLine(cs []backend.Check) (string, bool) {
	for _, c := range cs {
		if c.Name != "pg" {
			continue
		}
		for _, l := range c.Output {
			if i := strings.Index(l, "] backup: "); i >= 0 {
				return l[i+2:], strings.HasPrefix(l, "[✓]")
			}
		}
	}
	return "", false
}

// Connections is what the pg check counted, -1 when it counted nothing
// (postgres not answering; an unreachable machine's checks have no count).
func Connections(cs []backend.Check) int {
	for _, c := range cs {
		if c.Name == "pg" && c.Connections != nil {
			return *c.Connections
		}
	}
	return -1
}
