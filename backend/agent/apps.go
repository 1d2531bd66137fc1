package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/pgadmin"
)

func (a *Agent) appRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/apps", func(r *http.Request) (any, error) { return a.listApps(), nil })
	h("POST /v1/apps", func(r *http.Request) (any, error) {
		var req struct{ Name, Org string }
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, a.createApp(req.Name, req.Org)
	})
	h("DELETE /v1/apps/{app}", func(r *http.Request) (any, error) { return nil, a.destroyApp(r.Context(), r.PathValue("app")) })
	h("GET /v1/apps/{app}/secrets", func(r *http.Request) (any, error) { return a.listSecrets(r.PathValue("app")) })
	h("POST /v1/apps/{app}/secrets", func(r *http.Request) (any, error) {
		var req map[string]string
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, a.setSecrets(r.PathValue("app"), req)
	})
	h("POST /v1/apps/{app}/secrets/unset", func(r *http.Request) (any, error) {
		var names []string
		if err := decode(r, &names); err != nil {
			return nil, err
		}
		return nil, a.unsetSecrets(r.PathValue("app"), names)
	})
	h("GET /v1/apps/{app}/env", func(r *http.Request) (any, error) { return a.appEnv(r.PathValue("app")) })
	h("POST /v1/attach", func(r *http.Request) (any, error) {
		var req backend.AttachRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return a.attach(r.Context(), req)
	})
	h("POST /v1/detach", func(r *http.Request) (any, error) {
		var req backend.AttachRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, a.detach(r.Context(), req.Cluster, req.App)
	})
}

func (a *Agent) listClusters(ctx context.Context) ([]backend.ClusterSummary, error) {
	a.mu.Lock()
	names := make([]string, 0, len(a.state.Clusters))
	for n := range a.state.Clusters {
		names = append(names, n)
	}
	a.mu.Unlock()
	sort.Strings(names)
	out := []backend.ClusterSummary{}
	for _, n := range names {
		st, err := a.status(ctx, n)
		if err != nil {
			continue // destroyed meanwhile
		}
		c, _, _ := a.snapshot(n)
		out = append(out, backend.ClusterSummary{Name: n, Org: c.Org, Region: c.Region, State: st.Status, Leader: st.Leader,
			Healthy: st.Deployment.Healthy, Machines: st.Deployment.Desired})
	}
	return out, nil
}

func (a *Agent) machineDetail(ctx context.Context, name, id string) (*backend.MachineDetail, error) {
	st, err := a.status(ctx, name)
	if err != nil {
		return nil, err
	}
	c, _, _ := a.snapshot(name)
	for _, ms := range st.Machines {
		if ms.ID == id {
			return &backend.MachineDetail{MachineStatus: ms, Events: c.machine(id).Events}, nil
		}
	}
	return nil, notFound("machine", id)
}

