package tui

import (
	"fmt"

	"github.com/pgtui/pgtui/views"
	"github.com/pgtui/pgtui/views/apps"
	"github.com/pgtui/pgtui/views/backups"
	"github.com/pgtui/pgtui/views/checks"
	"github.com/pgtui/pgtui/views/clusters"
	"github.com/pgtui/pgtui/views/config"
	"github.com/pgtui/pgtui/views/dbs"
	"github.com/pgtui/pgtui/views/logs"
	"github.com/pgtui/pgtui/views/machine"
	"github.com/pgtui/pgtui/views/metrics"
	"github.com/pgtui/pgtui/views/status"
	"github.com/pgtui/pgtui/views/timeline"
	"github.com/pgtui/pgtui/views/users"
	"github.com/pgtui/pgtui/views/wireguard"
	"github.com/pgtui/pgtui/views/wizard"
)

// builder makes a pane (k9s' registrar: route -> constructor).
type builder func(views.Common, views.Args) views.Pane

// route is a registry entry.
type route struct {
	build       builder
	needCluster bool
}

// registry lists the panes the shell can open.
func registry() map[views.Route]route {
	return map[views.Route]route{
		views.RouteClusters: {build: func(c views.Common, a views.Args) views.Pane { return clusters.New(c, a) }},
		views.RouteCreate:   {build: func(c views.Common, a views.Args) views.Pane { return wizard.New(c, a) }},
		views.RouteStatus:   {build: func(c views.Common, a views.Args) views.Pane { return status.New(c, a) }, needCluster: true},
		views.RouteUsers:    {build: func(c views.Common, a views.Args) views.Pane { return users.New(c, a) }, needCluster: true},
		views.RouteDBs:      {build: func(c views.Common, a views.Args) views.Pane { return dbs.New(c, a) }, needCluster: true},
		views.RouteBackups:  {build: func(c views.Common, a views.Args) views.Pane { return backups.New(c, a) }, needCluster: true},
		views.RouteTimeline: {build: func(c views.Common, a views.Args) views.Pane { return timeline.New(c, a) }, needCluster: true},
		views.RouteChecks:   {build: func(c views.Common, a views.Args) views.Pane { return checks.New(c, a) }, needCluster: true},
		views.RouteLogs:     {build: func(c views.Common, a views.Args) views.Pane { return logs.New(c, a) }, needCluster: true},
		views.RouteMetrics:  {build: func(c views.Common, a views.Args) views.Pane { return metrics.New(c, a) }, needCluster: true},
		views.RouteApps:     {build: func(c views.Common, a views.Args) views.Pane { return apps.New(c, a) }},
		views.RoutePeers:    {build: func(c views.Common, a views.Args) views.Pane { return wireguard.New(c, a) }},
		views.RouteConfig:   {build: func(c views.Common, a views.Args) views.Pane { return config.New(c, a) }, needCluster: true},
		views.RouteMachine:  {build: func(c views.Common, a views.Args) views.Pane { return machine.New(c, a) }, needCluster: true},
	}
}

// unknownRoute is an OpenPaneMsg for a pane the registry lacks.
func unknownRoute(r views.Route) error { return fmt.Errorf("no pane %q", r) }
