package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the shell's global keys. They apply unless the top pane is
// capturing input (a focused field or an open dialog); ctrl+c always
// quits.
type KeyMap struct {
	Help      key.Binding
	Palette   key.Binding
	Back      key.Binding
	Next      key.Binding
	Quit      key.Binding
	ForceQuit key.Binding
	Cancel    key.Binding // cancels the newest running task
	Run       key.Binding // runs the palette's command
	Close     key.Binding // closes the palette or the help overlay
}

// DefaultKeyMap returns the global keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Palette:   key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Cancel:    key.NewBinding(key.WithKeys("ctrl+x"), key.WithHelp("ctrl+x", "cancel task")),
		Run:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run command")),
		Close:     key.NewBinding(key.WithKeys("esc", "?"), key.WithHelp("esc", "close")),
	}
}

// ShortHelp is the global part of the footer (help comes first, so it
// survives truncation).
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.Palette, k.Quit} }

// FullHelp is the global column of the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Help, k.Palette, k.Back, k.Next, k.Quit, k.ForceQuit}}
}
