package views

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Answer is how a dialog ended.
type Answer int

// Dialog answers.
const (
	Pending Answer = iota
	Accepted
	Cancelled
)

// Confirm is the yes/no dialog every dangerous action goes through; with
// Expect set it is the type-the-name dialog (destroy).
type Confirm struct {
	theme  *Theme
	keys   DialogKeys
	prompt string
	expect string
	input  textinput.Model
	miss   bool
}

// NewConfirm asks a yes/no question.
func NewConfirm(t *Theme, prompt string) *Confirm {
	return &Confirm{theme: t, keys: NewDialogKeys(), prompt: prompt}
}

// NewTypeConfirm asks the user to type expect to go ahead.
func NewTypeConfirm(t *Theme, prompt, expect string) *Confirm {
	c := &Confirm{theme: t, keys: NewDialogKeys(), prompt: prompt, expect: expect}
	c.input = t.NewInput("> ", "")
	c.input.Focus()
	return c
}

// Update handles a key and says whether the dialog was answered.
func (c *Confirm) Update(msg tea.Msg) (Answer, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return Pending, nil
	}
	if key.Matches(k, c.keys.Cancel) {
		return Cancelled, nil
	}
	if c.expect == "" {
		switch {
		case key.Matches(k, c.keys.Yes, c.keys.Submit):
			return Accepted, nil
		case key.Matches(k, c.keys.No):
			return Cancelled, nil
		}
		return Pending, nil
	}
	if key.Matches(k, c.keys.Submit) {
		if c.input.Value() == c.expect {
			return Accepted, nil
		}
		c.miss = true
		return Pending, nil
	}
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(k)
	c.miss = false
	return Pending, cmd
}

// DialogWidth is the widest a dialog box is drawn.
const DialogWidth = 64

// View draws the dialog box at most width cells wide.
func (c *Confirm) View(width int) string {
	inner := max(min(width, DialogWidth)-4, 20)
	var lines []string
	for _, l := range wrap(c.prompt, inner) {
		lines = append(lines, c.theme.Danger.Render(l))
	}
	if c.expect == "" {
		lines = append(lines, "", c.theme.Dim.Render("y/enter: yes   n/esc: no"))
	} else {
		lines = append(lines, fmt.Sprintf("Type %s to confirm:", c.expect), c.input.View())
		if c.miss {
			lines = append(lines, c.theme.Bad.Render("that is not the name: type it exactly, or esc to cancel"))
		}
		lines = append(lines, "", c.theme.Dim.Render("enter: confirm   esc: cancel"))
	}
	return c.theme.Dialog.Render(strings.Join(lines, "\n"))
}

// wrap breaks text into lines of at most width cells on spaces; lines
// that fit are kept as they are, spacing included.
func wrap(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		if ansi.StringWidth(para) <= width {
			lines = append(lines, para)
			continue
		}
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case ansi.StringWidth(line)+1+ansi.StringWidth(w) > width:
				lines = append(lines, line)
				line = w
			default:
				line += " " + w
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// Wrap breaks text into lines of at most width cells on spaces; lines
// that fit are kept as they are, spacing included.
func Wrap(text string, width int) string { return strings.Join(wrap(text, width), "\n") }
