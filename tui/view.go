package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/views"
)

// View draws the title bar, the top pane (or the help overlay), the
// footer (key hints or the palette) and the status line.
func (m *Model) View() string {
	w, h := m.paneSize()
	body := ""
	switch top := m.top(); {
	case top != nil:
		body = top.pane.View()
	case m.connectErr != nil:
		body = m.theme.Bad.Render(views.Truncate("cannot reach the platform: "+m.connectErr.Error(), w)) + "\n" +
			m.theme.Dim.Render("q quits; `pgtui agent status` and the agent log say more")
	case m.opts.Backend == nil:
		body = m.theme.Dim.Render("Starting the local platform (agent and etcd)…")
	}
	if m.helpOn {
		body = m.helpView()
	}
	status := m.status.view(m.width)
	if m.paletteOn {
		status = m.theme.Dim.Render(views.Truncate("tab completes: "+strings.Join(completions(m.palette.Value()), " "), m.width))
	}
	return strings.Join([]string{m.titleBar(), clip(body, w, h), m.footer(), status}, "\n")
}

func (m *Model) titleBar() string {
	title := m.theme.Title.Render("pgtui") + " "
	return title + m.theme.Crumb.Render(m.crumbs(m.width-lipgloss.Width(title)))
}

// crumbs are the stack's titles, bottom to top; when they do not fit,
// the oldest give way so the current pane's title always shows.
func (m *Model) crumbs(width int) string {
	out := ""
	for i := len(m.stack) - 1; i >= 0; i-- {
		next := m.stack[i].pane.Title()
		if out != "" {
			next += " › " + out
		}
		if lipgloss.Width(next) > width-2 && out != "" {
			return "… " + out
		}
		out = next
	}
	return views.Truncate(out, width)
}

func (m *Model) footer() string {
	if m.paletteOn {
		return views.Truncate(m.palette.View(), m.width)
	}
	// bubbles/help overflows when not even its ellipsis fits: cut again.
	return views.Truncate(m.help.ShortHelpView(m.footerBindings()), m.width)
}

// footerBindings are the keys the footer shows: the help overlay's, or
// help, the top pane's and the other global keys.
func (m *Model) footerBindings() []key.Binding {
	if m.helpOn {
		return []key.Binding{m.keys.Close, m.keys.Quit}
	}
	top := m.top()
	if top == nil {
		return m.keys.ShortHelp() // still connecting: the global keys
	}
	global := m.keys.ShortHelp()
	var bindings []key.Binding
	if top.pane.Capturing() {
		global = nil
	} else {
		bindings = []key.Binding{global[0]}
		global = global[1:]
	}
	return append(append(bindings, top.pane.ShortHelp()...), global...)
}

// helpGroups are the overlay's columns: the global keys, then the top
// pane's groups.
func (m *Model) helpGroups() [][]key.Binding {
	groups := m.keys.FullHelp()
	if top := m.top(); top != nil {
		groups = append(groups, top.pane.FullHelp()...)
	}
	return groups
}

// helpView lays the groups out in columns, starting a new row when the
// next column would not fit.
func (m *Model) helpView() string {
	title := "Keys"
	if top := m.top(); top != nil {
		title += ": " + top.pane.Title()
	}
	var rows, row []string
	used := 0
	for _, g := range m.helpGroups() {
		col := m.help.FullHelpView([][]key.Binding{g})
		if col == "" {
			continue
		}
		width := lipgloss.Width(col) + 4
		if used+width > m.width && len(row) > 0 {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		row = append(row, col, "    ")
		used += width
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return m.theme.Header.Render(title) + "\n\n" + strings.Join(rows, "\n\n")
}

// clip fits s to exactly h lines, each cut to w cells.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = views.Truncate(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
