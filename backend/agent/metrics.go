package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/nodeclient"
)

func (a *Agent) metricsRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/clusters/{name}/metrics", func(r *http.Request) (any, error) { return a.metrics(r.Context(), r.PathValue("name")) })
}

// metrics scrapes every running machine twice, a second apart, and
// derives TPS from the commit and rollback counters.
func (a *Agent) metrics(ctx context.Context, name string) ([]backend.MachineMetrics, error) {
	c, running, err := a.snapshot(name)
	if err != nil {
		return nil, err
	}
	return nodeclient.Metrics(ctx, targets(c), exporters(c, running))
}

// targets are the cluster's machines as checks and metrics name them.
func targets(c Cluster) []nodeclient.Target {
	out := make([]nodeclient.Target, 0, len(c.Machines))
	for _, m := range c.Machines {
		out = append(out, nodeclient.Target{ID: m.ID, Region: m.Region})
	}
	return out
}

// exporters are the running machines' exporter addresses, by id.
func exporters(c Cluster, running map[string]bool) map[string]string {
	out := map[string]string{}
	for _, m := range c.Machines {
		if running[m.ID] {
			out[m.ID] = net.JoinHostPort(m.IP, strconv.Itoa(metricsPort))
		}
	}
	return out
}

// handleMetricsStream streams a sample of every machine each `every`
// (query parameter, a Go duration) as newline-delimited JSON. Sampling
// runs apart from the writing and hands over only its newest sample, so
// a slow reader gets fewer samples, never stale ones, and never holds
// the sampling up.
func (a *Agent) handleMetricsStream(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, _, err := a.snapshot(name); err != nil {
		reply(w, nil, err)
		return
	}
	every := time.Duration(0)
	if q := r.URL.Query().Get("every"); q != "" {
		d, err := time.ParseDuration(q)
		if err != nil {
			reply(w, nil, badRequest(fmt.Errorf("bad sampling interval %q: %w", q, err)))
			return
		}
		every = d
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(a.ctx, cancel)() // the agent stopping ends the stream
	samples := make(chan backend.MetricsSample, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(samples)
		a.sampleMetrics(ctx, name, backend.MetricsEvery(every), samples)
	}()
	defer func() { cancel(); <-done }()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush() // the client's call returns now, not at the first sample
	}
	enc := json.NewEncoder(w)
	for s := range samples {
		if enc.Encode(s) != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// sampleMetrics reads every running machine's exporter each `every` and
// offers each sample to out without waiting, until ctx ends or the
// cluster is gone. A first reading, before the first interval, gives the
// first sample its TPS.
func (a *Agent) sampleMetrics(ctx context.Context, name string, every time.Duration, out chan backend.MetricsSample) {
	c, running, err := a.snapshot(name)
	if err != nil {
		return
	}
	prev := nodeclient.ScrapeAll(ctx, exporters(c, running))
	nodeclient.Produce(ctx, every, func(ctx context.Context) (backend.MetricsSample, bool) {
		c, running, err := a.snapshot(name)
		if err != nil {
			return backend.MetricsSample{}, false
		}
		at := time.Now()
		cur := nodeclient.ScrapeAll(ctx, exporters(c, running))
		s := backend.MetricsSample{Time: at, Leader: a.leaderID(ctx, name), Machines: nodeclient.Derive(targets(c), prev, cur)}
		prev = cur
		return s, true
	}, out)
}
