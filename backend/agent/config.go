package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/nodeimage"
	"github.com/pgtui/pgtui/nodeimage/cluster"
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
	return configOf(v.Data, v.Members[v.Data.Leader]), nil
}

func configOf(cd *cluster.Data, leader cluster.MemberState) *backend.ClusterConfig {
	o := cd.Options
	c := &backend.ClusterConfig{SSL: !o.SSLDisabled, ReadOnlyBelowPct: o.ReadOnlyThreshold() * 100, SyncMode: o.SyncMode,
		Strict: o.Strict, MaxLagBytes: o.MaxLagBytes}
	if leader.Info != nil {
		c.ReadOnly, c.FreePct = leader.Info.ReadOnly, leader.Info.FreePct
	}
	return c
}

func (a *Agent) updateConfig(ctx context.Context, name string, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	if _, _, err := a.snapshot(name); err != nil {
		return nil, err
	}
	if u.ReadOnlyBelowPct != nil && (*u.ReadOnlyBelowPct < 0 || *u.ReadOnlyBelowPct > 99) {
		return nil, badRequest(fmt.Errorf("read-only threshold %.1f%% is out of range: choose 0 (off) to 99", *u.ReadOnlyBelowPct))
	}
	if u.MaxLagBytes != nil && *u.MaxLagBytes < 0 {
		return nil, badRequest(fmt.Errorf("max lag %d is negative", *u.MaxLagBytes))
	}
	cd, err := nodeimage.UpdateOptions(ctx, a.store(name), func(o *cluster.Options) error {
		if u.SSL != nil {
			o.SSLDisabled = !*u.SSL
		}
		if u.ReadOnlyBelowPct != nil {
			o.ReadOnlyBelowPct = *u.ReadOnlyBelowPct
			if o.ReadOnlyBelowPct == 0 {
				o.ReadOnlyBelowPct = -1 // 0 from the user means off
			}
		}
		if u.MaxLagBytes != nil {
			o.MaxLagBytes = *u.MaxLagBytes
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return configOf(cd, cluster.MemberState{}), nil
}
