package views

import (
	"errors"
	"fmt"
	"io"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
)

// Copy writes text to the terminal's clipboard with an OSC 52 sequence
// (works over ssh; inside tmux it needs `set -g set-clipboard on`) and
// flashes what was copied. It never shows the text itself.
func Copy(w io.Writer, text, what string) tea.Cmd {
	return func() tea.Msg {
		if w == nil {
			return ErrMsg{Err: errors.New("copy: no terminal to copy through")}
		}
		if _, err := osc52.New(text).WriteTo(w); err != nil {
			return ErrMsg{Err: fmt.Errorf("copy %s: %w", what, err)}
		}
		return FlashMsg{Text: "Copied " + what + " to the clipboard"}
	}
}
