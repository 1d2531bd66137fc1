package views

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// Field is one line of a Prompt.
type Field struct {
	Label       string
	Placeholder string
	Secret      bool
}

// Prompt is a small form (create user, create database): tab moves
// between fields, enter on the last one submits, esc cancels. Validate
// runs as the user types and its error is shown under the fields.
type Prompt struct {
	theme    *Theme
	keys     DialogKeys
	title    string
	labels   []string
	inputs   []textinput.Model
	focus    int
	validate func(values []string) error
	err      error
}

// NewPrompt builds a prompt over fields.
func NewPrompt(t *Theme, title string, validate func([]string) error, fields ...Field) *Prompt {
	p := &Prompt{theme: t, keys: NewDialogKeys(), title: title, validate: validate}
	for _, f := range fields {
		in := t.NewInput("", f.Placeholder)
		if f.Secret {
			in.EchoMode = textinput.EchoPassword
		}
		p.labels = append(p.labels, f.Label)
		p.inputs = append(p.inputs, in)
	}
	p.inputs[0].Focus()
	return p
}

// Values are the fields' contents, in order.
func (p *Prompt) Values() []string {
	out := make([]string, len(p.inputs))
	for i, in := range p.inputs {
		out[i] = strings.TrimSpace(in.Value())
	}
	return out
}

// Update handles a key and says whether the prompt was submitted (with
// valid values) or cancelled.
func (p *Prompt) Update(msg tea.Msg) (Answer, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return Pending, nil
	}
	switch {
	case key.Matches(k, p.keys.Cancel):
		return Cancelled, nil
	case key.Matches(k, p.keys.Submit) && p.focus == len(p.inputs)-1:
		if p.err = p.validate(p.Values()); p.err == nil {
			return Accepted, nil
		}
		return Pending, nil
	case key.Matches(k, p.keys.Submit, p.keys.Next):
		p.move(1)
		return Pending, nil
	case key.Matches(k, p.keys.Prev):
		p.move(-1)
		return Pending, nil
	}
	var cmd tea.Cmd
	p.inputs[p.focus], cmd = p.inputs[p.focus].Update(k)
	p.err = p.validate(p.Values())
	return Pending, cmd
}

func (p *Prompt) move(d int) {
	p.inputs[p.focus].Blur()
	p.focus = (p.focus + d + len(p.inputs)) % len(p.inputs)
	p.inputs[p.focus].Focus()
}

// View draws the form in a dialog box at most width cells wide.
func (p *Prompt) View(width int) string {
	lines := []string{p.theme.Header.Render(p.title), ""}
	for i, in := range p.inputs {
		label, marker := p.theme.Label, "  "
		if i == p.focus {
			label, marker = p.theme.Focused, "> "
		}
		lines = append(lines, marker+label.Render(Fit(p.labels[i], 12))+in.View())
	}
	if p.err != nil {
		for _, l := range wrap(p.err.Error(), max(min(width, DialogWidth)-4, 20)) {
			lines = append(lines, p.theme.Bad.Render(l))
		}
	}
	lines = append(lines, "", p.theme.Dim.Render("tab: next field   enter: next / create   esc: cancel"))
	return p.theme.Dialog.Render(strings.Join(lines, "\n"))
}
