package nodeimage

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/proxy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsSources are what the exporter reads on every scrape.
type MetricsSources struct {
	PG    checks.Connector    // the local postgres
	Info  func() cluster.Info // the keeper's view of this member
	Proxy func() proxy.Stats
	// Timeout bounds all postgres queries of one scrape (default 2s).
	Timeout time.Duration
	Log     *slog.Logger
}

// NewMetricsHandler serves Prometheus text with postgres_exporter's
// metric names plus the node's own (pgtui_*), from a registry of its own.
func NewMetricsHandler(src MetricsSources) http.Handler {
	if src.Timeout <= 0 {
		src.Timeout = 2 * time.Second
	}
	if src.Log == nil {
		src.Log = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(src))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(src.Log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

func listenMetrics(cfg Config, src MetricsSources) (*http.Server, error) {
	addr := net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.MetricsPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", NewMetricsHandler(src))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends when shutdownWhenDone shuts it down
	src.Log.Info("metrics listening", "addr", ln.Addr().String())
	return srv, nil
}

// statDatabaseColumns are the pg_stat_database counters exported, each
// as pg_stat_database_<column>{datname}, in the order the query reads them.
func statDatabaseColumns() []string {
	return []string{"xact_commit", "xact_rollback", "blks_read", "blks_hit",
		"tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted"}
}

// collector queries postgres on every scrape.
type collector struct {
	src MetricsSources

	up, maxConn, lag, activity, dbSize                     *prometheus.Desc
	statDB                                                 []*prometheus.Desc // by statDatabaseColumns
	role, generation, failovers, proxyConns, proxyAccepted *prometheus.Desc
	readOnly                                               *prometheus.Desc
	proxyBytes                                             *prometheus.Desc
}

func newCollector(src MetricsSources) *collector {
	d := prometheus.NewDesc
	c := &collector{src: src,
		up:            d("pg_up", "Whether the last scrape could query postgres (1) or not (0).", nil, nil),
		maxConn:       d("pg_settings_max_connections", "Server setting max_connections.", nil, nil),
		lag:           d("pg_replication_lag", "Replication lag behind the leader in seconds (0 on the leader).", nil, nil),
		activity:      d("pg_stat_activity_count", "Number of connections in this state.", []string{"datname", "state"}, nil),
		dbSize:        d("pg_database_size_bytes", "Disk space used by the database.", []string{"datname"}, nil),
		role:          d("pgtui_role", "The role this member's postgres has now (1 for the current one).", []string{"role"}, nil),
		readOnly:      d("pgtui_read_only", "1 while this member leads and refuses writes (reason: by_hand or volume_full), else 0.", []string{"reason"}, nil),
		generation:    d("pgtui_generation", "Newest cluster generation this member has applied.", nil, nil),
		failovers:     d("pgtui_failovers_total", "Leader changes (failovers and switchovers) since the cluster was bootstrapped, as of the newest generation this member applied.", nil, nil),
		proxyConns:    d("pgtui_proxy_connections", "Client connections the leader proxy forwards now.", nil, nil),
		proxyAccepted: d("pgtui_proxy_accepted_total", "Client connections the leader proxy accepted, refused ones included.", nil, nil),
		proxyBytes:    d("pgtui_proxy_bytes_total", "Bytes the leader proxy forwarded (in: client to leader, out: leader to client).", []string{"direction"}, nil),
	}
	for _, col := range statDatabaseColumns() {
		c.statDB = append(c.statDB, d("pg_stat_database_"+col, "Column "+col+" of pg_stat_database.", []string{"datname"}, nil))
	}
	return c
}

// Describe sends every descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range append([]*prometheus.Desc{c.up, c.maxConn, c.lag, c.activity, c.dbSize, c.role, c.generation,
		c.readOnly, c.failovers, c.proxyConns, c.proxyAccepted, c.proxyBytes}, c.statDB...) {
		ch <- d
	}
}

