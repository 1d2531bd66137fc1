package views

import "github.com/charmbracelet/bubbles/key"

// ListKeys move a table cursor and refresh it; panes embed them in their
// own key maps.
type ListKeys struct {
	Up      key.Binding
	Down    key.Binding
	Refresh key.Binding
}

// NewListKeys are the cursor keys every list shares.
func NewListKeys() ListKeys {
	return ListKeys{
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
	}
}

// DialogKeys answer a confirm dialog or a prompt.
type DialogKeys struct {
	Yes    key.Binding
	No     key.Binding
	Submit key.Binding
	Next   key.Binding
	Prev   key.Binding
	Cancel key.Binding
}

// NewDialogKeys are the keys of every dialog.
func NewDialogKeys() DialogKeys {
	return DialogKeys{
		Yes:    key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:     key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "no")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp lists the dialog keys.
func (k DialogKeys) ShortHelp() []key.Binding { return []key.Binding{k.Yes, k.No, k.Submit, k.Cancel} }

// FullHelp lists the dialog keys in one column.
func (k DialogKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
