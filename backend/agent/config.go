package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/hastate"
)

func (a *Agent) configRoutes(h func(string, func(*http.Request) (any, error))) {
	h("GET /v1/clusters/{name}/config", func(r *http.Request) (any, error) { return a.clusterConfig(r.Context(), r.PathValue("name")) })
	h("PATCH /v1/clusters/{name}/config", func(r *http.Request) (any, error) {
		var u backend.ConfigUpdate
		if err := decode(r, &u); err != nil {
			return nil, err
		}
		return a.updateConfig(r.Context(), r.PathValue("name"), u)
	})
}

func (a *Agent) clusterConfig(ctx context.Context, name string) (*backend.ClusterConfig, error) {
	if _, _, err := a.snapshot(name); err != nil {
		return nil, err
	}
	v, err := a.readView(ctx, name)
	if err != nil {
		return nil, err
	}
	if v.Data == nil {
		return nil, fmt.Errorf("cluster %s is not bootstrapped yet", name)
	}
	c := hastate.Config(v)
	if c.CA, err = readCA(a.cfg.Home, name); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *Agent) updateConfig(ctx context.Context, name string, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	if _, _, err := a.snapshot(name); err != nil {
		return nil, err
	}
	return hastate.UpdateConfig(ctx, a.store(name), u)
}
