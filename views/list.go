package views

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// ListSpec is what a list pane has of its own; ListPane does the rest.
// S is one fetch's answer, T one row's item (for a plain list S is []T,
// see NewList).
type ListSpec[S, T any] struct {
	Columns []string
	Every   time.Duration // poll interval; 0 fetches on Start and on refresh only
	Fetch   func(ctx context.Context) (S, error)
	Items   func(S) []T
	// Rows draws every item's cells (one call, so a pane can lay out
	// relative to the list or a clock). The filter matches these cells.
	Rows func(items []T) [][]string
	// Style, when set, styles one cell of an item.
	Style func(item T, col int) (lipgloss.Style, bool)
	// Loaded, when set, sees each answer before its rows are drawn.
	Loaded func(S)
	// Head is drawn above the table (the filter shows on its first
	// line); Tail below it, starting with a newline when not empty (an
	// open dialog comes after it).
	Head func() string
	Tail func() string
	// Keys are the pane's own keys, for the footer and the help overlay.
	Keys help.KeyMap
	// Actions are keys that act on the selected item; the kit runs them.
	Actions []Action[T]
}

// Action is a key that acts on the selected item. Danger marks it
// dangerous (k9s' dangerous actions): the kit draws a confirm dialog
// with the words it returns and runs the action only on yes.
type Action[T any] struct {
	Key    *key.Binding
	Danger func(item T) string
	Run    func(item T) tea.Cmd
}

// ListPane is the list part of a pane: the table with its cursor, the
// poll (one request at a time, stale and stopped results dropped), the
// `/` filter, the mouse (click selects, wheel scrolls), the list keys and
// the one dialog. A pane embeds it (which gives it Init, Start, Stop,
// SetSize, Capturing, TakesEsc and the help), keeps its own keys, title
// and header, and gives every message to the list's Update first.
type ListPane[S, T any] struct {
	Table  Table
	Keys   ListKeys
	Poll   Poller
	Filter Filter
	Modal  Modal
	spec   ListSpec[S, T]
	width  int
	height int
	items  []T
	rows   [][]string
	shown  []int // indexes into items of the rows the filter keeps
	loaded bool
}

// List is a ListPane over a plain slice.
type List[T any] = ListPane[[]T, T]

// NewListPane builds the list part of a pane from its Common and spec.
func NewListPane[S, T any](c Common, spec ListSpec[S, T]) *ListPane[S, T] {
	l := &ListPane[S, T]{Table: Table{Theme: c.Theme, Columns: spec.Columns}, Keys: NewListKeys(),
		Poll: Poller{PaneID: c.PaneID, Every: spec.Every}, Filter: NewFilter(c.Theme), spec: spec,
		width: c.Width, height: c.Height}
	if spec.Style != nil {
		l.Table.CellStyle = func(row, col int) (lipgloss.Style, bool) {
			if row >= len(l.shown) {
				return lipgloss.Style{}, false
			}
			return spec.Style(l.items[l.shown[row]], col)
		}
	}
	if l.spec.Head == nil {
		l.spec.Head = func() string { return "" }
	}
	if l.spec.Tail == nil {
		l.spec.Tail = func() string { return "" }
	}
	if l.spec.Keys == nil {
		l.spec.Keys = noKeys{}
	}
	return l
}

// NewList builds a ListPane whose fetch answers the items themselves.
func NewList[T any](c Common, spec ListSpec[[]T, T]) *List[T] {
	spec.Items = func(items []T) []T { return items }
	return NewListPane(c, spec)
}

// listLoaded is one fetch's answer.
type listLoaded[S any] struct {
	s   S
	err error
}

func (l *ListPane[S, T]) fetch() func() tea.Msg {
	f := l.spec.Fetch
	return Call(func(ctx context.Context) tea.Msg {
		s, err := f(ctx)
		return listLoaded[S]{s: s, err: err}
	})
}

