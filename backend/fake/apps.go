package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
)

type app struct {
	name, org   string
	created     time.Time
	secrets     map[string]secret
	attachments map[string]backend.Attachment // by cluster
}

type secret struct {
	value   string
	created time.Time
}

// app looks an app up; b.mu is held.
func (b *Backend) app(name string) (*app, error) {
	a := b.apps[name]
	if a == nil {
		return nil, notFound("app", name)
	}
	return a, nil
}

// AddApp creates an app without recording a call: test setup.
func (b *Backend) AddApp(name, org string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.createApp(name, org)
}

// CreateApp creates an app that can hold secrets.
func (b *Backend) CreateApp(_ context.Context, name, org string) error {
	b.record("CreateApp")
	defer b.mu.Unlock()
	return b.createApp(name, org)
}

func (b *Backend) createApp(name, org string) error {
	if err := backend.ValidateName(name); err != nil {
		return err
	}
	if b.apps[name] != nil || b.clusters[name] != nil {
		return fmt.Errorf("name %q is already taken: choose another name", name)
	}
	b.apps[name] = &app{name: name, org: orDefault(org, "personal"), created: b.now(),
		secrets: map[string]secret{}, attachments: map[string]backend.Attachment{}}
	return nil
}

// ListApps lists apps and postgres clusters by name.
func (b *Backend) ListApps(context.Context) ([]backend.App, error) {
	b.record("ListApps")
	defer b.mu.Unlock()
	out := []backend.App{}
	for _, a := range b.apps {
		out = append(out, backend.App{Name: a.name, Org: a.org, Created: a.created})
	}
	for _, c := range b.clusters {
		out = append(out, backend.App{Name: c.name, Org: c.org, Created: c.created, Postgres: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DestroyApp removes an app (detaching it first) or a postgres cluster.
func (b *Backend) DestroyApp(_ context.Context, name string) error {
	b.record("DestroyApp")
	defer b.mu.Unlock()
	if b.clusters[name] != nil {
		return b.destroyCluster(name)
	}
	a, err := b.app(name)
	if err != nil {
		return err
	}
	for cluster, att := range a.attachments {
		if c := b.clusters[cluster]; c != nil {
			delete(c.users, att.User)
		}
	}
	delete(b.apps, name)
	return nil
}

// ListSecrets lists names and digests, never values.
func (b *Backend) ListSecrets(_ context.Context, name string) ([]backend.Secret, error) {
	b.record("ListSecrets")
	defer b.mu.Unlock()
	a, err := b.app(name)
	if err != nil {
		return nil, err
	}
	out := []backend.Secret{}
	for _, k := range sortedKeys(a.secrets) {
		sum := sha256.Sum256([]byte(a.secrets[k].value))
		out = append(out, backend.Secret{Name: k, Digest: hex.EncodeToString(sum[:8]), Created: a.secrets[k].created})
	}
	return out, nil
}

// SetSecrets sets or replaces secrets.
func (b *Backend) SetSecrets(_ context.Context, name string, values map[string]string) error {
	b.record("SetSecrets")
	defer b.mu.Unlock()
	a, err := b.app(name)
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(values) {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			return fmt.Errorf("secret name %q is not valid: use letters, digits and '_'", k)
		}
	}
	t := b.now()
	for k, v := range values {
		a.secrets[k] = secret{value: v, created: t}
	}
	return nil
}

// UnsetSecrets removes secrets; an unknown name fails the whole call.
func (b *Backend) UnsetSecrets(_ context.Context, name string, names []string) error {
	b.record("UnsetSecrets")
	defer b.mu.Unlock()
	a, err := b.app(name)
	if err != nil {
		return err
	}
	for _, k := range names {
		if _, ok := a.secrets[k]; !ok {
			return fmt.Errorf("app %s has no secret %s: see `pgtui secrets list -a %s`", name, k, name)
		}
	}
	for _, k := range names {
		delete(a.secrets, k)
	}
	return nil
}

// AppEnv returns the secrets with <cluster>.internal hosts rewritten to
// the leader's private address, as the agent does.
func (b *Backend) AppEnv(_ context.Context, name string) (map[string]string, error) {
	b.record("AppEnv")
	defer b.mu.Unlock()
	a, err := b.app(name)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, s := range a.secrets {
		out[k] = b.rewriteInternal(s.value)
	}
	return out, nil
}

// rewriteInternal points a URL at <cluster>.internal to the leader; b.mu is held.
func (b *Backend) rewriteInternal(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return v
	}
	name, ok := strings.CutSuffix(u.Hostname(), ".internal")
	c := b.clusters[name]
	if !ok || c == nil {
		return v
	}
	for _, m := range c.machines {
		if m.status.ID == c.leader {
			port := u.Port()
			if port == "" {
				port = "5432"
			}
			u.Host = net.JoinHostPort(m.status.PrivateIP, port)
			return u.String()
		}
	}
	return v
}
