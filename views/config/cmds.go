package config

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// fetch reads the cluster's settings.
func fetch(b backend.Backend, cluster string) func(ctx context.Context) (*backend.ClusterConfig, error) {
	return func(ctx context.Context) (*backend.ClusterConfig, error) {
		c, err := b.ClusterConfig(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("settings of %s: %w", cluster, err)
		}
		return c, nil
	}
}

// update changes settings as `postgres config update` does.
func update(b backend.Backend, id int, cluster, what string, u backend.ConfigUpdate) tea.Cmd {
	return views.RunTask(views.Task{ID: "config", PaneID: id,
		Start: fmt.Sprintf("Changing %s of %s…", what, cluster),
		Done:  fmt.Sprintf("Changed %s of %s", what, cluster),
		Run: func(ctx context.Context) (any, error) {
			c, err := b.UpdateConfig(ctx, cluster, u)
			if err != nil {
				return nil, fmt.Errorf("change %s of %s: %w", what, cluster, err)
			}
			return c, nil
		}})
}

// parsePct reads a read-only threshold: 0 (never) to 50 percent.
func parsePct(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 || v > 50 {
		return 0, fmt.Errorf("read-only threshold %q: give a percentage from 0 (never) to 50", s)
	}
	return v, nil
}

// parseBytes reads a max lag in bytes (at least 0).
func parseBytes(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("max lag %q: give a whole number of bytes, 0 or more", s)
	}
	return v, nil
}
