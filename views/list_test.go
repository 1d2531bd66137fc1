package views

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

func newTestList(fetch func(ctx context.Context) ([]string, error)) *List[string] {
	c := Common{Theme: DefaultTheme(), PaneID: 1, Width: 40, Height: 10}
	return NewList(c, ListSpec[[]string, string]{Columns: []string{"name"}, Fetch: fetch,
		Rows: func(items []string) [][]string {
			out := make([][]string, len(items))
			for i, s := range items {
				out[i] = []string{s}
			}
			return out
		},
		Head: func() string { return "Things" }})
}

// TestListDropsStaleAndStopped: an answer overtaken by a later request,
// or landing after Stop, is dropped.
func TestListDropsStaleAndStopped(t *testing.T) {
	n := 0
	l := newTestList(func(context.Context) ([]string, error) { n++; return []string{strings.Repeat("x", n)}, nil })
	first := l.Start()
	second := l.Refresh()
	l.Update(first())
	if l.Loaded() {
		t.Fatal("a superseded answer was taken")
	}
	l.Update(second())
	if !l.Loaded() {
		t.Fatal("the current answer was not taken")
	}
	third := l.Refresh()
	l.Stop()
	l.Update(third())
	if got, _ := l.Selected(); got != "xx" && got != "x" {
		t.Fatalf("an answer after Stop was taken: %q", got)
	}
}

// TestListFilterAndMouse: the filter narrows and shows in the head; a
// click selects the row under it, a click on the header does nothing.
func TestListFilterAndMouse(t *testing.T) {
	l := newTestList(func(context.Context) ([]string, error) { return []string{"alpha", "beta", "gamma", "alps"}, nil })
	l.Update(l.Start()())
	key := func(s string) { l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }
	key("/")
	key("a")
	key("l")
	l.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if v := l.View(); !strings.Contains(v, "Things  /al (esc clears)") || strings.Contains(v, "beta") || !strings.Contains(v, "alps") {
		t.Fatalf("filtered view:\n%s", v)
	}
	// Things, blank, NAME, alpha, alps.
	l.Update(tea.MouseMsg{Y: 4, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if got, _ := l.Selected(); got != "alps" {
		t.Fatalf("click selected %q", got)
	}
	if _, handled := l.Update(tea.MouseMsg{Y: 2, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress}); handled {
		t.Fatal("a click on the header was taken")
	}
	l.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if len(l.Table.Rows) != 4 || l.TakesEsc() {
		t.Fatal("esc did not clear the filter")
	}
}

// TestDangerousActionAsksFirst: a key marked dangerous opens a confirm
// dialog with its words; only yes runs it.
func TestDangerousActionAsksFirst(t *testing.T) {
	ran := ""
	drop := key.NewBinding(key.WithKeys("D"))
	c := Common{Theme: DefaultTheme(), PaneID: 1, Width: 40, Height: 10}
	l := NewList(c, ListSpec[[]string, string]{Columns: []string{"name"},
		Fetch: func(context.Context) ([]string, error) { return []string{"alpha"}, nil },
		Rows:  func(items []string) [][]string { return [][]string{{items[0]}} },
		Actions: []Action[string]{{Key: &drop, Danger: func(s string) string { return "Drop " + s + "?" },
			Run: func(s string) tea.Cmd { ran = s; return nil }}}})
	l.Update(l.Start()())
	d := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("D")}
	l.Update(d)
	if ran != "" || !l.Capturing() || !strings.Contains(l.View(), "Drop alpha?") {
		t.Fatalf("ran %q, view:\n%s", ran, l.View())
	}
	l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("n")})
	if ran != "" || l.Capturing() {
		t.Fatal("no ran the action or left the dialog open")
	}
	l.Update(d)
	l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")})
	if ran != "alpha" {
		t.Fatalf("yes ran %q", ran)
	}
}
