package backups

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the backups pane's keys.
type KeyMap struct {
	Full    key.Binding
	Diff    key.Binding
	Restore key.Binding
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap {
	return KeyMap{
		Full:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "full backup")),
		Diff:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff backup")),
		Restore: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restore into new")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Full, k.Diff, k.Restore} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Full, k.Diff, k.Restore}} }
