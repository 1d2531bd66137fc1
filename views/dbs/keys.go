package dbs

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the databases pane's keys.
type KeyMap struct {
	Create key.Binding
	Drop   key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	return KeyMap{
		Create: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new database")),
		Drop:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "drop database")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Create, k.Drop} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Create, k.Drop}}
}
