package users

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/pgtui/pgtui/views"
)

// KeyMap is the users pane's keys.
type KeyMap struct {
	views.ListKeys
	Create key.Binding
	Drop   key.Binding
	Copy   key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	k := KeyMap{
		ListKeys: views.NewListKeys(),
		Create:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new user")),
		Drop:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "drop user")),
		Copy:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy new password")),
	}
	k.Copy.SetEnabled(false)
	return k
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Create, k.Drop, k.Copy, k.Refresh} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Refresh}, {k.Create, k.Drop, k.Copy}}
}
