package timeline

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/pgtui/pgtui/views"
)

// KeyMap is the timeline's keys.
type KeyMap struct {
	Refresh    key.Binding
	Switchover key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	return KeyMap{
		Refresh:    views.NewListKeys().Refresh,
		Switchover: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "switchover")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Switchover, k.Refresh} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Switchover, k.Refresh}} }
