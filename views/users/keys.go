package users

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the users pane's keys.
type KeyMap struct {
	Create key.Binding
	Drop   key.Binding
	Copy   key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	k := KeyMap{
		Create: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new user")),
		Drop:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "drop user")),
		Copy:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy new password")),
	}
	k.Copy.SetEnabled(false)
	return k
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Create, k.Drop, k.Copy} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Create, k.Drop, k.Copy}}
}