// Collect reads the node's counters, then postgres within the timeout;
// pg_up is 0 when postgres does not answer.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.collectNode(ch)
	ctx, cancel := context.WithTimeout(context.Background(), c.src.Timeout)
	defer cancel()
	conn, err := c.src.PG.Connect(ctx)
	if err == nil {
		defer conn.Close(context.Background())
		err = conn.Ping(ctx)
	}
	if err != nil {
		c.src.Log.Debug("metrics: postgres not answering", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, q := range []func(context.Context, *pgx.Conn, chan<- prometheus.Metric) error{
		c.collectSettings, c.collectStatDatabase, c.collectActivity, c.collectSizes,
	} {
		if err := q(ctx, conn, ch); err != nil {
			c.src.Log.Warn("metrics query failed", "err", err)
		}
	}
}

func (c *collector) collectNode(ch chan<- prometheus.Metric) {
	info := c.src.Info()
	current := string(info.Role)
	if info.Role == cluster.RoleNone {
		current = "starting"
	}
	for _, r := range []string{"leader", "replica", "fenced", "starting"} {
		v := 0.0
		if r == current {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.role, prometheus.GaugeValue, v, r)
	}
	ch <- prometheus.MustNewConstMetric(c.generation, prometheus.GaugeValue, float64(info.Generation))
	for _, r := range []string{"by_hand", "volume_full"} {
		v := 0.0
		if info.Role == cluster.RoleLeader && info.ReadOnly && (r == "by_hand") == info.ReadOnlyByHand {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.readOnly, prometheus.GaugeValue, v, r)
	}
	ch <- prometheus.MustNewConstMetric(c.failovers, prometheus.CounterValue, float64(max(info.Generation-1, 0)))
	st := c.src.Proxy()
	ch <- prometheus.MustNewConstMetric(c.proxyConns, prometheus.GaugeValue, float64(st.Active))
	ch <- prometheus.MustNewConstMetric(c.proxyAccepted, prometheus.CounterValue, float64(st.Accepted))
	ch <- prometheus.MustNewConstMetric(c.proxyBytes, prometheus.CounterValue, float64(st.BytesIn), "in")
	ch <- prometheus.MustNewConstMetric(c.proxyBytes, prometheus.CounterValue, float64(st.BytesOut), "out")
}

// collectSettings: max_connections and the replication lag (the query of
// postgres_exporter's pg_replication).
func (c *collector) collectSettings(ctx context.Context, conn *pgx.Conn, ch chan<- prometheus.Metric) error {
	var maxConn float64
	var lag *float64
	err := conn.QueryRow(ctx, `SELECT current_setting('max_connections')::float8, `+checks.LagSQL).Scan(&maxConn, &lag)
	if err != nil {
		return fmt.Errorf("settings and replication lag: %w", err)
	}
	ch <- prometheus.MustNewConstMetric(c.maxConn, prometheus.GaugeValue, maxConn)
	if lag != nil { // unknown until a transaction was replayed
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, max(*lag, 0))
	}
	return nil
}

func (c *collector) collectStatDatabase(ctx context.Context, conn *pgx.Conn, ch chan<- prometheus.Metric) error {
	rows, err := conn.Query(ctx, `SELECT datname, `+strings.Join(statDatabaseColumns(), ", ")+
		` FROM pg_stat_database WHERE datname IS NOT NULL ORDER BY datname`)
	if err != nil {
		return fmt.Errorf("pg_stat_database: %w", err)
	}
	defer rows.Close()
	vals := make([]int64, len(c.statDB))
	dest := make([]any, 0, len(vals)+1)
	var datname string
	dest = append(dest, &datname)
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("pg_stat_database: %w", err)
		}
		for i, v := range vals {
			ch <- prometheus.MustNewConstMetric(c.statDB[i], prometheus.CounterValue, float64(v), datname)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pg_stat_database: %w", err)
	}
	return nil
}

// collectActivity counts connections per database and state, with zeros
// for the states nobody is in (as postgres_exporter does).
func (c *collector) collectActivity(ctx context.Context, conn *pgx.Conn, ch chan<- prometheus.Metric) error {
	rows, err := conn.Query(ctx, `SELECT d.datname, s.state, count(a.pid)::float8
		FROM pg_database d
		CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'), ('idle in transaction (aborted)'),
			('fastpath function call'), ('disabled')) AS s(state)
		LEFT JOIN pg_stat_activity a ON a.datname = d.datname AND a.state = s.state
		GROUP BY d.datname, s.state ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("pg_stat_activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var datname, state string
		var n float64
		if err := rows.Scan(&datname, &state, &n); err != nil {
			return fmt.Errorf("pg_stat_activity: %w", err)
		}
		ch <- prometheus.MustNewConstMetric(c.activity, prometheus.GaugeValue, n, datname, state)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pg_stat_activity: %w", err)
	}
	return nil
}

func (c *collector) collectSizes(ctx context.Context, conn *pgx.Conn, ch chan<- prometheus.Metric) error {
	rows, err := conn.Query(ctx, `SELECT datname, pg_database_size(datname)::float8 FROM pg_database ORDER BY datname`)
	if err != nil {
		return fmt.Errorf("pg_database_size: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var datname string
		var size float64
		if err := rows.Scan(&datname, &size); err != nil {
			return fmt.Errorf("pg_database_size: %w", err)
		}
		ch <- prometheus.MustNewConstMetric(c.dbSize, prometheus.GaugeValue, size, datname)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pg_database_size: %w", err)
	}
	return nil
}
