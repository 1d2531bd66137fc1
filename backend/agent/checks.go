package agent

import (
	"context"
	"errors"
	"net"
	"sort"
	"strconv"
	"sync"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/nodeclient"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// Ports every machine serves on its own private address.
const (
	healthPort  = nodeclient.HealthPort  // GET /health, GET /checks, GET /logs
	metricsPort = nodeclient.MetricsPort // GET /metrics
)

// clusterChecks is `checks list`: every machine's checks, by machine id
// and then in the node's order.
func (a *Agent) clusterChecks(ctx context.Context, name string) ([]backend.Check, error) {
	c, running, err := a.snapshot(name)
	if err != nil {
		return nil, err
	}
	byMachine := a.fetchChecks(ctx, c, running)
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

// nodeToken is the cluster's node API token, "" when its secrets are
// unreadable (the nodes then answer 401, which the checks show).
func (a *Agent) nodeToken(cluster string) string {
	pw, err := readSecret(a.cfg.Home, cluster, "PGTUI_ADMIN_PASSWORD")
	if err != nil {
		a.log.Warn("node api token", "cluster", cluster, "err", err)
		return ""
	}
	return nodeapi.Token(cluster, pw)
}

// fetchChecks asks every running machine's node for its checks, all at
// once; a stopped machine or one that does not answer within
// nodeclient.ChecksTimeout has each check critical.
func (a *Agent) fetchChecks(ctx context.Context, c Cluster, running map[string]bool) map[string][]backend.Check {
	token := a.nodeToken(c.Name)
	out := make(map[string][]backend.Check, len(c.Machines))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range c.Machines {
		t := nodeclient.Target{ID: m.ID, Region: m.Region}
		if !running[m.ID] {
			since := m.Created
			if n := len(m.Events); n > 0 {
				since = m.Events[n-1].Time
			}
			out[m.ID] = nodeclient.Unreachable(t, errors.New("machine is not running"), since)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := nodeclient.MachineChecks(ctx, t, net.JoinHostPort(m.IP, strconv.Itoa(healthPort)), token)
			mu.Lock()
			out[m.ID] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
