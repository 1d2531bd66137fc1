package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/pgadmin"
)

func (a *Agent) sqlRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/clusters/{name}/users", func(r *http.Request) (any, error) { return a.listUsers(r.Context(), r.PathValue("name")) })
	h("GET /v1/clusters/{name}/databases", func(r *http.Request) (any, error) {
		return a.listDatabases(r.Context(), r.PathValue("name"))
	})
	h("POST /v1/clusters/{name}/users", func(r *http.Request) (any, error) {
		var req userRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, a.createUser(r.Context(), r.PathValue("name"), req)
	})
	h("DELETE /v1/clusters/{name}/users/{user}", func(r *http.Request) (any, error) {
		return nil, a.dropUser(r.Context(), r.PathValue("name"), r.PathValue("user"))
	})
	h("POST /v1/clusters/{name}/databases", func(r *http.Request) (any, error) {
		var req struct {
			Name string `json:"name"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, a.createDatabase(r.Context(), r.PathValue("name"), req.Name)
	})
	h("DELETE /v1/clusters/{name}/databases/{db}", func(r *http.Request) (any, error) {
		return nil, a.dropDatabase(r.Context(), r.PathValue("name"), r.PathValue("db"))
	})
}

type userRequest struct {
	Name      string `json:"name"`
	Password  string `json:"password"`
	Superuser bool   `json:"superuser"`
}

// adminConn connects to the cluster's leader through a running machine's
// proxy as the management role.
func (a *Agent) adminConn(ctx context.Context, cluster, database string) (*pgx.Conn, error) {
	c, running, err := a.snapshot(cluster)
	if err != nil {
		return nil, err
	}
	pw, err := readSecret(a.cfg.Home, cluster, "PGTUI_ADMIN_PASSWORD")
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, m := range c.Machines {
		if running[m.ID] {
			addrs = append(addrs, net.JoinHostPort(m.IP, "5432"))
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no machine of %s is running: start one with `pgtui machine start`", cluster)
	}
	// prefer: TLS while the cluster serves it (pg_hba then accepts only
	// TLS), plain once it is turned off; the agent dials its own machines
	// on loopback.
	conn, err := pgadmin.DialFirst(ctx, addrs, pw, database, "prefer")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cluster, err)
	}
	return conn, nil
}

// admin is the cluster's leader as pgadmin reaches it.
func (a *Agent) admin(cluster string) pgadmin.Connect {
	return func(ctx context.Context, database string) (*pgx.Conn, error) {
		return a.adminConn(ctx, cluster, database)
	}
}

func (a *Agent) listUsers(ctx context.Context, cluster string) ([]backend.User, error) {
	return pgadmin.ListUsers(ctx, a.admin(cluster))
}

func (a *Agent) listDatabases(ctx context.Context, cluster string) ([]backend.Database, error) {
	return pgadmin.ListDatabases(ctx, a.admin(cluster))
}

func (a *Agent) createUser(ctx context.Context, cluster string, req userRequest) error {
	return pgadmin.CreateUser(ctx, a.admin(cluster), req.Name, req.Password, req.Superuser)
}

func (a *Agent) dropUser(ctx context.Context, cluster, name string) error {
	return pgadmin.DropUser(ctx, a.admin(cluster), name)
}

func (a *Agent) createDatabase(ctx context.Context, cluster, name string) error {
	return pgadmin.CreateDatabase(ctx, a.admin(cluster), name)
}

func (a *Agent) dropDatabase(ctx context.Context, cluster, name string) error {
	return pgadmin.DropDatabase(ctx, a.admin(cluster), name)
}

// readSecret reads one value from a cluster's 0600 secrets file.
func readSecret(home, cluster, key string) (string, error) {
	f, err := os.Open(secretsPath(home, cluster))
	if err != nil {
		return "", fmt.Errorf("cluster %s secrets: %w", cluster, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && k == key {
			return v, nil
		}
	}
	return "", fmt.Errorf("cluster %s secrets: %s missing", cluster, key)
}
