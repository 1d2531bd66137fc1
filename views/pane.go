// Package views is the cockpit's kit: the Pane contract every screen
// implements, the Common dependencies they share, the messages panes use
// to talk to the shell in tui without importing it, small widgets
// (table, confirm dialog, prompt, poller, tasks) and the one theme file.
// Each pane lives in its own package below this one.
package views

import (
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/api"
)

// Route names a pane in the shell's registry.
type Route string

// The panes the shell can open.
const (
	RouteClusters Route = "clusters"
	RouteStatus   Route = "status"
	RouteUsers    Route = "users"
	RouteBackups  Route = "backups"
	RouteDBs      Route = "dbs"
	RouteCreate   Route = "create"
	RouteTimeline Route = "timeline"
	RouteChecks   Route = "checks"
	RouteLogs     Route = "logs"
	RouteMetrics  Route = "metrics"
	RouteMachine  Route = "machine"
	RouteConfig   Route = "config"
	RouteApps     Route = "apps"
	RoutePeers    Route = "wireguard"
)

// Args are what a pane is opened on.
type Args struct {
	Cluster string
	Machine string // the machine pane's machine
}

// Common is what every pane gets from the shell. PaneID is unique per
// pane instance; panes stamp it on their results so the shell can route
// them back (see ResultMsg).
type Common struct {
	Theme   *Theme
	Backend backend.Backend
	Clock   func() time.Time
	Width   int
	Height  int
	PaneID  int
	// Clipboard receives OSC 52 copy sequences; nil disables copying.
	Clipboard io.Writer
	// WireGuard reaches the platform's gateway (called off the update
	// loop); nil: this cockpit has none.
	WireGuard func() (api.WireGuard, error)
}

// Pane is one screen of the cockpit. Start begins refreshes and streams
// when the pane is shown, Stop ends them when it is hidden; results that
// arrive after Stop are dropped. Capturing is true while the pane wants
// every key (a focused field, an open dialog), so the shell does not
// treat q, esc, tab or : as its own.
type Pane interface {
	Init() tea.Cmd
	Update(tea.Msg) (Pane, tea.Cmd)
	View() string
	SetSize(width, height int)
	Title() string
	help.KeyMap
	Start() tea.Cmd
	Stop()
	Capturing() bool
}

// Closer is implemented by panes that hold something beyond their
// visibility (the wizard's deployment stream); the shell calls Close
// when the pane leaves the stack.
type Closer interface {
	Close()
}

// ClusterFocus is implemented by panes whose selection names a cluster
// (the clusters list), so palette commands can act on it.
type ClusterFocus interface {
	FocusedCluster() string
}
