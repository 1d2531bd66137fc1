// Package pgadmin runs the management SQL of users, databases and
// attachments on a cluster's leader as pgtuiadmin, for every platform.
// Utility statements are built by the server with format('%I', '%L'):
// no input is ever concatenated into SQL.
package pgadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
)

// AdminUser is the management role every cluster has.
const AdminUser = "pgtuiadmin"

// Connect opens a connection to the leader's database as AdminUser.
type Connect func(ctx context.Context, database string) (*pgx.Conn, error)

// InputError is a request refused before any SQL ran.
type InputError = backend.InputError

func badInput(format string, a ...any) error { return InputError{Err: fmt.Errorf(format, a...)} }

// With runs f on a fresh connection to database and closes it.
func With(ctx context.Context, connect Connect, database string, f func(*pgx.Conn) error) error {
	conn, err := connect(ctx, database)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return f(conn)
}

// ExecFormat runs a utility statement built server-side by format(): %I
// quotes identifiers and %L literals.
func ExecFormat(ctx context.Context, c *pgx.Conn, format string, args ...string) error {
	var stmt string
	if err := c.QueryRow(ctx, `SELECT format($1::text, VARIADIC $2::text[])`, format, args).Scan(&stmt); err != nil {
		return err
	}
	_, err := c.Exec(ctx, stmt)
	return err
}

