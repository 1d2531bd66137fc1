package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
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

// adminConn connects to the cluster's leader through a machine's proxy as
// the management role.
func (a *Agent) adminConn(ctx context.Context, cluster, database string) (*pgx.Conn, error) {
	c, running, err := a.snapshot(cluster)
	if err != nil {
		return nil, err
	}
	pw, err := readSecret(a.cfg.Home, cluster, "PGTUI_ADMIN_PASSWORD")
	if err != nil {
		return nil, err
	}
	var lastErr error = fmt.Errorf("no machine of %s is running: start one with `pgtui machine start`", cluster)
	for _, m := range c.Machines {
		if !running[m.ID] {
			continue
		}
		cfg, err := pgx.ParseConfig("sslmode=disable connect_timeout=5")
		if err != nil {
			return nil, err
		}
		cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = m.IP, 5432, "pgtuiadmin", pw, database
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err := pgx.ConnectConfig(cctx, cfg)
		cancel()
		if err == nil {
			return conn, nil
		}
		lastErr = fmt.Errorf("connect to %s leader via %s: %w", cluster, net.JoinHostPort(m.IP, "5432"), err)
	}
	return nil, lastErr
}

func (a *Agent) withAdmin(ctx context.Context, cluster, database string, f func(*pgx.Conn) error) error {
	conn, err := a.adminConn(ctx, cluster, database)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return f(conn)
}

func (a *Agent) listUsers(ctx context.Context, cluster string) ([]backend.User, error) {
	var out []backend.User
	err := a.withAdmin(ctx, cluster, "postgres", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT r.rolname, r.rolsuper,
			coalesce(array_agg(d.datname ORDER BY d.datname) FILTER (WHERE d.datname IS NOT NULL), '{}')
			FROM pg_roles r
			LEFT JOIN pg_database d ON NOT d.datistemplate AND has_database_privilege(r.oid, d.oid, 'CONNECT')
			WHERE r.rolcanlogin GROUP BY r.rolname, r.rolsuper ORDER BY r.rolname`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (backend.User, error) {
			var u backend.User
			return u, row.Scan(&u.Name, &u.Superuser, &u.Databases)
		})
		return err
	})
	return out, err
}

func (a *Agent) listDatabases(ctx context.Context, cluster string) ([]backend.Database, error) {
	var out []backend.Database
	err := a.withAdmin(ctx, cluster, "postgres", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT d.datname,
			coalesce(array_agg(r.rolname ORDER BY r.rolname) FILTER (WHERE r.rolname IS NOT NULL), '{}')
			FROM pg_database d
			LEFT JOIN pg_roles r ON r.rolcanlogin AND has_database_privilege(r.oid, d.oid, 'CONNECT')
			WHERE NOT d.datistemplate GROUP BY d.datname ORDER BY d.datname`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (backend.Database, error) {
			var d backend.Database
			return d, row.Scan(&d.Name, &d.Users)
		})
		return err
	})
	return out, err
}

// exec runs a utility statement built server-side by format(): %I quotes
// identifiers and %L literals, so no user input is concatenated into SQL.
func execFormat(ctx context.Context, c *pgx.Conn, format string, args ...any) error {
	var stmt string
	if err := c.QueryRow(ctx, `SELECT format($1::text, VARIADIC $2::text[])`, format, toText(args)).Scan(&stmt); err != nil {
		return err
	}
	_, err := c.Exec(ctx, stmt)
	return err
}

func toText(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = fmt.Sprint(a)
	}
	return out
}

func (a *Agent) createUser(ctx context.Context, cluster string, req userRequest) error {
	if err := backend.ValidateIdentifier(req.Name); err != nil {
		return badRequest(err)
	}
	if req.Password == "" {
		return badRequest(fmt.Errorf("password is empty"))
	}
	super := "NOSUPERUSER"
	if req.Superuser {
		super = "SUPERUSER"
	}
	return a.withAdmin(ctx, cluster, "postgres", func(c *pgx.Conn) error {
		if err := execFormat(ctx, c, "CREATE ROLE %I WITH LOGIN "+super+" PASSWORD %L", req.Name, req.Password); err != nil {
			return fmt.Errorf("create user %s: %w", req.Name, err)
		}
		return nil
	})
}

func (a *Agent) dropUser(ctx context.Context, cluster, name string) error {
	if builtinRole(name) {
		return badRequest(fmt.Errorf("%s is a built-in role and cannot be deleted", name))
	}
	return a.withAdmin(ctx, cluster, "postgres", func(c *pgx.Conn) error {
		if err := execFormat(ctx, c, "DROP ROLE %I", name); err != nil {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
		return nil
	})
}

func (a *Agent) createDatabase(ctx context.Context, cluster, name string) error {
	if err := backend.ValidateIdentifier(name); err != nil {
		return badRequest(err)
	}
	return a.withAdmin(ctx, cluster, "postgres", func(c *pgx.Conn) error {
		if err := execFormat(ctx, c, "CREATE DATABASE %I", name); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
		return nil
	})
}

func (a *Agent) dropDatabase(ctx context.Context, cluster, name string) error {
	if name == "postgres" || name == "template0" || name == "template1" {
		return badRequest(fmt.Errorf("database %s cannot be deleted", name))
	}
	return a.withAdmin(ctx, cluster, "postgres", func(c *pgx.Conn) error {
		if err := execFormat(ctx, c, "DROP DATABASE %I WITH (FORCE)", name); err != nil {
			return fmt.Errorf("delete database %s: %w", name, err)
		}
		return nil
	})
}

func builtinRole(name string) bool {
	return name == "postgres" || name == "pgtuiadmin" || name == "repluser"
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
