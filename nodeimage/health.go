package nodeimage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pgtui/pgtui/nodeimage/keeper"
)

func listenHealth(cfg Config, kp *keeper.Keeper) (*http.Server, error) {
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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends when serveHealth shuts it down
	return srv, nil
}

func serveHealth(ctx context.Context, srv *http.Server, log *slog.Logger) {
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("health server shutdown", "err", err)
	}
}