// ListUsers lists the roles that can log in, with the databases each may
// connect to.
func ListUsers(ctx context.Context, connect Connect) ([]backend.User, error) {
	var out []backend.User
	err := With(ctx, connect, "postgres", func(c *pgx.Conn) error {
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

// ListDatabases lists the databases with the users that may connect.
func ListDatabases(ctx context.Context, connect Connect) ([]backend.Database, error) {
	var out []backend.Database
	err := With(ctx, connect, "postgres", func(c *pgx.Conn) error {
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

// CreateUser creates a login role.
func CreateUser(ctx context.Context, connect Connect, name, password string, superuser bool) error {
	if err := backend.ValidateIdentifier(name); err != nil {
		return InputError{Err: err}
	}
	if password == "" {
		return badInput("password is empty")
	}
	super := "NOSUPERUSER"
	if superuser {
		super = "SUPERUSER"
	}
	return With(ctx, connect, "postgres", func(c *pgx.Conn) error {
		if err := ExecFormat(ctx, c, "CREATE ROLE %I WITH LOGIN "+super+" PASSWORD %L", name, password); err != nil {
			return fmt.Errorf("create user %s: %w", name, err)
		}
		return nil
	})
}

// BuiltinRole: the roles every cluster needs.
func BuiltinRole(name string) bool {
	return name == "postgres" || name == AdminUser || name == "repluser"
}

// DropUser drops a role that is not built in.
func DropUser(ctx context.Context, connect Connect, name string) error {
	if BuiltinRole(name) {
		return badInput("%s is a built-in role and cannot be deleted", name)
	}
	return With(ctx, connect, "postgres", func(c *pgx.Conn) error {
		if err := ExecFormat(ctx, c, "DROP ROLE %I", name); err != nil {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
		return nil
	})
}

// CreateDatabase creates a database.
func CreateDatabase(ctx context.Context, connect Connect, name string) error {
	if err := backend.ValidateIdentifier(name); err != nil {
		return InputError{Err: err}
	}
	return With(ctx, connect, "postgres", func(c *pgx.Conn) error {
		if err := ExecFormat(ctx, c, "CREATE DATABASE %I", name); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
		return nil
	})
}

// DropDatabase drops a database (not postgres or a template), closing
// its connections.
func DropDatabase(ctx context.Context, connect Connect, name string) error {
	if name == "postgres" || name == "template0" || name == "template1" {
		return badInput("database %s cannot be deleted", name)
	}
	return With(ctx, connect, "postgres", func(c *pgx.Conn) error {
		if err := ExecFormat(ctx, c, "DROP DATABASE %I WITH (FORCE)", name); err != nil {
			return fmt.Errorf("delete database %s: %w", name, err)
		}
		return nil
	})
}

// AttachNames are the database, user and secret name of an attachment:
// the request's, else named after the app; checked before anything runs.
func AttachNames(req backend.AttachRequest) (db, user, variable string, err error) {
	if err := backend.ValidateName(req.App); err != nil {
		return "", "", "", InputError{Err: fmt.Errorf("app: %w", err)}
	}
	db = orDefault(req.DatabaseName, strings.ReplaceAll(req.App, "-", "_"))
	user = orDefault(req.DatabaseUser, strings.ReplaceAll(req.App, "-", "_"))
	variable = orDefault(req.VariableName, "DATABASE_URL")
	for _, id := range []string{db, user} {
		if err := backend.ValidateIdentifier(id); err != nil {
			return "", "", "", InputError{Err: err}
		}
	}
	if err := ValidSecretName(variable); err != nil {
		return "", "", "", err
	}
	return db, user, variable, nil
}

// ValidSecretName keeps a secret's name usable in an env file.
func ValidSecretName(k string) error {
	if k == "" || strings.ContainsAny(k, "= \t\n") {
		return badInput("secret name %q is not valid: use letters, digits and '_'", k)
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// CreateAttachment creates the user and, unless it exists, the database
// it owns; it undoes the user when a later step fails.
func CreateAttachment(ctx context.Context, connect Connect, cluster, db, user, password string) error {
	return With(ctx, connect, "postgres", func(c *pgx.Conn) error {
		var roleExists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, user).Scan(&roleExists); err != nil {
			return err
		}
		if roleExists {
			return badInput("user %s already exists in %s: pass --database-user", user, cluster)
		}
		if err := ExecFormat(ctx, c, "CREATE ROLE %I WITH LOGIN PASSWORD %L", user, password); err != nil {
			return fmt.Errorf("create user %s: %w", user, err)
		}
		var dbExists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&dbExists); err != nil {
			return err
		}
		if !dbExists {
			if err := ExecFormat(ctx, c, "CREATE DATABASE %I OWNER %I", db, user); err != nil {
				_ = ExecFormat(ctx, c, "DROP ROLE %I", user)
				return fmt.Errorf("create database %s: %w", db, err)
			}
		}
		if err := ExecFormat(ctx, c, "GRANT ALL ON DATABASE %I TO %I", db, user); err != nil {
			_ = ExecFormat(ctx, c, "DROP ROLE %I", user)
			return fmt.Errorf("grant %s on %s: %w", user, db, err)
		}
		return nil
	})
}

// DropAttachment hands what user owns in db to postgres, revokes its
// access and drops it; the database stays.
func DropAttachment(ctx context.Context, connect Connect, db, user string) error {
	err := With(ctx, connect, db, func(c *pgx.Conn) error {
		for _, f := range []string{"REASSIGN OWNED BY %I TO postgres", "DROP OWNED BY %I"} {
			if err := ExecFormat(ctx, c, f, user); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return With(ctx, connect, "postgres", func(c *pgx.Conn) error {
		if err := ExecFormat(ctx, c, "REVOKE ALL ON DATABASE %I FROM %I", db, user); err != nil {
			return err
		}
		return ExecFormat(ctx, c, "DROP ROLE %I", user)
	})
}

// DialFirst connects as AdminUser through the first of addrs (host:port
// of nodes' proxies) that answers, with sslmode (disable, require, ...).
func DialFirst(ctx context.Context, addrs []string, password, database, sslmode string) (*pgx.Conn, error) {
	if len(addrs) == 0 {
		return nil, errors.New("no node to connect to")
	}
	var lastErr error
	for _, addr := range addrs {
		host, port, err := splitHostPort(addr)
		if err != nil {
			return nil, err
		}
		// The host goes into the parsed string: parsed without one, the
		// default host may be a unix socket, which gets no TLS config,
		// and setting Host afterwards would then connect in clear.
		cfg, err := pgx.ParseConfig(fmt.Sprintf("host='%s' port=%d connect_timeout=5 sslmode=%s", host, port, sslmode))
		if err != nil {
			return nil, err
		}
		cfg.User, cfg.Password, cfg.Database = AdminUser, password, database
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err := pgx.ConnectConfig(cctx, cfg)
		cancel()
		if err == nil {
			return conn, nil
		}
		lastErr = fmt.Errorf("connect to the leader via %s: %w", addr, err)
	}
	return nil, lastErr
}

func splitHostPort(addr string) (string, uint16, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("node address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("node address %q: bad port", addr)
	}
	return host, uint16(port), nil
}
