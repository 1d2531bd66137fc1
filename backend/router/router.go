// Package router is the Backend the CLI and the cockpit use: it sends
// each call to the platform of the cluster it names, external (registered
// with `pgtui clusters add`) or local, so neither knows which. Apps and
// secrets live on the local platform. The local platform is reached only
// when a call needs it, so operating an external cluster never starts
// the agent.
package router

import (
	"context"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/external"
)

// Router dispatches by cluster name.
type Router struct {
	local func() (backend.Backend, error)
	ext   *external.Backend
}

var _ backend.Backend = (*Router)(nil)

// New routes registered names to ext and everything else to local.
func New(local func() (backend.Backend, error), ext *external.Backend) *Router {
	return &Router{local: local, ext: ext}
}

// Local is the local platform (its tunnel and agent calls).
func (r *Router) Local() (backend.Backend, error) { return r.local() }

// External is the external platform.
func (r *Router) External() *external.Backend { return r.ext }

func (r *Router) pick(cluster string) (backend.Backend, error) {
	if r.ext.Has(cluster) {
		return r.ext, nil
	}
	return r.local()
}

// DirectConnect says how to reach an external cluster's nodes from here;
// nil for a local one (it is reached through the tunnel).
func (r *Router) DirectConnect(ctx context.Context, cluster, machine string) (*external.Direct, error) {
	if !r.ext.Has(cluster) {
		return nil, nil
	}
	return r.ext.DirectConnect(ctx, cluster, machine)
}

// ListClusters lists the external clusters and the local ones; the local
// platform failing hides only its own.
func (r *Router) ListClusters(ctx context.Context) ([]backend.ClusterSummary, error) {
	out, err := r.ext.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	l, err := r.local()
	if err != nil {
		if len(out) > 0 {
			return out, nil
		}
		return nil, err
	}
	ls, err := l.ListClusters(ctx)
	if err != nil {
		if len(out) > 0 {
			return out, nil
		}
		return nil, err
	}
	for _, s := range ls {
		if r.ext.Has(s.Name) {
			continue // the registered one answers to this name
		}
		if s.Platform == "" {
			s.Platform = "local"
		}
		out = append(out, s)
	}
	return out, nil
}

// CreateCluster creates on the local platform; a name registered as
// external is refused.
func (r *Router) CreateCluster(ctx context.Context, req backend.CreateRequest) (<-chan backend.CreateEvent, error) {
	b, err := r.pick(req.Name)
	if err != nil {
		return nil, err
	}
	return b.CreateCluster(ctx, req)
}

func (r *Router) Status(ctx context.Context, cluster string) (*backend.ClusterStatus, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.Status(ctx, cluster)
}

func (r *Router) MachineStatus(ctx context.Context, cluster, id string) (*backend.MachineDetail, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.MachineStatus(ctx, cluster, id)
}

func (r *Router) Failover(ctx context.Context, cluster string) (*backend.FailoverResult, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.Failover(ctx, cluster)
}

func (r *Router) Restart(ctx context.Context, cluster string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.Restart(ctx, cluster)
}

func (r *Router) ScaleVM(ctx context.Context, cluster, size string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.ScaleVM(ctx, cluster, size)
}

func (r *Router) ScaleCount(ctx context.Context, cluster string, count int, region string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.ScaleCount(ctx, cluster, count, region)
}

func (r *Router) DestroyCluster(ctx context.Context, cluster string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.DestroyCluster(ctx, cluster)
}

func (r *Router) MachineAction(ctx context.Context, cluster, id string, a backend.MachineAction) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.MachineAction(ctx, cluster, id, a)
}

func (r *Router) ClusterConfig(ctx context.Context, cluster string) (*backend.ClusterConfig, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.ClusterConfig(ctx, cluster)
}

func (r *Router) UpdateConfig(ctx context.Context, cluster string, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.UpdateConfig(ctx, cluster, u)
}

func (r *Router) Metrics(ctx context.Context, cluster string) ([]backend.MachineMetrics, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.Metrics(ctx, cluster)
}

func (r *Router) MetricsStream(ctx context.Context, cluster string, every time.Duration) (<-chan backend.MetricsSample, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.MetricsStream(ctx, cluster, every)
}

func (r *Router) Logs(ctx context.Context, cluster string, f backend.LogFilter) (<-chan backend.LogLine, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.Logs(ctx, cluster, f)
}

func (r *Router) Checks(ctx context.Context, cluster string) ([]backend.Check, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.Checks(ctx, cluster)
}

func (r *Router) ListUsers(ctx context.Context, cluster string) ([]backend.User, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.ListUsers(ctx, cluster)
}

func (r *Router) ListDatabases(ctx context.Context, cluster string) ([]backend.Database, error) {
	b, err := r.pick(cluster)
	if err != nil {
		return nil, err
	}
	return b.ListDatabases(ctx, cluster)
}

func (r *Router) CreateUser(ctx context.Context, cluster, name, password string, superuser bool) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.CreateUser(ctx, cluster, name, password, superuser)
}

func (r *Router) DropUser(ctx context.Context, cluster, name string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.DropUser(ctx, cluster, name)
}

func (r *Router) CreateDatabase(ctx context.Context, cluster, name string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.CreateDatabase(ctx, cluster, name)
}

func (r *Router) DropDatabase(ctx context.Context, cluster, name string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.DropDatabase(ctx, cluster, name)
}

func (r *Router) Attach(ctx context.Context, req backend.AttachRequest) (*backend.Attachment, error) {
	b, err := r.pick(req.Cluster)
	if err != nil {
		return nil, err
	}
	return b.Attach(ctx, req)
}

func (r *Router) Detach(ctx context.Context, cluster, app string) error {
	b, err := r.pick(cluster)
	if err != nil {
		return err
	}
	return b.Detach(ctx, cluster, app)
}

// Apps and secrets: the local platform.

func (r *Router) CreateApp(ctx context.Context, name, org string) error {
	l, err := r.local()
	if err != nil {
		return err
	}
	return l.CreateApp(ctx, name, org)
}

func (r *Router) ListApps(ctx context.Context) ([]backend.App, error) {
	l, err := r.local()
	if err != nil {
		return nil, err
	}
	return l.ListApps(ctx)
}

func (r *Router) DestroyApp(ctx context.Context, name string) error {
	l, err := r.local()
	if err != nil {
		return err
	}
	return l.DestroyApp(ctx, name)
}

func (r *Router) ListSecrets(ctx context.Context, app string) ([]backend.Secret, error) {
	l, err := r.local()
	if err != nil {
		return nil, err
	}
	return l.ListSecrets(ctx, app)
}

func (r *Router) SetSecrets(ctx context.Context, app string, values map[string]string) error {
	l, err := r.local()
	if err != nil {
		return err
	}
	return l.SetSecrets(ctx, app, values)
}

func (r *Router) UnsetSecrets(ctx context.Context, app string, names []string) error {
	l, err := r.local()
	if err != nil {
		return err
	}
	return l.UnsetSecrets(ctx, app, names)
}

func (r *Router) AppEnv(ctx context.Context, app string) (map[string]string, error) {
	l, err := r.local()
	if err != nil {
		return nil, err
	}
	return l.AppEnv(ctx, app)
}
