package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/nodeimage/checks"
)

// Ports every machine serves on its own private address.
const (
	healthPort  = 5500 // GET /health, GET /checks
	metricsPort = 9187 // GET /metrics
	// checksTimeout bounds one machine's answer; its checks are
	// critical ("unreachable") when it does not answer in time.
	checksTimeout = time.Second
)

// checkNames are a node's checks, in the order it serves them.
func checkNames() []string { return []string{"vm", "pg", "role"} }

// clusterChecks is `checks list`: every machine's checks, by machine id
// and then in the node's order.
func (a *Agent) clusterChecks(ctx context.Context, name string) ([]backend.Check, error) {
	c, running, err := a.snapshot(name)
	if err != nil {
		return nil, err
	}
	byMachine := fetchChecks(ctx, c.Machines, running)
	ids := make([]string, 0, len(byMachine))
	for id := range byMachine {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := []backend.Check{}
	for _, id := range ids {
		out = append(out, byMachine[id]...)
	}
	return out, nil
}

// fetchChecks asks every running machine's node for its checks, all at
// once; a stopped machine or one that does not answer within
// checksTimeout has each check critical.
func fetchChecks(ctx context.Context, ms []*Machine, running map[string]bool) map[string][]backend.Check {
	out := make(map[string][]backend.Check, len(ms))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range ms {
		if !running[m.ID] {
			since := m.Created
			if n := len(m.Events); n > 0 {
				since = m.Events[n-1].Time
			}
			out[m.ID] = unreachable(m, errors.New("machine is not running"), since)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := getChecks(ctx, m.IP)
			res := unreachable(m, err, time.Now().UTC())
			if err == nil {
				res = fromNode(m, cs)
			}
			mu.Lock()
			out[m.ID] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// getChecks GETs a node's /checks.
func getChecks(ctx context.Context, ip string) ([]checks.Check, error) {
	ctx, cancel := context.WithTimeout(ctx, checksTimeout)
	defer cancel()
	addr := net.JoinHostPort(ip, strconv.Itoa(healthPort))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/checks", nil)
	if err != nil {
		return nil, fmt.Errorf("checks of %s: %w", addr, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no answer on %s: %s", addr, cause(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("no answer on %s: %s", addr, cause(err))
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, fmt.Errorf("%s answered %s: %s", addr, resp.Status, e.Error)
	}
	var cs []checks.Check
	if err := json.Unmarshal(body, &cs); err != nil {
		return nil, fmt.Errorf("checks of %s: %w", addr, err)
	}
	return cs, nil
}

// cause words a failed request briefly: "connection refused",
// "no answer within 1s".
func cause(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("nothing within %s", checksTimeout)
	case errors.As(err, &errno):
		return errno.Error()
	}
	return err.Error()
}

func fromNode(m *Machine, cs []checks.Check) []backend.Check {
	out := make([]backend.Check, 0, len(cs))
	for _, c := range cs {
		out = append(out, backend.Check{Machine: m.ID, Region: m.Region, Name: c.Name, Status: string(c.Status),
			Output: c.Text(), Connections: c.Connections, Updated: c.Updated})
	}
	return out
}

// unreachable is every check critical with the reason the node gave none.
func unreachable(m *Machine, err error, since time.Time) []backend.Check {
	if err == nil {
		return nil
	}
	out := make([]backend.Check, 0, 3)
	for _, n := range checkNames() {
		out = append(out, backend.Check{Machine: m.ID, Region: m.Region, Name: n, Status: string(checks.Critical),
			Output: []string{"[✗] unreachable: " + err.Error()}, Updated: since})
	}
	return out
}

// countChecks counts a machine's checks. serving: its pg and role checks
// pass, so it does its job in the cluster; the vm check reports the host
// (shared by every local machine) and does not hold up deployments.
func countChecks(cs []backend.Check) (backend.Checks, bool) {
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
	}
	return n, passing["pg"] && passing["role"]
}
