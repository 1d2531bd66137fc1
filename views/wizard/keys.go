package wizard

import (
	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is the wizard's keys. The wizard takes every key while it is
// shown (it is Capturing), so these are all it answers to.
type KeyMap struct {
	Next   key.Binding
	Enter  key.Binding
	Prev   key.Binding
	Up     key.Binding
	Down   key.Binding
	Create key.Binding
	Back   key.Binding
	Copy   key.Binding
	Done   key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	return KeyMap{
		Next:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Enter:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next / create")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Up:     key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "previous choice")),
		Down:   key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "next choice")),
		Create: key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "create")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Copy:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy connection URL")),
		Done:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done")),
	}
}

// forStep enables only the keys of the step shown.
func (k *KeyMap) forStep(s step) {
	form, creds := s == stepForm, s == stepCreds
	for _, b := range []*key.Binding{&k.Next, &k.Enter, &k.Prev, &k.Up, &k.Down, &k.Create} {
		b.SetEnabled(form)
	}
	k.Copy.SetEnabled(creds)
	k.Done.SetEnabled(creds)
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Enter, k.Up, k.Down, k.Create, k.Copy, k.Done, k.Back}
}

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Next, k.Enter, k.Prev, k.Up, k.Down}, {k.Create, k.Copy, k.Done, k.Back}}
}
