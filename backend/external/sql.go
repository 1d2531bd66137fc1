package external

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/hastate"
	"github.com/pgtui/pgtui/backend/pgadmin"
)

// admin connects to the leader through the nodes' proxies (the leader's
// own first) as pgtuiadmin, over TLS unless the cluster turned it off.
func (c *conn) admin() pgadmin.Connect {
	return func(ctx context.Context, database string) (*pgx.Conn, error) {
		v, err := c.read(ctx)
		if err != nil {
			return nil, err
		}
		addrs := proxies(v)
		if len(addrs) == 0 {
			return nil, fmt.Errorf("no node of %s is alive in etcd: see `pgtui status -a %s`", c.name, c.name)
		}
		conn, err := pgadmin.DialFirst(ctx, addrs, c.creds.AdminPassword, database, sslMode(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		return conn, nil
	}
}

// proxies are the alive nodes' proxy addresses, the leader's first.
func proxies(v hastate.View) []string {
	var addrs []string
	for _, n := range nodes(v) {
		if !n.alive || n.info == nil {
			continue
		}
		if n.name == v.NamedLeader() {
			addrs = append([]string{n.proxyAddr()}, addrs...)
		} else {
			addrs = append(addrs, n.proxyAddr())
		}
	}
	return addrs
}

func sslMode(v hastate.View) string {
	if v.Data != nil && v.Data.Options.SSLDisabled {
		return "disable"
	}
	return "require"
}

func (b *Backend) withAdmin(name string, f func(*conn) error) error {
	c, err := b.open(name)
	if err != nil {
		return err
	}
	return f(c)
}

// ListUsers lists the login roles.
func (b *Backend) ListUsers(ctx context.Context, name string) (out []backend.User, err error) {
	err = b.withAdmin(name, func(c *conn) error { out, err = pgadmin.ListUsers(ctx, c.admin()); return err })
	return out, err
}

// ListDatabases lists the databases.
func (b *Backend) ListDatabases(ctx context.Context, name string) (out []backend.Database, err error) {
	err = b.withAdmin(name, func(c *conn) error { out, err = pgadmin.ListDatabases(ctx, c.admin()); return err })
	return out, err
}

// CreateUser creates a login role.
func (b *Backend) CreateUser(ctx context.Context, name, user, password string, superuser bool) error {
	return b.withAdmin(name, func(c *conn) error { return pgadmin.CreateUser(ctx, c.admin(), user, password, superuser) })
}

// DropUser drops a role.
func (b *Backend) DropUser(ctx context.Context, name, user string) error {
	return b.withAdmin(name, func(c *conn) error { return pgadmin.DropUser(ctx, c.admin(), user) })
}

// CreateDatabase creates a database.
func (b *Backend) CreateDatabase(ctx context.Context, name, db string) error {
	return b.withAdmin(name, func(c *conn) error { return pgadmin.CreateDatabase(ctx, c.admin(), db) })
}

// DropDatabase drops a database.
func (b *Backend) DropDatabase(ctx context.Context, name, db string) error {
	return b.withAdmin(name, func(c *conn) error { return pgadmin.DropDatabase(ctx, c.admin(), db) })
}

// Direct is how to reach an external cluster's nodes from this machine.
type Direct struct {
	// Hosts are host:port pairs: every alive node's proxy (the leader's
	// first), or one member's own postgres.
	Hosts    []string
	User     string
	Password string
	SSLMode  string
}

// DirectConnect is the superuser's way in (pgtuiadmin when the
// credentials hold no superuser password); with machine, that member's
// own postgres, bypassing the proxy.
func (b *Backend) DirectConnect(ctx context.Context, name, machine string) (*Direct, error) {
	c, v, err := b.view(ctx, name)
	if err != nil {
		return nil, err
	}
	d := &Direct{User: pgadmin.AdminUser, Password: c.creds.AdminPassword, SSLMode: sslMode(v)}
	if c.creds.SuperuserPassword != "" {
		d.User, d.Password = "postgres", c.creds.SuperuserPassword
	}
	if machine == "" {
		d.Hosts = proxies(v)
		if len(d.Hosts) == 0 {
			return nil, fmt.Errorf("no node of %s is alive in etcd: see `pgtui status -a %s`", name, name)
		}
		return d, nil
	}
	for _, n := range nodes(v) {
		if n.name == machine && n.info != nil {
			d.Hosts = []string{n.pgAddr()}
			return d, nil
		}
	}
	return nil, fmt.Errorf("cluster %s has no member %q: see `pgtui status -a %s`", name, machine, name)
}
