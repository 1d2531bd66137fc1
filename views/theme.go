package views

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Theme holds every style the cockpit draws with. This file is the only
// place that names colours or builds lipgloss styles: panes and tui pick
// fields from a *Theme, never make their own.
type Theme struct {
	Title     lipgloss.Style // header bar
	Crumb     lipgloss.Style // breadcrumbs beside the title
	Header    lipgloss.Style // table column headers
	Selected  lipgloss.Style // the row under the cursor
	Leader    lipgloss.Style // the leader's role cell
	Label     lipgloss.Style // form labels, "Key =" keys
	Focused   lipgloss.Style // the focused form label
	Dim       lipgloss.Style // secondary text
	Good      lipgloss.Style // passing checks, success
	Bad       lipgloss.Style // failing checks, field errors
	Warning   lipgloss.Style // "won't be shown again"
	Error     lipgloss.Style // status line error
	Flash     lipgloss.Style // status line notice
	Dialog    lipgloss.Style // confirm dialog box
	Danger    lipgloss.Style // destructive prompt text
	Secret    lipgloss.Style // the credentials block
	Spark     lipgloss.Style // sparkline bars
	Help      help.Styles
	Spinner   lipgloss.Style
	Mono      bool
	fillColor string
}

// DefaultTheme is the coloured theme; colours adapt to light and dark
// terminals.
func DefaultTheme() *Theme {
	accent := lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}
	dim := lipgloss.AdaptiveColor{Light: "#8A8A8A", Dark: "#777777"}
	green := lipgloss.AdaptiveColor{Light: "#2E7D32", Dark: "#66BB6A"}
	red := lipgloss.AdaptiveColor{Light: "#C62828", Dark: "#EF5350"}
	yellow := lipgloss.AdaptiveColor{Light: "#A66A00", Dark: "#FFCA28"}
	s := lipgloss.NewStyle
	return &Theme{
		Title:     s().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#FFFFFF"}).Background(accent).Padding(0, 1),
		Crumb:     s().Foreground(dim),
		Header:    s().Bold(true).Foreground(accent),
		Selected:  s().Reverse(true),
		Leader:    s().Bold(true).Foreground(green),
		Label:     s().Foreground(dim),
		Focused:   s().Bold(true).Foreground(accent),
		Dim:       s().Foreground(dim),
		Good:      s().Foreground(green),
		Bad:       s().Foreground(red),
		Warning:   s().Bold(true).Foreground(yellow),
		Error:     s().Bold(true).Foreground(red),
		Flash:     s().Foreground(green),
		Dialog:    s().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		Danger:    s().Bold(true).Foreground(red),
		Secret:    s().Border(lipgloss.NormalBorder()).BorderForeground(yellow),
		Spark:     s().Foreground(accent),
		Help:      helpStyles(s().Foreground(accent), s().Foreground(dim), s().Foreground(dim)),
		Spinner:   s().Foreground(accent),
		fillColor: "#7571F9",
	}
}

// MonoTheme draws without colour (NO_COLOR): emphasis only by bold,
// underline and reverse video.
func MonoTheme() *Theme {
	s := lipgloss.NewStyle
	plain := s()
	return &Theme{
		Title:    s().Bold(true).Reverse(true).Padding(0, 1),
		Crumb:    plain,
		Header:   s().Bold(true).Underline(true),
		Selected: s().Reverse(true),
		Leader:   s().Bold(true),
		Label:    plain,
		Focused:  s().Bold(true),
		Dim:      plain,
		Good:     plain,
		Bad:      s().Bold(true),
		Warning:  s().Bold(true),
		Error:    s().Bold(true),
		Flash:    plain,
		Dialog:   s().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		Danger:   s().Bold(true),
		Secret:   s().Border(lipgloss.NormalBorder()),
		Spark:    plain,
		Help:     helpStyles(s().Bold(true), plain, plain),
		Spinner:  plain,
		Mono:     true,
	}
}

func helpStyles(key, desc, sep lipgloss.Style) help.Styles {
	return help.Styles{Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep,
		FullKey: key, FullDesc: desc, FullSeparator: sep}
}

// NewHelp is a bubbles/help model in this theme.
func (t *Theme) NewHelp() help.Model {
	h := help.New()
	h.Styles = t.Help
	return h
}

// NewSpinner is the task spinner.
func (t *Theme) NewSpinner() spinner.Model {
	return spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(t.Spinner))
}

// NewProgress is a static progress bar (drawn with ViewAs, no
// animation) of the given width.
func (t *Theme) NewProgress(width int) progress.Model {
	opts := []progress.Option{progress.WithWidth(width)}
	if t.Mono {
		opts = append(opts, progress.WithColorProfile(termenv.Ascii), progress.WithFillCharacters('#', '.'))
	} else {
		opts = append(opts, progress.WithSolidFill(t.fillColor))
	}
	return progress.New(opts...)
}

// NewInput is a text field in this theme with a steady cursor, so
// redraws do not depend on a blink timer.
func (t *Theme) NewInput(prompt, placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	in.Placeholder = placeholder
	in.PromptStyle = t.Label
	in.PlaceholderStyle = t.Dim
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}
