package metrics

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/pgtui/pgtui/views"
)

// KeyMap is the metrics pane's keys.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	Interval key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	l := views.NewListKeys()
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp(l.Up.Help().Key, "previous machines")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp(l.Down.Help().Key, "next machines")),
		Interval: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "sample interval")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Interval, k.Up, k.Down} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Up, k.Down}, {k.Interval}} }

// enable offers scrolling only when some machines do not fit.
func (k *KeyMap) enable(scrollable bool) {
	k.Up.SetEnabled(scrollable)
	k.Down.SetEnabled(scrollable)
}
