package views

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Table is a list with a cursor, drawn in flyctl's column shape with a
// "> " marker on the selected row (so the selection shows without colour
// too). CellStyle, when set, styles single cells (the leader's role).
type Table struct {
	Theme     *Theme
	Columns   []string
	Rows      [][]string
	Cursor    int
	CellStyle func(row, col int) (lipgloss.Style, bool)
}

// SetRows replaces the rows and keeps the cursor in range.
func (t *Table) SetRows(rows [][]string) {
	t.Rows = rows
	t.Cursor = min(t.Cursor, max(len(rows)-1, 0))
}

// Up moves the cursor up one row.
func (t *Table) Up() { t.Cursor = max(t.Cursor-1, 0) }

// Down moves the cursor down one row.
func (t *Table) Down() { t.Cursor = min(t.Cursor+1, max(len(t.Rows)-1, 0)) }

// Selected is the row under the cursor, nil when the table is empty.
func (t *Table) Selected() []string {
	if t.Cursor < 0 || t.Cursor >= len(t.Rows) {
		return nil
	}
	return t.Rows[t.Cursor]
}

// View draws the header and as many rows as fit in height, scrolled so
// the cursor stays visible; lines are cut to width.
func (t *Table) View(width, height int) string {
	widths := t.widths()
	lines := []string{t.Theme.Header.Render(Truncate(t.line(upper(t.Columns), widths, -1), width))}
	visible := max(height-1, 1)
	offset := t.offset(visible)
	for i := offset; i < len(t.Rows) && i < offset+visible; i++ {
		line := Truncate(t.line(t.Rows[i], widths, i), width)
		if i == t.Cursor {
			line = t.Theme.Selected.Render(Fit(line, width))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// offset is the first row drawn when visible rows fit: the cursor stays
// on screen.
func (t *Table) offset(visible int) int {
	if t.Cursor >= visible {
		return t.Cursor - visible + 1
	}
	return 0
}

// RowAt is the row drawn on line y of a View of this height (line 0 is
// the header), or -1 when y is the header or below the last row; mouse
// clicks select with it.
func (t *Table) RowAt(y, height int) int {
	visible := max(height-1, 1)
	if y < 1 || y > visible {
		return -1
	}
	row := t.offset(visible) + y - 1
	if row >= len(t.Rows) {
		return -1
	}
	return row
}

// line lays out one row behind its marker, two spaces between columns.
func (t *Table) line(cells []string, widths []int, row int) string {
	var b strings.Builder
	if row >= 0 && row == t.Cursor {
		b.WriteString("> ")
	} else {
		b.WriteString("  ")
	}
	for i, cell := range cells {
		pad := ""
		if i < len(cells)-1 && i < len(widths) {
			pad = strings.Repeat(" ", max(widths[i]-lipgloss.Width(cell), 0)+2)
		}
		if st, ok := t.cellStyle(row, i); ok {
			cell = st.Render(cell)
		}
		b.WriteString(cell + pad)
	}
	return b.String()
}

func (t *Table) cellStyle(row, col int) (lipgloss.Style, bool) {
	if row < 0 || t.CellStyle == nil {
		return lipgloss.Style{}, false
	}
	return t.CellStyle(row, col)
}

func (t *Table) widths() []int {
	w := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		w[i] = lipgloss.Width(c)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], lipgloss.Width(c))
			}
		}
	}
	return w
}

func upper(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = strings.ToUpper(c)
	}
	return out
}

// Fit cuts s to width cells (with an ellipsis) and pads it to width, so
// a selected row's reverse video spans the line.
func Fit(s string, width int) string {
	s = Truncate(s, width)
	return s + strings.Repeat(" ", max(width-lipgloss.Width(s), 0))
}

// Truncate cuts s to width cells with an ellipsis, without padding.
func Truncate(s string, width int) string {
	if width <= 0 {
		return s
	}
	return ansi.Truncate(s, width, "…")
}
