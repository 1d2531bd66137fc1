package apps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// app is a row: the app and its secrets' names and digests (never
// their values).
type app struct {
	backend.App
	secrets []backend.Secret
}

// fetch lists the apps and each user app's secrets.
func fetch(b backend.Backend) func(ctx context.Context) ([]app, error) {
	return func(ctx context.Context) ([]app, error) {
		as, err := b.ListApps(ctx)
		if err != nil {
			return nil, fmt.Errorf("list apps: %w", err)
		}
		slices.SortFunc(as, func(a, b backend.App) int { return strings.Compare(a.Name, b.Name) })
		out := make([]app, len(as))
		for i, a := range as {
			out[i].App = a
			if a.Postgres {
				continue // a cluster's own app keeps no user secrets
			}
			if out[i].secrets, err = b.ListSecrets(ctx, a.Name); err != nil {
				return nil, fmt.Errorf("secrets of %s: %w", a.Name, err)
			}
		}
		return out, nil
	}
}

// attach creates a database and user on cluster for the app and sets
// its connection secret, as `postgres attach` does. The URL (with the
// password) stays in the app's secret: the pane never shows it.
func attach(b backend.Backend, id int, req backend.AttachRequest) tea.Cmd {
	return views.RunTask(views.Task{ID: "attach", PaneID: id,
		Start: fmt.Sprintf("Attaching %s to %s…", req.App, req.Cluster),
		Done:  fmt.Sprintf("Attached %s to %s", req.App, req.Cluster),
		Run: func(ctx context.Context) (any, error) {
			att, err := b.Attach(ctx, req)
			if err != nil {
				return nil, fmt.Errorf("attach %s to %s: %w", req.App, req.Cluster, err)
			}
			return att.VariableName, nil
		}})
}

// detach removes the app's user and secret from cluster.
func detach(b backend.Backend, id int, cluster, app string) tea.Cmd {
	return views.RunTask(views.Task{ID: "detach", PaneID: id,
		Start: fmt.Sprintf("Detaching %s from %s…", app, cluster),
		Done:  fmt.Sprintf("Detached %s from %s", app, cluster),
		Run: func(ctx context.Context) (any, error) {
			if err := b.Detach(ctx, cluster, app); err != nil {
				return nil, fmt.Errorf("detach %s from %s: %w", app, cluster, err)
			}
			return nil, nil
		}})
}

// parseAttach checks the attach prompt: cluster, then the optional
// database, user and variable names.
func parseAttach(app string, v []string) (backend.AttachRequest, error) {
	req := backend.AttachRequest{App: app, Cluster: v[0], DatabaseName: v[1], DatabaseUser: v[2], VariableName: v[3]}
	if err := backend.ValidateName(req.Cluster); err != nil {
		return req, fmt.Errorf("cluster: %w", err)
	}
	for _, id := range []string{req.DatabaseName, req.DatabaseUser} {
		if id == "" {
			continue
		}
		if err := backend.ValidateIdentifier(id); err != nil {
			return req, err
		}
	}
	return req, nil
}
