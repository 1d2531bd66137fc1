package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	"github.com/pgtui/pgtui/views"
)

// command is one palette entry; quit has no route.
type command struct {
	name  string
	route views.Route
	quit  bool
}

// commands are what `:` offers, in the order help lists them.
var commands = []command{
	{name: "clusters", route: views.RouteClusters},
	{name: "status", route: views.RouteStatus},
	{name: "checks", route: views.RouteChecks},
	{name: "logs", route: views.RouteLogs},
	{name: "metrics", route: views.RouteMetrics},
	{name: "users", route: views.RouteUsers},
	{name: "dbs", route: views.RouteDBs},
	{name: "backups", route: views.RouteBackups},
	{name: "create", route: views.RouteCreate},
	{name: "timeline", route: views.RouteTimeline},
	{name: "config", route: views.RouteConfig},
	{name: "apps", route: views.RouteApps},
	{name: "wireguard", route: views.RoutePeers},
	{name: "quit", quit: true},
}

func commandNames() []string {
	out := make([]string, len(commands))
	for i, c := range commands {
		out[i] = c.name
	}
	return out
}

// completions are the command names that complete what is typed, or
// all of them while nothing (or no known prefix) is typed.
func completions(typed string) []string {
	word := strings.TrimPrefix(strings.TrimSpace(typed), ":")
	var out []string
	for _, name := range commandNames() {
		if word != "" && !strings.Contains(word, " ") && strings.HasPrefix(name, word) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return commandNames()
	}
	return out
}

// newPaletteInput is the `:` line, completing command names with tab.
func newPaletteInput(t *views.Theme) textinput.Model {
	in := t.NewInput(":", "")
	in.ShowSuggestions = true
	in.SetSuggestions(commandNames())
	return in
}

// parseCommand reads ":status [CLUSTER]"; a missing cluster is filled
// in by the caller from the current context.
func parseCommand(line string) (command, string, error) {
	fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), ":"))
	if len(fields) == 0 {
		return command{}, "", fmt.Errorf("empty command: try :%s", strings.Join(commandNames(), " :"))
	}
	for _, c := range commands {
		if c.name == fields[0] {
			if len(fields) > 2 {
				return command{}, "", fmt.Errorf(":%s takes at most one cluster name", c.name)
			}
			arg := ""
			if len(fields) == 2 {
				arg = fields[1]
			}
			return c, arg, nil
		}
	}
	return command{}, "", fmt.Errorf("unknown command :%s: try :%s", fields[0], strings.Join(commandNames(), " :"))
}
