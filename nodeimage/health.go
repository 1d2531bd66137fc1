package nodeimage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/nodeimage/checks"
	"github.com/pgtui/pgtui/nodeimage/cluster"
	"github.com/pgtui/pgtui/nodeimage/keeper"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
)

// newChecksRunner evaluates the vm, pg and role checks every
// Timing.Checks, and at once when the keeper's view of postgres changes.
func newChecksRunner(cfg Config, pgc checks.Connector, kp *keeper.Keeper, log *slog.Logger) (*checks.Runner, error) {
	volume, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("checks: data dir %s: %w", cfg.DataDir, err)
	}
	src := checks.Sources{DataDir: volume, PG: pgc, Thresholds: cfg.CheckThresholds,
		Role:     func() cluster.Role { return kp.Info().Role },
		ReadOnly: func() (string, bool) { i := kp.Info(); return i.ReadOnlyReason, i.ReadOnlyByHand }}
	return checks.NewRunner(checks.RunnerConfig{
		Evaluate: src.Evaluate,
		Interval: cfg.Timing.Checks,
		Watch: func() string {
			i := kp.Info()
			return fmt.Sprint(i.Role, i.Healthy, i.Streaming, i.Initialized, i.Generation, i.ReadOnlyReason)
		},
		Log: log.With("proc", "health"),
	}), nil
}

// listenHealth serves the health port. GET /health stays open, for load
// balancers and orchestrators; GET /checks and GET /logs need the
// cluster's node API token (nodeapi.Token), else they answer 401. Request
// contexts end with ctx, so log followers end when the node stops.
func listenHealth(ctx context.Context, cfg Config, kp *keeper.Keeper, runner *checks.Runner, bk *backups) (*http.Server, error) {
	addr := net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.HealthPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	// /health: the member's published state; 200 when postgres answers.
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		info := kp.Info()
		w.Header().Set("Content-Type", "application/json")
		if !info.Healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(info)
	})
	token := nodeapi.Token(cfg.Cluster, cfg.Secrets.AdminPassword)
	// /checks: the cached vm, pg and role checks; 503 until evaluated once.
	mux.Handle("GET /checks", nodeapi.Require(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := runner.Results()
		w.Header().Set("Content-Type", "application/json")
		if res == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "checks not evaluated yet"})
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})))
	if bk != nil {
		bk.handlers(mux, token)
	}
	if cfg.Logs != nil {
		mux.Handle("GET /logs", nodeapi.Require(token, logsHandler(cfg.Logs)))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { _ = srv.Serve(ln) }() // ends when shutdownWhenDone shuts it down
	return srv, nil
}

// shutdownWhenDone stops an HTTP server once ctx ends.
func shutdownWhenDone(ctx context.Context, srv *http.Server, what string, log *slog.Logger) {
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn(what+" server shutdown", "err", err)
	}
}
