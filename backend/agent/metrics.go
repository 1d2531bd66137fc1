package agent

import (
	"context"
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
	second := a.scrapeAll(ctx, c, running)
	out := []backend.MachineMetrics{}
	for _, m := range c.Machines {
		mm := backend.MachineMetrics{Machine: m.ID, Region: m.Region}
		s2, ok := second[m.ID]
		if ok && s2.up {
			mm.Up, mm.Connections, mm.LagSeconds, mm.SizeBytes = true, s2.connections, s2.lagSeconds, s2.sizeBytes
			if s1, ok := first[m.ID]; ok && s1.up && s2.at.After(s1.at) {
				mm.TPS = (s2.xacts - s1.xacts) / s2.at.Sub(s1.at).Seconds()
			}
		}
		out = append(out, mm)
	}
	return out, nil
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
