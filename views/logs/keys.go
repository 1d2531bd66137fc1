package logs

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/pgtui/pgtui/views"
)

// KeyMap is the logs pane's keys.
type KeyMap struct {
	Up      key.Binding
	Down    key.Binding
	Pause   key.Binding
	Machine key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	l := views.NewListKeys()
	return KeyMap{
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp(l.Up.Help().Key, "scroll up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp(l.Down.Help().Key, "scroll down")),
		Pause:   key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause/follow")),
		Machine: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "next machine")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Pause, k.Machine, k.Up, k.Down} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down}, {k.Pause, k.Machine}}
}
