package checks

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/pgtui/pgtui/views"
)

// KeyMap is the checks pane's keys.
type KeyMap struct {
	views.ListKeys
}

// NewKeyMap returns the default keys.
func NewKeyMap() KeyMap { return KeyMap{ListKeys: views.NewListKeys()} }

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down, k.Refresh} }

// FullHelp is the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
