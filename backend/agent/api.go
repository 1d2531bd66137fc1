package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
)

// maxBody bounds request bodies; the API is local but still validates.
const maxBody = 1 << 20

// routes maps the Backend API to HTTP.
func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, f func(*http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			v, err := f(r)
			reply(w, v, err)
		})
	}
	mux.HandleFunc("POST /v1/clusters", a.handleCreate)
	mux.HandleFunc("POST /v1/clusters/{name}/backups", a.handleCreateBackup)
	mux.HandleFunc("POST /v1/clusters/{name}/restore", a.handleRestore)
	mux.HandleFunc("GET /v1/clusters/{name}/logs", a.handleLogs)
	mux.HandleFunc("GET /v1/clusters/{name}/metrics/stream", a.handleMetricsStream)
	h("GET /v1/status", func(r *http.Request) (any, error) { return a.agentStatus(), nil })
	h("POST /v1/shutdown", func(r *http.Request) (any, error) { return nil, a.shutdown() })
	h("GET /v1/clusters", func(r *http.Request) (any, error) { return a.listClusters(r.Context()) })
	h("GET /v1/clusters/{name}", func(r *http.Request) (any, error) { return a.status(r.Context(), r.PathValue("name")) })
	h("DELETE /v1/clusters/{name}", func(r *http.Request) (any, error) { return nil, a.destroy(r.Context(), r.PathValue("name")) })
	h("GET /v1/clusters/{name}/checks", func(r *http.Request) (any, error) { return a.clusterChecks(r.Context(), r.PathValue("name")) })
	h("GET /v1/clusters/{name}/machines/{id}", func(r *http.Request) (any, error) {
		return a.machineDetail(r.Context(), r.PathValue("name"), r.PathValue("id"))
	})
	h("POST /v1/clusters/{name}/machines/{id}/{action}", func(r *http.Request) (any, error) {
		return nil, a.machineAction(r.Context(), r.PathValue("name"), r.PathValue("id"), backend.MachineAction(r.PathValue("action")))
	})
	h("POST /v1/clusters/{name}/failover", func(r *http.Request) (any, error) { return a.failover(r.Context(), r.PathValue("name")) })
	h("POST /v1/clusters/{name}/restart", func(r *http.Request) (any, error) { return nil, a.restart(r.Context(), r.PathValue("name")) })
	h("POST /v1/clusters/{name}/scale", func(r *http.Request) (any, error) {
		var req scaleRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		if req.VMSize != "" {
			return nil, a.scaleVM(r.Context(), r.PathValue("name"), req.VMSize)
		}
		return nil, a.scaleCount(r.Context(), r.PathValue("name"), req.Count, req.Region)
	})
	a.sqlRoutes(h)
	a.configRoutes(h)
	a.backupRoutes(h)
	a.metricsRoutes(h)
	a.appRoutes(h)
	a.tunnelRoutes(h)
	return mux
}

type scaleRequest struct {
	VMSize string `json:"vm_size,omitempty"`
	Count  int    `json:"count,omitempty"`
	Region string `json:"region,omitempty"`
}

// handleCreate streams the deployment as newline-delimited JSON events.
func (a *Agent) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req backend.CreateRequest
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := decode(r, &req); err != nil {
		reply(w, nil, err)
		return
	}
	if err := req.Validate(); err != nil {
		reply(w, nil, badRequest(err))
		return
	}
	events := make(chan backend.CreateEvent, 256)
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.create(req, events) }()
	streamEvents(w, r, events)
}

// streamEvents writes a deployment's events as newline-delimited JSON
// until they end or the client detaches (the deployment goes on).
func streamEvents(w http.ResponseWriter, r *http.Request, events <-chan backend.CreateEvent) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return // the client detached; the deployment goes on
		case ev, ok := <-events:
			if !ok {
				return
			}
			if err := enc.Encode(ev); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest(fmt.Errorf("bad request body: %w", err))
	}
	if dec.More() {
		return badRequest(errors.New("bad request body: trailing data"))
	}
	return nil
}

// apiError carries an HTTP status for an error.
type apiError struct {
	status int
	err    error
}

func (e apiError) Error() string { return e.err.Error() }
func (e apiError) Unwrap() error { return e.err }

func badRequest(err error) error { return apiError{http.StatusBadRequest, err} }

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		status := http.StatusInternalServerError
		var ae apiError
		var nf notFoundError
		switch {
		case errors.As(err, &ae):
			status = ae.status
		case backend.IsInputError(err):
			status = http.StatusBadRequest
		case errors.As(err, &nf):
			status = http.StatusNotFound
		case errors.Is(err, context.DeadlineExceeded):
			status = http.StatusGatewayTimeout
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: oneLine(err.Error()), Code: api.CodeFor(status)})
		return
	}
	if v == nil {
		v = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(v)
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// AgentStatus is `pgtui agent status`.
type AgentStatus = api.AgentStatus

func (a *Agent) agentStatus() AgentStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := AgentStatus{PID: pid(), Home: a.cfg.Home, Etcd: a.etcdEndpoints(), DNS: a.dns.addr, Clusters: len(a.state.Clusters)}
	for _, c := range a.state.Clusters {
		s.Machines += len(c.Machines)
	}
	for _, p := range a.procs {
		if p.running() {
			s.Running++
		}
	}
	return s
}

func asAPIError(err error, ae *apiError) bool { return errors.As(err, ae) }
