package clusters

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the clusters list's keys.
type KeyMap struct {
	Open     key.Binding
	Create   key.Binding
	Users    key.Binding
	DBs      key.Binding
	Timeline key.Binding
	Apps     key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	return KeyMap{
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "status")),
		Create:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new cluster")),
		Users:    key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "users")),
		DBs:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "databases")),
		Timeline: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "failover timeline")),
		Apps:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "apps and secrets")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Open, k.Create} }

// FullHelp is the pane's column of the help overlay (the list keys come
// from the kit).
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Open, k.Create, k.Users, k.DBs, k.Timeline, k.Apps}}
}