// noKeys is a pane without keys of its own.
type noKeys struct{}

func (noKeys) ShortHelp() []key.Binding  { return nil }
func (noKeys) FullHelp() [][]key.Binding { return nil }

// Init does nothing: Start fetches.
func (l *ListPane[S, T]) Init() tea.Cmd { return nil }

// Start begins polling.
func (l *ListPane[S, T]) Start() tea.Cmd { return l.Poll.Start(l.fetch()) }

// Stop ends polling; results in flight are dropped.
func (l *ListPane[S, T]) Stop() { l.Poll.Stop() }

// Refresh fetches now (after a task changed the list); an earlier
// request's answer is dropped.
func (l *ListPane[S, T]) Refresh() tea.Cmd { return l.Poll.Fetch(l.fetch()) }

// Loaded reports whether an answer arrived.
func (l *ListPane[S, T]) Loaded() bool { return l.loaded }

// Items are every item of the last answer, unfiltered.
func (l *ListPane[S, T]) Items() []T { return l.items }

// Selected is the item under the cursor.
func (l *ListPane[S, T]) Selected() (T, bool) {
	if c := l.Table.Cursor; c >= 0 && c < len(l.shown) {
		return l.items[l.shown[c]], true
	}
	var zero T
	return zero, false
}

// SetSize records the pane's area.
func (l *ListPane[S, T]) SetSize(w, h int) { l.width, l.height = w, h }

// Width is the pane's width.
func (l *ListPane[S, T]) Width() int { return l.width }

// Capturing is true while the filter is typed or a dialog is open.
func (l *ListPane[S, T]) Capturing() bool { return l.Filter.Typing() || l.Modal.Active() }

// TakesEsc is true while a filter is set: esc clears it.
func (l *ListPane[S, T]) TakesEsc() bool { return l.Filter.Set() }

// ShortHelp is a list pane's footer: the dialog's keys while one is
// open, the filter's while it is typed, else the pane's own keys, then
// refresh and the filter keys.
func (l *ListPane[S, T]) ShortHelp() []key.Binding {
	switch {
	case l.Modal.Active():
		return NewDialogKeys().ShortHelp()
	case l.Filter.Typing():
		return l.Filter.Keys()
	}
	return append(append(l.spec.Keys.ShortHelp(), l.Keys.Refresh), l.Filter.Keys()...)
}

// FullHelp is the help overlay: the list's column, then the pane's.
func (l *ListPane[S, T]) FullHelp() [][]key.Binding {
	list := []key.Binding{l.Keys.Up, l.Keys.Down, l.Keys.Refresh, l.Filter.keys.Start}
	return append([][]key.Binding{list}, l.spec.Keys.FullHelp()...)
}

// Ask opens a dialog that runs then when accepted.
func (l *ListPane[S, T]) Ask(d Dialog, then func() tea.Cmd) { l.Modal.Open(d, then) }

// Update handles what is the list's: its answers and ticks, the cursor,
// refresh and filter keys and the mouse. handled false leaves msg to
// the pane.
func (l *ListPane[S, T]) Update(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	if k, ok := msg.(tea.KeyMsg); ok && l.Modal.Active() {
		return l.Modal.Update(k), true
	}
	switch msg := msg.(type) {
	case ResultMsg:
		switch r := msg.Msg.(type) {
		case PollTick:
			if l.Poll.Current(msg) {
				cmd = l.Poll.Fetch(l.fetch())
			}
			return cmd, true
		case listLoaded[S]:
			if l.Poll.Current(msg) {
				cmd = l.load(r)
			}
			return cmd, true
		}
	case tea.KeyMsg:
		return l.onKey(msg)
	case tea.MouseMsg:
		return nil, l.onMouse(msg)
	}
	return nil, false
}

