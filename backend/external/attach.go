package external

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/pgadmin"
)

// attachment is what attach made, kept so detach can undo it.
type attachment struct {
	Database string `json:"database"`
	User     string `json:"user"`
	Variable string `json:"variable"`
}

func (r *Registry) attachmentsPath(name string) string {
	return filepath.Join(r.clusterDir(name), "attachments.json")
}

func (r *Registry) attachments(name string) (map[string]attachment, error) {
	out := map[string]attachment{}
	b, err := os.ReadFile(r.attachmentsPath(name))
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("attachments of %s: %w", name, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("attachments of %s: %w", name, err)
	}
	return out, nil
}

func (r *Registry) saveAttachments(name string, as map[string]attachment) error {
	b, err := json.MarshalIndent(as, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile0600(r.attachmentsPath(name), append(b, '\n')); err != nil {
		return fmt.Errorf("attachments of %s: %w", name, err)
	}
	return nil
}

// Attach creates a database and a user for the app on the cluster and
// stores the connection string (every node's proxy, TLS, read-write
// session) as the app's secret. It undoes its steps on failure.
func (b *Backend) Attach(ctx context.Context, req backend.AttachRequest) (*backend.Attachment, error) {
	db, user, variable, err := pgadmin.AttachNames(req)
	if err != nil {
		return nil, err
	}
	c, err := b.open(req.Cluster)
	if err != nil {
		return nil, err
	}
	atts, err := b.reg.attachments(req.Cluster)
	if err != nil {
		return nil, err
	}
	if _, ok := atts[req.App]; ok {
		return nil, backend.InputError{Err: fmt.Errorf("app %s is already attached to %s: detach it first", req.App, req.Cluster)}
	}
	apps, err := b.apps()
	if err != nil {
		return nil, err
	}
	if err := appReady(ctx, apps, req.App, variable); err != nil {
		return nil, err
	}
	v, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	hosts := proxies(v)
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no node of %s is alive in etcd: see `pgtui status -a %s`", req.Cluster, req.Cluster)
	}
	password := randHex(16)
	if err := pgadmin.CreateAttachment(ctx, c.admin(), req.Cluster, db, user, password); err != nil {
		return nil, err
	}
	q := url.Values{"sslmode": {sslMode(v)}, "target_session_attrs": {"read-write"}}
	dsn := (&url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: strings.Join(hosts, ","),
		Path: "/" + db, RawQuery: q.Encode()}).String()
	undo := func(err error) error {
		if uerr := pgadmin.DropAttachment(context.WithoutCancel(ctx), c.admin(), db, user); uerr != nil {
			return fmt.Errorf("%w (and undoing the attachment failed: %v)", err, uerr)
		}
		return err
	}
	if err := apps.SetSecrets(ctx, req.App, map[string]string{variable: dsn}); err != nil {
		return nil, undo(fmt.Errorf("store %s on %s: %w", variable, req.App, err))
	}
	atts[req.App] = attachment{Database: db, User: user, Variable: variable}
	if err := b.reg.saveAttachments(req.Cluster, atts); err != nil {
		_ = apps.UnsetSecrets(context.WithoutCancel(ctx), req.App, []string{variable})
		return nil, undo(err)
	}
	return &backend.Attachment{App: req.App, Cluster: req.Cluster, Database: db, User: user, VariableName: variable, URL: dsn}, nil
}

// appReady checks the app exists and its variable is free.
func appReady(ctx context.Context, apps Apps, app, variable string) error {
	list, err := apps.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("apps: %w", err)
	}
	found := false
	for _, a := range list {
		found = found || a.Name == app
	}
	if !found {
		return fmt.Errorf("app %q not found: create it with `pgtui apps create %s`", app, app)
	}
	secrets, err := apps.ListSecrets(ctx, app)
	if err != nil {
		return fmt.Errorf("secrets of %s: %w", app, err)
	}
	for _, s := range secrets {
		if s.Name == variable {
			return backend.InputError{Err: fmt.Errorf("app %s already has a secret %s: pass --variable-name or unset it", app, variable)}
		}
	}
	return nil
}

// Detach drops the app's user (what it owns goes to postgres; the
// database stays) and removes its secret.
func (b *Backend) Detach(ctx context.Context, name, app string) error {
	c, err := b.open(name)
	if err != nil {
		return err
	}
	atts, err := b.reg.attachments(name)
	if err != nil {
		return err
	}
	att, ok := atts[app]
	if !ok {
		return backend.InputError{Err: fmt.Errorf("app %s is not attached to %s", app, name)}
	}
	if err := pgadmin.DropAttachment(ctx, c.admin(), att.Database, att.User); err != nil {
		return fmt.Errorf("detach %s from %s: %w", app, name, err)
	}
	apps, err := b.apps()
	if err == nil {
		err = apps.UnsetSecrets(ctx, app, []string{att.Variable})
	}
	if err != nil {
		return fmt.Errorf("detach %s from %s: the user is dropped but the secret %s stays: %w", app, name, att.Variable, err)
	}
	delete(atts, app)
	return b.reg.saveAttachments(name, atts)
}
