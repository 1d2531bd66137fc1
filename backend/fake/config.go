package fake

import (
	"context"

	"github.com/pgtui/pgtui/backend"
)

// ClusterConfig returns the defaults: TLS on, read-only below 10% free.
func (b *Backend) ClusterConfig(ctx context.Context, name string) (*backend.ClusterConfig, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.cluster(name); err != nil {
		return nil, err
	}
	return &backend.ClusterConfig{SSL: true, ReadOnlyBelowPct: 10, SyncMode: true, MaxLagBytes: 1 << 20, FreePct: 83.9}, nil
}

// UpdateConfig applies the changes to a copy of the defaults.
func (b *Backend) UpdateConfig(ctx context.Context, name string, u backend.ConfigUpdate) (*backend.ClusterConfig, error) {
	c, err := b.ClusterConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	if u.SSL != nil {
		c.SSL = *u.SSL
	}
	if u.ReadOnlyBelowPct != nil {
		c.ReadOnlyBelowPct = *u.ReadOnlyBelowPct
	}
	if u.MaxLagBytes != nil {
		c.MaxLagBytes = *u.MaxLagBytes
	}
	if u.ReadOnly != nil {
		c.ReadOnlyByHand, c.ReadOnly = *u.ReadOnly, *u.ReadOnly
		if *u.ReadOnly {
			c.ReadOnlyReason = "set by hand (pgtui postgres config update --read-write undoes it)"
		}
	}
	return c, nil
}