func (l *ListPane[S, T]) load(r listLoaded[S]) tea.Cmd {
	next := l.Poll.Landed()
	if r.err != nil {
		return tea.Batch(next, Err(r.err))
	}
	if l.spec.Loaded != nil {
		l.spec.Loaded(r.s)
	}
	l.items, l.loaded = l.spec.Items(r.s), true
	l.rows = l.spec.Rows(l.items)
	l.refilter()
	return next
}

// refilter keeps the rows whose cells match the filter.
func (l *ListPane[S, T]) refilter() {
	l.shown = l.shown[:0]
	var rows [][]string
	for i, r := range l.rows {
		if l.Filter.Match(strings.Join(r, " ")) {
			l.shown = append(l.shown, i)
			rows = append(rows, r)
		}
	}
	l.Table.SetRows(rows)
}

func (l *ListPane[S, T]) onKey(k tea.KeyMsg) (tea.Cmd, bool) {
	if handled, changed := l.Filter.Update(k); handled {
		if changed {
			l.Table.Cursor = 0
			l.refilter()
		}
		return nil, true
	}
	if cmd, ok := l.act(k); ok {
		return cmd, true
	}
	switch {
	case key.Matches(k, l.Keys.Up):
		l.Table.Up()
	case key.Matches(k, l.Keys.Down):
		l.Table.Down()
	case key.Matches(k, l.Keys.Refresh):
		if !l.Poll.Busy() {
			return l.Poll.Fetch(l.fetch()), true
		}
	default:
		return nil, false
	}
	return nil, true
}

// act runs the action bound to k on the selected item, asking first
// when the action is dangerous.
func (l *ListPane[S, T]) act(k tea.KeyMsg) (tea.Cmd, bool) {
	for _, a := range l.spec.Actions {
		if !key.Matches(k, *a.Key) {
			continue
		}
		item, ok := l.Selected()
		if !ok {
			return nil, true
		}
		if a.Danger == nil {
			return a.Run(item), true
		}
		run := a.Run
		l.Modal.Open(NewConfirm(l.Table.Theme, a.Danger(item)), func() tea.Cmd { return run(item) })
		return nil, true
	}
	return nil, false
}

// onMouse selects the clicked row and scrolls with the wheel; Y is
// relative to the pane's top line.
func (l *ListPane[S, T]) onMouse(m tea.MouseMsg) bool {
	switch {
	case m.Button == tea.MouseButtonWheelUp:
		l.Table.Up()
	case m.Button == tea.MouseButtonWheelDown:
		l.Table.Down()
	case m.Button == tea.MouseButtonLeft && m.Action == tea.MouseActionPress:
		top, room := l.layout()
		row := l.Table.RowAt(m.Y-top, room)
		if row < 0 {
			return false
		}
		l.Table.Cursor = row
	default:
		return false
	}
	return true
}

// head is the pane's head with the filter on its first line.
func (l *ListPane[S, T]) head() string {
	head := l.spec.Head()
	if f := l.Filter.View(); f != "" {
		first, rest, multi := strings.Cut(head, "\n")
		head = first + "  " + f
		if multi {
			head += "\n" + rest
		}
	}
	return head
}

// layout is the table's first line and height within the pane.
func (l *ListPane[S, T]) layout() (top, room int) {
	top = lipgloss.Height(l.head()) + 1
	tail := l.tail()
	used := top
	if tail != "" {
		used += lipgloss.Height(tail) - 1
	}
	return top, max(l.height-used, 2)
}

// View draws the head, a blank line, the table and the tail.
func (l *ListPane[S, T]) View() string {
	_, room := l.layout()
	table := l.Table.View(l.width, room)
	if len(l.shown) == 0 && l.Filter.Value() != "" {
		table += "\n" + l.Table.Theme.Dim.Render("  nothing matches /"+l.Filter.Value())
	}
	return l.head() + "\n\n" + table + l.tail()
}

func (l *ListPane[S, T]) tail() string { return l.spec.Tail() + l.Modal.View(l.width) }
