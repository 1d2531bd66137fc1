package views

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestTableScrollsToCursorAndMarksIt(t *testing.T) {
	tb := Table{Theme: DefaultTheme(), Columns: []string{"id", "role"}}
	tb.SetRows([][]string{{"a", "leader"}, {"b", "replica"}, {"c", "replica"}, {"d", "replica"}})
	tb.Down()
	tb.Down()
	tb.Down()
	tb.Down() // stays on the last row
	got := tb.View(20, 3)
	want := "  ID  ROLE\n  c   replica\n> d   replica"
	if strings.TrimRight(strings.ReplaceAll(got, " \n", "\n"), " ") != want {
		t.Fatalf("view:\n%q\nwant\n%q", got, want)
	}
	if sel := tb.Selected(); sel[0] != "d" {
		t.Fatalf("selected %v", sel)
	}
	tb.SetRows(tb.Rows[:1])
	if tb.Cursor != 0 {
		t.Fatalf("cursor %d after shrinking", tb.Cursor)
	}
}

func TestTableCutsLongLines(t *testing.T) {
	tb := Table{Theme: DefaultTheme(), Columns: []string{"detail"}, Rows: [][]string{{strings.Repeat("x", 50)}}, Cursor: -1}
	for _, l := range strings.Split(tb.View(20, 5), "\n") {
		if w := lipgloss.Width(l); w > 20 {
			t.Fatalf("line %q is %d wide", l, w)
		}
	}
}

func TestConfirm(t *testing.T) {
	c := NewConfirm(DefaultTheme(), "Restart?")
	if a, _ := c.Update(keyMsg("x")); a != Pending {
		t.Fatal("x answered the dialog")
	}
	if a, _ := c.Update(keyMsg("y")); a != Accepted {
		t.Fatal("y did not accept")
	}
	if a, _ := NewConfirm(DefaultTheme(), "Restart?").Update(keyMsg("esc")); a != Cancelled {
		t.Fatal("esc did not cancel")
	}
}

func TestTypeConfirmWantsTheExactName(t *testing.T) {
	c := NewTypeConfirm(DefaultTheme(), "Destroy db?", "db")
	if a, _ := c.Update(keyMsg("y")); a != Pending {
		t.Fatal("y accepted a type-the-name dialog")
	}
	if a, _ := c.Update(keyMsg("enter")); a != Pending || !strings.Contains(c.View(80), "not the name") {
		t.Fatal("a wrong name was accepted or not explained")
	}
	c = NewTypeConfirm(DefaultTheme(), "Destroy db?", "db")
	c.Update(keyMsg("d"))
	c.Update(keyMsg("b"))
	if a, _ := c.Update(keyMsg("enter")); a != Accepted {
		t.Fatal("the right name was refused")
	}
}

func TestPromptValidatesAndSubmits(t *testing.T) {
	var seen []string
	p := NewPrompt(DefaultTheme(), "New", func(v []string) error {
		seen = v
		if v[0] == "" {
			return errEmpty
		}
		return nil
	}, Field{Label: "Name"}, Field{Label: "Secret", Secret: true})
	if a, _ := p.Update(keyMsg("enter")); a != Pending {
		t.Fatal("enter on the first field submitted")
	}
	if a, _ := p.Update(keyMsg("enter")); a != Pending || !strings.Contains(p.View(80), "empty") {
		t.Fatal("an invalid prompt was submitted or not explained")
	}
	p.Update(keyMsg("tab"))
	p.Update(keyMsg("a"))
	p.Update(keyMsg("tab"))
	p.Update(keyMsg("z"))
	if strings.Contains(p.View(80), "z") {
		t.Fatal("a secret field echoed its value")
	}
	if a, _ := p.Update(keyMsg("enter")); a != Accepted || seen[0] != "a" || seen[1] != "z" {
		t.Fatalf("answer with %v", seen)
	}
}

type stringErr string

func (e stringErr) Error() string { return string(e) }

const errEmpty = stringErr("name is empty")

func TestPollerDropsStaleAndStopped(t *testing.T) {
	p := Poller{PaneID: 7}
	fetch := func() tea.Msg { return "data" }
	first := p.Start(fetch)().(ResultMsg)
	second := p.Fetch(fetch)().(ResultMsg)
	if p.Current(first) || !p.Current(second) || second.PaneID != 7 {
		t.Fatalf("first current %v, second current %v", p.Current(first), p.Current(second))
	}
	if !p.Busy() {
		t.Fatal("not busy with a request in flight")
	}
	p.Landed()
	p.Stop()
	if p.Current(second) || p.Fetch(fetch) != nil {
		t.Fatal("a stopped poller accepted or fetched")
	}
}

func TestWrapKeepsFittingLines(t *testing.T) {
	got := Wrap("  Username:    postgres\none two three four five six seven", 24)
	if want := "  Username:    postgres\none two three four five\nsix seven"; got != want {
		t.Fatalf("Wrap = %q, want %q", got, want)
	}
}

func TestThemesBuildWidgets(t *testing.T) {
	for _, th := range []*Theme{DefaultTheme(), MonoTheme()} {
		if bar := th.NewProgress(20).ViewAs(0.5); lipgloss.Width(bar) != 20 {
			t.Fatalf("progress %q", bar)
		}
		_ = th.NewSpinner().View()
		_ = th.NewHelp()
	}
}

// TestKeyMsgRoundTrips: every name KeyMsg knows comes back from
// tea.KeyMsg.String, so a clicked footer key matches its binding.
func TestKeyMsgRoundTrips(t *testing.T) {
	for name := range keyTypes {
		if got := KeyMsg(name).String(); got != name {
			t.Errorf("KeyMsg(%q).String() = %q", name, got)
		}
	}
	if got := KeyMsg("D").String(); got != "D" {
		t.Errorf("KeyMsg(D) = %q", got)
	}
}
