package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/views"
)

// chrome is the lines the shell draws around the pane: the title bar,
// the footer and the status line.
const chrome = 3

// titleLines is the chrome above the pane: the title bar.
const titleLines = 1

func (m *Model) paneSize() (int, int) { return m.width, max(m.height-chrome, 1) }

func (m *Model) top() *entry {
	if len(m.stack) == 0 {
		return nil
	}
	return &m.stack[len(m.stack)-1]
}

// toTop gives msg to the top pane.
func (m *Model) toTop(msg tea.Msg) tea.Cmd {
	top := m.top()
	if top == nil {
		return nil
	}
	var cmd tea.Cmd
	top.pane, cmd = top.pane.Update(msg)
	return cmd
}

// route gives a result to the pane that asked for it, wherever it is in
// the stack; results of closed panes are dropped.
func (m *Model) route(r views.ResultMsg) tea.Cmd {
	for i := range m.stack {
		if m.stack[i].id == r.PaneID {
			var cmd tea.Cmd
			m.stack[i].pane, cmd = m.stack[i].pane.Update(r)
			return cmd
		}
	}
	return nil
}

// currentCluster is the cluster the user is looking at: the top pane's
// selection or argument, else the nearest one below it.
func (m *Model) currentCluster() string {
	for i := len(m.stack) - 1; i >= 0; i-- {
		e := m.stack[i]
		if f, ok := e.pane.(views.ClusterFocus); ok && f.FocusedCluster() != "" {
			return f.FocusedCluster()
		}
		if e.args.Cluster != "" {
			return e.args.Cluster
		}
	}
	return ""
}

// open shows a pane: one already open on the same route and args comes
// to the top, otherwise a new one is built and pushed.
func (m *Model) open(r views.Route, args views.Args) tea.Cmd {
	rt, ok := m.reg[r]
	if !ok {
		return views.Err(unknownRoute(r))
	}
	if m.opts.Backend == nil {
		if m.connectErr != nil {
			return views.Err(m.connectErr)
		}
		return views.Err(fmt.Errorf("the platform is still starting; try again in a moment"))
	}
	if rt.needCluster && args.Cluster == "" {
		return views.Err(fmt.Errorf(":%s needs a cluster: `:%s NAME`, or select one in :clusters", r, r))
	}
	if !rt.needCluster {
		args.Cluster = ""
	}
	for i, e := range m.stack {
		if e.route == r && e.args == args && r != views.RouteCreate {
			return m.raise(i)
		}
	}
	m.nextID++
	w, h := m.paneSize()
	c := views.Common{Theme: m.theme, Backend: m.opts.Backend, Clock: m.opts.Clock, Width: w, Height: h,
		PaneID: m.nextID, Clipboard: m.opts.Clipboard, WireGuard: m.opts.WireGuard}
	p := rt.build(c, args)
	if top := m.top(); top != nil {
		top.pane.Stop()
	}
	m.stack = append(m.stack, entry{id: m.nextID, route: r, args: args, pane: p})
	return tea.Batch(p.Init(), p.Start())
}

// raise brings stack[i] to the top.
func (m *Model) raise(i int) tea.Cmd {
	if i == len(m.stack)-1 {
		return nil
	}
	m.top().pane.Stop()
	e := m.stack[i]
	m.stack = append(append(m.stack[:i:i], m.stack[i+1:]...), e)
	return e.pane.Start()
}

// pop closes the top pane and shows the one below; the last pane stays.
func (m *Model) pop() tea.Cmd {
	if len(m.stack) < 2 {
		return nil
	}
	top := m.top()
	top.pane.Stop()
	if c, ok := top.pane.(views.Closer); ok {
		c.Close()
	}
	m.stack = m.stack[:len(m.stack)-1]
	return m.top().pane.Start()
}

// rotate shows the pane at the bottom of the stack, cycling through
// every open pane.
func (m *Model) rotate() tea.Cmd {
	if len(m.stack) < 2 {
		return nil
	}
	return m.raise(0)
}
