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
)

// newChecksRunner evaluates the vm, pg and role checks every
// Timing.Checks, and at once when the keeper's view of postgres changes.
func newChecksRunner(cfg Config, pgc checks.Connector, kp *keeper.Keeper, log *slog.Logger) (*checks.Runner, error) {
	volume, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("checks: data dir %s: %w", cfg.DataDir, err)
	}
	src := checks.Sources{DataDir: volume, PG: pgc, Thresholds: cfg.CheckThresholds,
		Role: func() cluster.Role { return kp.Info().Role }}
	return checks.NewRunner(checks.RunnerConfig{
		Evaluate: src.Evaluate,
		Interval: cfg.Timing.Checks,
		Watch: func() string {
			i := kp.Info()
			return fmt.Sprint(i.Role, i.Healthy, i.Streaming, i.Initialized, i.Generation)
		},
		Log: log.With("proc", "health"),
	}), nil
}

func listenHealth(cfg Config, kp *keeper.Keeper, runner *checks.Runner) (*http.Server, error) {
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
	// /checks: the cached vm, pg and role checks; 503 until evaluated once.
	mux.HandleFunc("GET /checks", func(w http.ResponseWriter, r *http.Request) {
		res := runner.Results()
		w.Header().Set("Content-Type", "application/json")
		if res == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "checks not evaluated yet"})
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
