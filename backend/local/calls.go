package local

import (
	"context"

	"github.com/pgtui/pgtui/backend"
)

// The rest of backend.Backend: one request each.

func (c *Client) ListClusters(ctx context.Context) ([]backend.ClusterSummary, error) {
	var out []backend.ClusterSummary
	return out, c.do(ctx, "GET", "/v1/clusters", nil, &out)
}

func (c *Client) Status(ctx context.Context, name string) (*backend.ClusterStatus, error) {
	var out backend.ClusterStatus
	return &out, c.do(ctx, "GET", "/v1/clusters/"+esc(name), nil, &out)
}

func (c *Client) MachineStatus(ctx context.Context, name, id string) (*backend.MachineDetail, error) {
	var out backend.MachineDetail
	return &out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/machines/"+esc(id), nil, &out)
}

func (c *Client) Checks(ctx context.Context, name string) ([]backend.Check, error) {
	var out []backend.Check
	return out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/checks", nil, &out)
}

func (c *Client) Failover(ctx context.Context, name string) (*backend.FailoverResult, error) {
	var out backend.FailoverResult
	return &out, c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/failover", nil, &out)
}

func (c *Client) Restart(ctx context.Context, name string) error {
	return c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/restart", nil, nil)
}

func (c *Client) ScaleVM(ctx context.Context, name, size string) error {
	return c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/scale", map[string]any{"vm_size": size}, nil)
}

func (c *Client) ScaleCount(ctx context.Context, name string, count int, region string) error {
	return c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/scale", map[string]any{"count": count, "region": region}, nil)
}

func (c *Client) DestroyCluster(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/clusters/"+esc(name), nil, nil)
}

func (c *Client) MachineAction(ctx context.Context, name, id string, act backend.MachineAction) error {
	return c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/machines/"+esc(id)+"/"+esc(string(act)), nil, nil)
}

func (c *Client) ListUsers(ctx context.Context, name string) ([]backend.User, error) {
	var out []backend.User
	return out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/users", nil, &out)
}

func (c *Client) ListDatabases(ctx context.Context, name string) ([]backend.Database, error) {
	var out []backend.Database
	return out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/databases", nil, &out)
}

func (c *Client) CreateUser(ctx context.Context, name, user, password string, superuser bool) error {
	return c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/users",
		map[string]any{"name": user, "password": password, "superuser": superuser}, nil)
}

func (c *Client) DropUser(ctx context.Context, name, user string) error {
	return c.do(ctx, "DELETE", "/v1/clusters/"+esc(name)+"/users/"+esc(user), nil, nil)
}

func (c *Client) CreateDatabase(ctx context.Context, name, db string) error {
	return c.do(ctx, "POST", "/v1/clusters/"+esc(name)+"/databases", map[string]any{"name": db}, nil)
}

func (c *Client) DropDatabase(ctx context.Context, name, db string) error {
	return c.do(ctx, "DELETE", "/v1/clusters/"+esc(name)+"/databases/"+esc(db), nil, nil)
}

func (c *Client) Attach(ctx context.Context, req backend.AttachRequest) (*backend.Attachment, error) {
	var out backend.Attachment
	return &out, c.do(ctx, "POST", "/v1/attach", req, &out)
}

func (c *Client) Detach(ctx context.Context, cluster, app string) error {
	return c.do(ctx, "POST", "/v1/detach", backend.AttachRequest{Cluster: cluster, App: app}, nil)
}

func (c *Client) CreateApp(ctx context.Context, name, org string) error {
	return c.do(ctx, "POST", "/v1/apps", map[string]string{"Name": name, "Org": org}, nil)
}

func (c *Client) ListApps(ctx context.Context) ([]backend.App, error) {
	var out []backend.App
	return out, c.do(ctx, "GET", "/v1/apps", nil, &out)
}

func (c *Client) DestroyApp(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/apps/"+esc(name), nil, nil)
}

func (c *Client) ListSecrets(ctx context.Context, app string) ([]backend.Secret, error) {
	var out []backend.Secret
	return out, c.do(ctx, "GET", "/v1/apps/"+esc(app)+"/secrets", nil, &out)
}

func (c *Client) SetSecrets(ctx context.Context, app string, values map[string]string) error {
	return c.do(ctx, "POST", "/v1/apps/"+esc(app)+"/secrets", values, nil)
}

func (c *Client) UnsetSecrets(ctx context.Context, app string, names []string) error {
	return c.do(ctx, "POST", "/v1/apps/"+esc(app)+"/secrets/unset", names, nil)
}

func (c *Client) AppEnv(ctx context.Context, app string) (map[string]string, error) {
	out := map[string]string{}
	return out, c.do(ctx, "GET", "/v1/apps/"+esc(app)+"/env", nil, &out)
}

func (c *Client) ClusterConfig(ctx context.Context, name string) (*backend.ClusterConfig, error) {
	var out backend.ClusterConfig
	return &out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/config", nil, &out)
}

func (c *Client) UpdateConfig(ctx context.Context, name string, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	var out backend.ClusterConfig
	return &out, c.do(ctx, "PATCH", "/v1/clusters/"+esc(name)+"/config", u, &out)
}

func (c *Client) Metrics(ctx context.Context, name string) ([]backend.MachineMetrics, error) {
	var out []backend.MachineMetrics
	return out, c.do(ctx, "GET", "/v1/clusters/"+esc(name)+"/metrics", nil, &out)
}