func (a *Agent) createApp(name, org string) error {
	if err := backend.ValidateName(name); err != nil {
		return badRequest(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state.Apps[name] != nil || a.state.Clusters[name] != nil {
		return badRequest(fmt.Errorf("name %q is already taken: choose another name", name))
	}
	a.state.Apps[name] = &App{Name: name, Org: orDefault(org, "personal"), Created: time.Now().UTC(),
		Secrets: map[string]AppSecret{}, Attachments: map[string]*Attachment{}}
	return a.save()
}

func (a *Agent) listApps() []backend.App {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []backend.App{}
	for _, app := range a.state.Apps {
		out = append(out, backend.App{Name: app.Name, Org: app.Org, Created: app.Created})
	}
	for _, c := range a.state.Clusters {
		out = append(out, backend.App{Name: c.Name, Org: c.Org, Created: c.Created, Postgres: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (a *Agent) destroyApp(ctx context.Context, name string) error {
	a.mu.Lock()
	_, isCluster := a.state.Clusters[name]
	app := a.state.Apps[name]
	a.mu.Unlock()
	if isCluster {
		return a.destroy(ctx, name)
	}
	if app == nil {
		return notFound("app", name)
	}
	for cluster := range app.Attachments {
		if err := a.detach(ctx, cluster, name); err != nil {
			return fmt.Errorf("destroy %s: %w", name, err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.state.Apps, name)
	return a.save()
}

func (a *Agent) app(name string) (*App, error) {
	app := a.state.Apps[name]
	if app == nil {
		return nil, notFound("app", name)
	}
	return app, nil
}

func (a *Agent) listSecrets(name string) ([]backend.Secret, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.app(name)
	if err != nil {
		return nil, err
	}
	out := []backend.Secret{}
	for k, v := range app.Secrets {
		sum := sha256.Sum256([]byte(v.Value))
		out = append(out, backend.Secret{Name: k, Digest: hex.EncodeToString(sum[:8]), Created: v.Created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func validSecretName(k string) error { return pgadmin.ValidSecretName(k) }

func (a *Agent) setSecrets(name string, values map[string]string) error {
	for k := range values {
		if err := validSecretName(k); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.app(name)
	if err != nil {
		return err
	}
	for k, v := range values {
		app.Secrets[k] = AppSecret{Value: v, Created: time.Now().UTC()}
	}
	return a.save()
}

func (a *Agent) unsetSecrets(name string, names []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.app(name)
	if err != nil {
		return err
	}
	for _, k := range names {
		if _, ok := app.Secrets[k]; !ok {
			return badRequest(fmt.Errorf("app %s has no secret %s: see `pgtui secrets list -a %s`", name, k, name))
		}
	}
	for _, k := range names {
		delete(app.Secrets, k)
	}
	return a.save()
}

// appEnv returns the secrets with <cluster>.internal rewritten to an
// address that reaches the cluster's proxy from this machine.
func (a *Agent) appEnv(name string) (map[string]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.app(name)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range app.Secrets {
		out[k] = a.rewriteInternal(v.Value)
	}
	return out, nil
}

// rewriteInternal replaces the host of a postgres URL naming
// <cluster>.internal with a running machine's address; a.mu is held.
func (a *Agent) rewriteInternal(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return v
	}
	cluster, ok := strings.CutSuffix(u.Hostname(), ".internal")
	if !ok {
		return v
	}
	c := a.state.Clusters[cluster]
	if c == nil {
		return v
	}
	for _, m := range c.Machines {
		if p := a.procs[m.ID]; p != nil && p.running() {
			port := u.Port()
			if port == "" {
				port = "5432"
			}
			u.Host = net.JoinHostPort(m.IP, port)
			return u.String()
		}
	}
	return v
}

// attach creates a database and a user named after the app, and stores
// the connection string on the app. It undoes its steps on failure.
func (a *Agent) attach(ctx context.Context, req backend.AttachRequest) (*backend.Attachment, error) {
	db, user, variable, err := pgadmin.AttachNames(req)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	app, err := a.app(req.App)
	if err == nil && a.state.Clusters[req.Cluster] == nil {
		err = notFound("postgres cluster", req.Cluster)
	}
	if err == nil && app.Attachments[req.Cluster] != nil {
		err = badRequest(fmt.Errorf("app %s is already attached to %s: detach it first", req.App, req.Cluster))
	}
	if err == nil {
		if _, taken := app.Secrets[variable]; taken {
			err = badRequest(fmt.Errorf("app %s already has a secret %s: pass --variable-name or unset it", req.App, variable))
		}
	}
	a.mu.Unlock()
	if err != nil {
		return nil, err
	}
	q := url.Values{"sslmode": {"disable"}}
	if v, err := a.readView(ctx, req.Cluster); err != nil {
		return nil, err
	} else if v.Data == nil || !v.Data.Options.SSLDisabled {
		q = tlsQuery(a.cfg.Home, req.Cluster)
	}
	password := randomHex(16)
	if err := pgadmin.CreateAttachment(ctx, a.admin(req.Cluster), req.Cluster, db, user, password); err != nil {
		return nil, err
	}
	dsn := (&url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: req.Cluster + ".internal:5432",
		Path: "/" + db, RawQuery: q.Encode()}).String()
	a.mu.Lock()
	defer a.mu.Unlock()
	app.Secrets[variable] = AppSecret{Value: dsn, Created: time.Now().UTC()}
	app.Attachments[req.Cluster] = &Attachment{Cluster: req.Cluster, Database: db, User: user, Variable: variable}
	if err := a.save(); err != nil {
		return nil, err
	}
	return &backend.Attachment{App: req.App, Cluster: req.Cluster, Database: db, User: user, VariableName: variable, URL: dsn}, nil
}

// detach revokes and drops the app's role and removes its secret; the
// database stays.
func (a *Agent) detach(ctx context.Context, cluster, appName string) error {
	a.mu.Lock()
	app, err := a.app(appName)
	var att *Attachment
	if err == nil {
		att = app.Attachments[cluster]
		if att == nil {
			err = badRequest(fmt.Errorf("app %s is not attached to %s", appName, cluster))
		}
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if err := pgadmin.DropAttachment(ctx, a.admin(cluster), att.Database, att.User); err != nil {
		return fmt.Errorf("detach %s from %s: %w", appName, cluster, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(app.Secrets, att.Variable)
	delete(app.Attachments, cluster)
	return a.save()
}
