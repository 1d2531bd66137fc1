// Package wizard is the create-cluster pane: a form validated as you
// type with the backend's own rules, then the deployment monitor over
// CreateCluster's event stream, then the credentials, shown once.
package wizard

import (
	"errors"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/render"
	"github.com/pgtui/pgtui/views"
)

// step is the screen the wizard shows.
type step int

const (
	stepForm step = iota
	stepMonitor
	stepCreds
)

// Model is the wizard pane.
type Model struct {
	c      views.Common
	keys   KeyMap
	step   step
	form   *form
	mon    *monitor
	events views.Drain[backend.CreateEvent] // the deployment; Close stops following it
	modal  views.Modal
}

var _ views.Pane = (*Model)(nil)
var _ views.Closer = (*Model)(nil)

// New builds an empty form.
func New(c views.Common, _ views.Args) *Model {
	m := &Model{c: c, keys: NewKeyMap(), form: newForm(c.Theme),
		events: views.Drain[backend.CreateEvent]{PaneID: c.PaneID, Max: drainMax}}
	m.keys.forStep(stepForm)
	return m
}

// Init does nothing: the form waits for the user.
func (m *Model) Init() tea.Cmd { return nil }

// Start does nothing: a running deployment keeps streaming while the
// pane is hidden, so its credentials are there when it is shown again.
func (m *Model) Start() tea.Cmd { return nil }

// Stop does nothing, see Start.
func (m *Model) Stop() {}

// Close stops watching the deployment (which carries on in the agent).
func (m *Model) Close() { m.events.Stop() }

// Title names the pane.
func (m *Model) Title() string { return "create" }

// Capturing is always true: the form takes text, and the monitor and
// credentials screens guard esc themselves so the password is not lost
// by a stray key.
func (m *Model) Capturing() bool { return true }

// SetSize records the pane's area.
func (m *Model) SetSize(w, h int) { m.c.Width, m.c.Height = w, h }

// ShortHelp is the footer.
func (m *Model) ShortHelp() []key.Binding {
	if m.modal.Active() {
		return views.NewDialogKeys().ShortHelp()
	}
	return m.keys.ShortHelp()
}

// FullHelp is the help overlay.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }

func (m *Model) setStep(s step) {
	m.step = s
	m.keys.forStep(s)
}

// Update handles keys and the deployment stream.
func (m *Model) Update(msg tea.Msg) (views.Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case views.ResultMsg:
		return m, m.onStream(msg)
	case tea.KeyMsg:
		switch {
		case m.modal.Active():
			return m, m.modal.Update(msg)
		case m.step == stepForm:
			return m, m.onFormKey(msg)
		}
		return m, m.onDeployKey(msg)
	}
	return m, nil
}

// submit validates the whole form and starts the deployment.
func (m *Model) submit() tea.Cmd {
	f := m.form
	f.submitted = true
	req, errs := f.request()
	for i, err := range errs {
		if err != nil {
			f.move(i - int(f.focus))
			return nil
		}
	}
	if err := req.Validate(); err != nil {
		return views.Err(err)
	}
	m.mon = newMonitor(m.c.Theme, req, m.c.Width)
	m.setStep(stepMonitor)
	return m.events.Open(create(m.c.Backend, req))
}

// onStream applies the stream's events and re-arms the wait.
func (m *Model) onStream(msg views.ResultMsg) tea.Cmd {
	evs, wait, ok := m.events.Update(msg)
	if !ok {
		return nil
	}
	if m.events.Failed() {
		m.setStep(stepForm) // the deployment did not start
		return wait
	}
	var cmds []tea.Cmd
	for _, ev := range evs {
		if creds := m.mon.apply(ev); creds != nil {
			cm := views.CredentialsMsg{Cluster: m.mon.req.Name, Creds: *creds}
			cmds = append(cmds, func() tea.Msg { return cm })
		}
	}
	if m.events.Ended() {
		m.mon.ended()
	}
	switch {
	case m.mon.failed:
		cmds = append(cmds, views.Err(errors.New(m.mon.result)))
	case m.mon.done && m.mon.creds != nil:
		m.setStep(stepCreds)
	case !m.mon.done:
		cmds = append(cmds, wait)
	}
	return tea.Batch(cmds...)
}

// onDeployKey handles the monitor and credentials screens.
func (m *Model) onDeployKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Copy):
		return views.Copy(m.c.Clipboard, connURL(*m.mon.creds, render.ConnectionString(*m.mon.creds)), "the connection URL")
	case key.Matches(k, m.keys.Done):
		return views.Back
	case key.Matches(k, m.keys.Back):
		if m.step == stepMonitor && !m.mon.done {
			m.modal.Open(views.NewConfirm(m.c.Theme,
				"Leave the monitor? The deployment continues, but its password won't be shown again."),
				func() tea.Cmd { return views.Back })
			return nil
		}
		return views.Back
	}
	return nil
}

// onFormKey moves between fields and choices, or types into a field.
func (m *Model) onFormKey(k tea.KeyMsg) tea.Cmd {
	f := m.form
	switch {
	case key.Matches(k, m.keys.Back):
		return views.Back
	case key.Matches(k, m.keys.Create):
		return m.submit()
	case key.Matches(k, m.keys.Enter) && f.focus == nFields-1:
		return m.submit()
	case key.Matches(k, m.keys.Next, m.keys.Enter):
		f.move(1)
	case key.Matches(k, m.keys.Prev):
		f.move(-1)
	case key.Matches(k, m.keys.Up, m.keys.Down):
		f.choose(key.Matches(k, m.keys.Down))
	case f.focus != fSize:
		var cmd tea.Cmd
		before := f.inputs[f.focus].Value()
		f.inputs[f.focus], cmd = f.inputs[f.focus].Update(k)
		if f.inputs[f.focus].Value() != before {
			f.touched[f.focus] = true
			if f.focus == fRegion {
				f.resetRegion()
			}
		}
		return cmd
	}
	return nil
}
