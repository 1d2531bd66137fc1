package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/pgtui/pgtui/views"
)

// onMouse routes a mouse event: on the body it goes to the top pane
// with Y counted from the pane's first line; a left click on a footer
// key runs that key as if it were typed.
func (m *Model) onMouse(msg tea.MouseMsg) tea.Cmd {
	_, h := m.paneSize()
	switch y := msg.Y - titleLines; {
	case y >= 0 && y < h:
		if m.helpOn || m.paletteOn {
			return nil
		}
		msg.Y = y
		return m.toTop(msg)
	case y == h && msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress && !m.paletteOn:
		if b, ok := m.footerKeyAt(msg.X); ok {
			return m.onKey(views.KeyMsg(b.Keys()[0]))
		}
	}
	return nil
}

// footerKeyAt is the footer binding drawn at column x, laid out as
// bubbles/help's ShortHelpView lays it out.
func (m *Model) footerKeyAt(x int) (key.Binding, bool) {
	sep := lipgloss.Width(m.help.ShortSeparator)
	at := 0
	for _, b := range m.footerBindings() {
		if !b.Enabled() || len(b.Keys()) == 0 {
			continue
		}
		if at > 0 {
			at += sep
		}
		w := lipgloss.Width(b.Help().Key) + 1 + lipgloss.Width(b.Help().Desc)
		if x >= at && x < at+w {
			return b, true
		}
		at += w
		if at >= m.width {
			break
		}
	}
	return key.Binding{}, false
}
