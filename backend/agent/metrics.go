package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pgtui/pgtui/backend"
)

func (a *Agent) metricsRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/clusters/{name}/metrics", func(r *http.Request) (any, error) { return a.metrics(r.Context(), r.PathValue("name")) })
}

// sample is what one scrape of a node's /metrics says.
type sample struct {
	at                    time.Time
	xacts                 float64
	connections           float64
	lagSeconds, sizeBytes float64
	up                    bool
}

// metrics scrapes every running machine twice, a second apart, and
// derives TPS from the commit and rollback counters.
func (a *Agent) metrics(ctx context.Context, name string) ([]backend.MachineMetrics, error) {
	c, running, err := a.snapshot(name)
	if err != nil {
		return nil, err
	}
	first := a.scrapeAll(ctx, c, running)
	t := time.NewTimer(time.Second)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	return derive(c, first, a.scrapeAll(ctx, c, running)), nil
}

// derive turns two scrapes into every machine's figures, in the
// cluster's order: TPS is the change of the commit and rollback counters
// per second between prev and cur, 0 without an earlier reading or when
// the counters went back (a restart or a stats reset).
func derive(c Cluster, prev, cur map[string]sample) []backend.MachineMetrics {
	out := []backend.MachineMetrics{}
	for _, m := range c.Machines {
		mm := backend.MachineMetrics{Machine: m.ID, Region: m.Region}
		s2, ok := cur[m.ID]
		if ok && s2.up {
			mm.Up, mm.Connections, mm.LagSeconds, mm.SizeBytes = true, s2.connections, s2.lagSeconds, s2.sizeBytes
			if s1, ok := prev[m.ID]; ok && s1.up && s2.at.After(s1.at) && s2.xacts >= s1.xacts {
				mm.TPS = (s2.xacts - s1.xacts) / s2.at.Sub(s1.at).Seconds()
			}
		}
		out = append(out, mm)
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
	prev := a.scrapeAll(ctx, c, running)
	produce(ctx, every, func(ctx context.Context) (backend.MetricsSample, bool) {
		c, running, err := a.snapshot(name)
		if err != nil {
			return backend.MetricsSample{}, false
		}
		at := time.Now()
		cur := a.scrapeAll(ctx, c, running)
		s := backend.MetricsSample{Time: at, Leader: a.leaderID(ctx, name), Machines: derive(c, prev, cur)}
		prev = cur
		return s, true
	}, out)
}

// produce calls next each `every` and puts what it returns in out with
// backend.SendLatest, so a reader that is behind never holds it up; it
// returns when ctx ends or next reports there is nothing more.
func produce[T any](ctx context.Context, every time.Duration, next func(context.Context) (T, bool), out chan T) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, ok := next(ctx)
		if !ok || ctx.Err() != nil {
			return
		}
		backend.SendLatest(out, v)
	}
}

func (a *Agent) scrapeAll(ctx context.Context, c Cluster, running map[string]bool) map[string]sample {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]sample{}
	for _, m := range c.Machines {
		if !running[m.ID] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := scrape(ctx, net.JoinHostPort(m.IP, strconv.Itoa(metricsPort)))
			if err != nil {
				return
			}
			mu.Lock()
			out[m.ID] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func scrape(ctx context.Context, addr string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return sample{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sample{}, fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return sample{}, fmt.Errorf("parse metrics of %s: %w", addr, err)
	}
	s := sample{at: time.Now()}
	s.up = sum(fams["pg_up"]) == 1
	s.xacts = sum(fams["pg_stat_database_xact_commit"]) + sum(fams["pg_stat_database_xact_rollback"])
	s.connections = sum(fams["pg_stat_activity_count"])
	s.lagSeconds = sum(fams["pg_replication_lag"])
	s.sizeBytes = sum(fams["pg_database_size_bytes"])
	return s, nil
}

// sum adds every series of a family (counters, gauges or untyped).
func sum(f *dto.MetricFamily) float64 {
	if f == nil {
		return 0
	}
	var v float64
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		}
	}
	return v
}
