package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/pgtui/pgtui/backend"
)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ListUsers lists login roles; each may connect to every database, as
// PUBLIC's default CONNECT grant allows.
func (b *Backend) ListUsers(_ context.Context, name string) ([]backend.User, error) {
	b.record("ListUsers")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	out := []backend.User{}
	for _, u := range sortedKeys(c.users) {
		out = append(out, backend.User{Name: u, Superuser: c.users[u], Databases: sortedKeys(c.dbs)})
	}
	return out, nil
}

// ListDatabases lists databases with the users that may connect.
func (b *Backend) ListDatabases(_ context.Context, name string) ([]backend.Database, error) {
	b.record("ListDatabases")
	defer b.mu.Unlock()
	c, err := b.cluster(name)
	if err != nil {
		return nil, err
	}
	out := []backend.Database{}
	for _, d := range sortedKeys(c.dbs) {
		out = append(out, backend.Database{Name: d, Users: sortedKeys(c.users)})
	}
	return out, nil
}

// CreateUser adds a login role.
func (b *Backend) CreateUser(_ context.Context, name, user, password string, superuser bool) error {
	b.record("CreateUser")
	defer b.mu.Unlock()
	return b.createUser(name, user, password, superuser)
}

// createUser is CreateUser without the bookkeeping; b.mu is held.
func (b *Backend) createUser(name, user, password string, superuser bool) error {
	if err := backend.ValidateIdentifier(user); err != nil {
		return err
	}
	if password == "" {
		return fmt.Errorf("password is empty")
	}
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	if _, ok := c.users[user]; ok {
		return fmt.Errorf("create user %s: role %q already exists", user, user)
	}
	c.users[user] = superuser
	return nil
}

func builtinRole(name string) bool {
	return name == "postgres" || name == "pgtuiadmin" || name == "repluser"
}

// DropUser removes a login role; built-in roles are refused.
func (b *Backend) DropUser(_ context.Context, name, user string) error {
	b.record("DropUser")
	defer b.mu.Unlock()
	if builtinRole(user) {
		return fmt.Errorf("%s is a built-in role and cannot be deleted", user)
	}
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	if _, ok := c.users[user]; !ok {
		return fmt.Errorf("delete user %s: role %q does not exist", user, user)
	}
	delete(c.users, user)
	return nil
}

// CreateDatabase adds a database.
func (b *Backend) CreateDatabase(_ context.Context, name, db string) error {
	b.record("CreateDatabase")
	defer b.mu.Unlock()
	if err := backend.ValidateIdentifier(db); err != nil {
		return err
	}
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	if c.dbs[db] {
		return fmt.Errorf("create database %s: database %q already exists", db, db)
	}
	c.dbs[db] = true
	return nil
}

// DropDatabase removes a database; postgres is refused.
func (b *Backend) DropDatabase(_ context.Context, name, db string) error {
	b.record("DropDatabase")
	defer b.mu.Unlock()
	if db == "postgres" {
		return fmt.Errorf("database %s cannot be deleted", db)
	}
	c, err := b.cluster(name)
	if err != nil {
		return err
	}
	if !c.dbs[db] {
		return fmt.Errorf("delete database %s: database %q does not exist", db, db)
	}
	delete(c.dbs, db)
	return nil
}

// Attach creates a user and database named after the app (dashes become
// underscores) and stores the connection string as the app's secret,
// following the agent's rules.
func (b *Backend) Attach(_ context.Context, req backend.AttachRequest) (*backend.Attachment, error) {
	b.record("Attach")
	defer b.mu.Unlock()
	if err := backend.ValidateName(req.App); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	att := backend.Attachment{App: req.App, Cluster: req.Cluster,
		Database:     orDefault(req.DatabaseName, strings.ReplaceAll(req.App, "-", "_")),
		User:         orDefault(req.DatabaseUser, strings.ReplaceAll(req.App, "-", "_")),
		VariableName: orDefault(req.VariableName, "DATABASE_URL")}
	a, err := b.app(req.App)
	if err != nil {
		return nil, err
	}
	c, err := b.cluster(req.Cluster)
	if err != nil {
		return nil, err
	}
	if _, ok := a.attachments[req.Cluster]; ok {
		return nil, fmt.Errorf("app %s is already attached to %s: detach it first", req.App, req.Cluster)
	}
	if _, taken := a.secrets[att.VariableName]; taken {
		return nil, fmt.Errorf("app %s already has a secret %s: pass --variable-name or unset it", req.App, att.VariableName)
	}
	sum := sha256.Sum256([]byte(req.App + "@" + req.Cluster))
	password := hex.EncodeToString(sum[:16])
	if err := b.createUser(req.Cluster, att.User, password, false); err != nil {
		return nil, err
	}
	c.dbs[att.Database] = true
	att.URL = (&url.URL{Scheme: "postgres", User: url.UserPassword(att.User, password), Host: req.Cluster + ".internal:5432",
		Path: "/" + att.Database, RawQuery: "sslmode=disable"}).String()
	a.secrets[att.VariableName] = secret{value: att.URL, created: b.now()}
	a.attachments[req.Cluster] = att
	return &att, nil
}

// Detach drops the app's user and secret; the database stays.
func (b *Backend) Detach(_ context.Context, cluster, app string) error {
	b.record("Detach")
	defer b.mu.Unlock()
	a, err := b.app(app)
	if err != nil {
		return err
	}
	att, ok := a.attachments[cluster]
	if !ok {
		return fmt.Errorf("app %s is not attached to %s", app, cluster)
	}
	if c := b.clusters[cluster]; c != nil {
		delete(c.users, att.User)
	}
	delete(a.secrets, att.VariableName)
	delete(a.attachments, cluster)
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
