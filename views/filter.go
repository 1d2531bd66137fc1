package views

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// Filter is a pane's `/` filter (k9s'): `/` starts typing, each key
// narrows the list at once, enter keeps the filter and gives the keys
// back to the pane, esc clears it. While a filter is set the pane takes
// esc (EscTaker), so the first esc clears the filter and the next one
// goes back.
type Filter struct {
	theme  *Theme
	keys   FilterKeys
	input  textinput.Model
	typing bool
	value  string // the trimmed text, kept so Match costs no allocation
	lower  string
}

// FilterKeys start, keep and clear a filter.
type FilterKeys struct {
	Start key.Binding
	Keep  key.Binding
	Clear key.Binding
}

// NewFilter is an empty filter in theme t.
func NewFilter(t *Theme) Filter {
	return Filter{theme: t, input: t.NewInput("/", ""),
		keys: FilterKeys{
			Start: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
			Keep:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
			Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		}}
}

// Typing reports whether keys go to the filter (the pane is Capturing).
func (f *Filter) Typing() bool { return f.typing }

// Set reports whether a filter is typed or kept.
func (f *Filter) Set() bool { return f.typing || f.Value() != "" }

// Value is the filter text.
func (f *Filter) Value() string { return f.value }

// sync refreshes the kept text after the input changed.
func (f *Filter) sync() {
	f.value = strings.TrimSpace(f.input.Value())
	f.lower = strings.ToLower(f.value)
}

// Keys are the bindings to show: typing ones while typing, else `/` and,
// when a filter is kept, esc to clear it.
func (f *Filter) Keys() []key.Binding {
	switch {
	case f.typing:
		return []key.Binding{f.keys.Keep, f.keys.Clear}
	case f.Value() != "":
		return []key.Binding{f.keys.Start, f.keys.Clear}
	}
	return []key.Binding{f.keys.Start}
}

// Update takes a key when it is the filter's: handled says so, changed
// says the filter text changed (the pane re-filters).
func (f *Filter) Update(k tea.KeyMsg) (handled, changed bool) {
	before := f.Value()
	switch {
	case f.typing && key.Matches(k, f.keys.Keep):
		f.typing = false
		f.input.Blur()
		return true, false
	case f.Set() && key.Matches(k, f.keys.Clear):
		f.Clear()
	case f.typing:
		f.input, _ = f.input.Update(k)
		f.sync()
	case key.Matches(k, f.keys.Start):
		f.typing = true
		f.input.Focus()
	default:
		return false, false
	}
	return true, f.Value() != before
}

// Clear empties the filter and stops typing.
func (f *Filter) Clear() {
	f.typing = false
	f.input.Blur()
	f.input.SetValue("")
	f.sync()
}

// Match reports whether text passes the filter (case-insensitive
// substring; an empty filter passes everything).
func (f *Filter) Match(text string) bool {
	return f.lower == "" || strings.Contains(strings.ToLower(text), f.lower)
}

// View is the filter as the header shows it, "" when none is set.
func (f *Filter) View() string {
	switch {
	case f.typing:
		return f.input.View()
	case f.Value() != "":
		return f.theme.Dim.Render("/" + f.Value() + " (esc clears)")
	}
	return ""
}

// EscTaker is a pane that wants esc before the shell (whose esc goes
// back): a pane with a filter set clears it first.
type EscTaker interface {
	TakesEsc() bool
}
