package nodeclient

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pgtui/pgtui/backend"
)

// Sample is what one scrape of a node's /metrics says.
type Sample struct {
	At                    time.Time
	Xacts                 float64
	Connections           float64
	LagSeconds, SizeBytes float64
	Up                    bool
}

// Derive turns two scrapes into every machine's figures, in the order
// of ms: TPS is the change of the commit and rollback counters per second
// between prev and cur, 0 without an earlier reading or when the counters
// went back (a restart or a stats reset).
func Derive(ms []Target, prev, cur map[string]Sample) []backend.MachineMetrics {
	out := []backend.MachineMetrics{}
	for _, m := range ms {
		mm := backend.MachineMetrics{Machine: m.ID, Region: m.Region}
		s2, ok := cur[m.ID]
		if ok && s2.Up {
			mm.Up, mm.Connections, mm.LagSeconds, mm.SizeBytes = true, s2.Connections, s2.LagSeconds, s2.SizeBytes
			if s1, ok := prev[m.ID]; ok && s1.Up && s2.At.After(s1.At) && s2.Xacts >= s1.Xacts {
				mm.TPS = (s2.Xacts - s1.Xacts) / s2.At.Sub(s1.At).Seconds()
			}
		}
		out = append(out, mm)
	}
	return out
}

// ScrapeAll scrapes every exporter of addrs (by machine id) at once;
// machines that do not answer are missing from the result.
func ScrapeAll(ctx context.Context, addrs map[string]string) map[string]Sample {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]Sample{}
	for id, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Scrape(ctx, addr)
			if err != nil {
				return
			}
			mu.Lock()
			out[id] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// Scrape reads one exporter (host:port).
func Scrape(ctx context.Context, addr string) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return Sample{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Sample{}, fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return Sample{}, fmt.Errorf("parse metrics of %s: %w", addr, err)
	}
	s := Sample{At: time.Now()}
	s.Up = sum(fams["pg_up"]) == 1
	s.Xacts = sum(fams["pg_stat_database_xact_commit"]) + sum(fams["pg_stat_database_xact_rollback"])
	s.Connections = sum(fams["pg_stat_activity_count"])
	s.LagSeconds = sum(fams["pg_replication_lag"])
	s.SizeBytes = sum(fams["pg_database_size_bytes"])
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

// Produce calls next each `every` and puts what it returns in out with
// backend.SendLatest, so a reader that is behind never holds it up; it
// returns when ctx ends or next reports there is nothing more.
func Produce[T any](ctx context.Context, every time.Duration, next func(context.Context) (T, bool), out chan T) {
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

// Metrics scrapes addrs twice, a second apart, and derives every
// machine's figures (`postgres metrics`).
func Metrics(ctx context.Context, ms []Target, addrs map[string]string) ([]backend.MachineMetrics, error) {
	first := ScrapeAll(ctx, addrs)
	t := time.NewTimer(time.Second)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	return Derive(ms, first, ScrapeAll(ctx, addrs)), nil
}
