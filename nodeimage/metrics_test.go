package nodeimage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/pg"
	"github.com/pgtui/pgtui/nodeimage/proxy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs a metrics URL and parses the text format.
func scrape(t *testing.T, cl *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// value is the sample of a family whose labels include want; -1 if none.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Errorf("no metric %s", name)
		return -1
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		}
	}
	t.Errorf("no sample of %s with labels %v", name, want)
	return -1
}

func metricsServer(t *testing.T, src nodeimage.MetricsSources) string {
	t.Helper()
	if src.Info == nil {
		src.Info = func() cluster.Info { return cluster.Info{Role: cluster.RoleLeader, Generation: 3} }
	}
	if src.Proxy == nil {
		src.Proxy = func() proxy.Stats { return proxy.Stats{Active: 2, Accepted: 5, BytesIn: 100, BytesOut: 200} }
	}
	srv := httptest.NewServer(nodeimage.NewMetricsHandler(src))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestMetricsOnRealPostgres: postgres_exporter's names with real values
// from a primary and a replica, the node's own metrics, and pg_up 0 once
// postgres is gone.
func TestMetricsOnRealPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := pgRoot(t)
	a := startPrimary(ctx, t, root)
	url := metricsServer(t, nodeimage.MetricsSources{PG: a})
	start := time.Now()
	fams := scrape(t, http.DefaultClient, url)
	t.Logf("scrape of a primary: %v, %d families", time.Since(start).Round(time.Microsecond), len(fams))
	for _, c := range []struct {
		name   string
		labels map[string]string
		check  func(float64) bool
	}{
		{"pg_up", nil, func(v float64) bool { return v == 1 }},
		{"pg_settings_max_connections", nil, func(v float64) bool { return v == 100 }},
		{"pg_replication_lag", nil, func(v float64) bool { return v == 0 }},
		{"pg_stat_database_xact_commit", map[string]string{"datname": "postgres"}, func(v float64) bool { return v > 0 }},
		{"pg_stat_database_blks_hit", map[string]string{"datname": "postgres"}, func(v float64) bool { return v > 0 }},
		{"pg_stat_database_tup_deleted", map[string]string{"datname": "template1"}, func(v float64) bool { return v >= 0 }},
		{"pg_stat_activity_count", map[string]string{"datname": "postgres", "state": "active"}, func(v float64) bool { return v >= 1 }},
		{"pg_stat_activity_count", map[string]string{"datname": "template1", "state": "idle in transaction"}, func(v float64) bool { return v == 0 }},
		{"pg_database_size_bytes", map[string]string{"datname": "postgres"}, func(v float64) bool { return v > 1<<20 }},
		{"pgtui_role", map[string]string{"role": "leader"}, func(v float64) bool { return v == 1 }},
		{"pgtui_role", map[string]string{"role": "starting"}, func(v float64) bool { return v == 0 }},
		{"pgtui_generation", nil, func(v float64) bool { return v == 3 }},
		{"pgtui_failovers_total", nil, func(v float64) bool { return v == 2 }},
		{"pgtui_proxy_connections", nil, func(v float64) bool { return v == 2 }},
		{"pgtui_proxy_accepted_total", nil, func(v float64) bool { return v == 5 }},
		{"pgtui_proxy_bytes_total", map[string]string{"direction": "out"}, func(v float64) bool { return v == 200 }},
	} {
		if v := value(t, fams, c.name, c.labels); !c.check(v) {
			t.Errorf("%s%v = %v", c.name, c.labels, v)
		}
	}
	for _, counter := range []string{"pg_stat_database_xact_commit", "pgtui_failovers_total", "pgtui_proxy_bytes_total"} {
		if fams[counter].GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s is a %v", counter, fams[counter].GetType())
		}
	}

	b := startReplica(ctx, t, root, a)
	fams = scrape(t, http.DefaultClient, metricsServer(t, nodeimage.MetricsSources{PG: b,
		Info: func() cluster.Info { return cluster.Info{Role: cluster.RoleReplica, Generation: 1} }}))
	if value(t, fams, "pg_up", nil) != 1 || value(t, fams, "pg_replication_lag", nil) < 0 ||
		value(t, fams, "pgtui_role", map[string]string{"role": "replica"}) != 1 || value(t, fams, "pgtui_failovers_total", nil) != 0 {
		t.Error("replica metrics wrong")
	}

	must(t, a.Stop(ctx, pg.StopFast))
	fams = scrape(t, http.DefaultClient, url)
	if value(t, fams, "pg_up", nil) != 0 || fams["pg_stat_database_xact_commit"] != nil || value(t, fams, "pgtui_generation", nil) != 3 {
		t.Error("stopped postgres: want pg_up 0, no postgres metrics, node metrics kept")
	}
}

// hung is a postgres that never answers.
type hung struct{}

func (hung) Connect(ctx context.Context) (*pgx.Conn, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A postgres that hangs costs a scrape at most the query timeout.
func TestMetricsTimeoutWhenPostgresHangs(t *testing.T) {
	url := metricsServer(t, nodeimage.MetricsSources{PG: hung{}, Timeout: 200 * time.Millisecond})
	start := time.Now()
	// hung never returns by itself: only the query timeout ends the scrape
	// before the client's (a deadline against hanging, not a speed goal).
	fams := scrape(t, &http.Client{Timeout: time.Minute}, url)
	took := time.Since(start)
	t.Logf("scrape with a hung postgres: %v", took.Round(time.Millisecond))
	if value(t, fams, "pg_up", nil) != 0 {
		t.Fatalf("pg_up %v after %v", value(t, fams, "pg_up", nil), took)
	}
}
