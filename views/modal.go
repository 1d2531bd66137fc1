package views

import tea "github.com/charmbracelet/bubbletea"

// Dialog is a Confirm or a Prompt.
type Dialog interface {
	Update(tea.Msg) (Answer, tea.Cmd)
	View(width int) string
}

// Modal holds the one dialog a pane may have open and what to do when
// it is accepted. While it is open the pane is Capturing.
type Modal struct {
	dialog Dialog
	then   func() tea.Cmd
}

// Open shows d; then runs when it is accepted.
func (m *Modal) Open(d Dialog, then func() tea.Cmd) {
	m.dialog, m.then = d, then
}

// Active reports whether a dialog is open.
func (m *Modal) Active() bool { return m.dialog != nil }

// Update gives msg to the open dialog and closes it once answered.
func (m *Modal) Update(msg tea.Msg) tea.Cmd {
	answer, cmd := m.dialog.Update(msg)
	switch answer {
	case Accepted:
		then := m.then
		m.dialog, m.then = nil, nil
		return then()
	case Cancelled:
		m.dialog, m.then = nil, nil
	}
	return cmd
}

// View draws the open dialog under a blank line, or nothing.
func (m *Modal) View(width int) string {
	if m.dialog == nil {
		return ""
	}
	return "\n\n" + m.dialog.View(width)
}
