package wizard

import (
	"context"
	"fmt"

	"github.com/pgtui/pgtui/backend"
)

// drainMax bounds how many queued events one message carries.
const drainMax = 64

// create starts the deployment. ctx lives as long as the pane (Close
// cancels it); the agent keeps deploying either way.
func create(b backend.Backend, req backend.CreateRequest) func(ctx context.Context) (<-chan backend.CreateEvent, error) {
	return func(ctx context.Context) (<-chan backend.CreateEvent, error) {
		ch, err := b.CreateCluster(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", req.Name, err)
		}
		return ch, nil
	}
}

// connURL is what the copy key copies: the URL that works from this
// machine when the backend gave one, else the seed's private-network URL.
func connURL(c backend.Credentials, fallback string) string {
	if c.LocalURL != "" {
		return c.LocalURL
	}
	return fallback
}
