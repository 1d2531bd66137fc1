package render

import (
	"io"
	"math"
	"strings"

	"github.com/mattn/go-runewidth"
)

// CheckOutputWidth is the width flyctl's `checks list` wraps OUTPUT to.
const CheckOutputWidth = 30

// Wrap flows text (line breaks become spaces) into lines of at most
// width display columns with the least raggedness, as flyctl's tables
// do (the sum over lines but the last of the squared room left). A word
// longer than width widens the limit to its own width.
func Wrap(text string, width int) []string {
	words := strings.Fields(text)
	n := len(words)
	if n == 0 {
		return nil
	}
	// length(i, j): words i..j-1 on one line.
	prefix := make([]int, n+1)
	for i, w := range words {
		ww := runewidth.StringWidth(w)
		prefix[i+1] = prefix[i] + ww
		width = max(width, ww) // a long word widens every line, as in flyctl
	}
	length := func(i, j int) int { return prefix[j] - prefix[i] + (j - i - 1) }
	cost := make([]int, n+1)
	next := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		if length(i, n) <= width {
			cost[i], next[i] = 0, n // the last line costs nothing
			continue
		}
		cost[i] = math.MaxInt
		for j := i + 1; j < n; j++ {
			room := width - length(i, j)
			if room < 0 {
				break // longer lines only get longer
			}
			if c := room*room + cost[j]; c < cost[i] {
				cost[i], next[i] = c, j
			}
		}
	}
	var lines []string
	for i := 0; i < n; i = next[i] {
		lines = append(lines, strings.Join(words[i:next[i]], " "))
	}
	return lines
}

// MultilineTable is Table for cells that hold several lines ("\n"): a
// row takes as many lines as its tallest cell, the other columns left
// blank below their first line. With blankBetween, an empty line
// separates rows (flyctl's checks block in `vm status`).
func MultilineTable(w io.Writer, title string, rows [][]string, blankBetween bool, headers ...string) error {
	var lines [][]string // every printed line's cells
	var breaks []bool    // a blank line before this line
	if len(headers) > 0 {
		hs := make([]string, len(headers))
		for i, h := range headers {
			hs[i] = strings.ToUpper(h)
		}
		lines, breaks = append(lines, hs), append(breaks, false)
	}
	for r, row := range rows {
		cells := make([][]string, len(row))
		height := 1
		for i, c := range row {
			cells[i] = strings.Split(c, "\n")
			height = max(height, len(cells[i]))
		}
		for k := range height {
			line := make([]string, len(row))
			for i := range row {
				if k < len(cells[i]) {
					line[i] = cells[i][k]
				}
			}
			lines, breaks = append(lines, line), append(breaks, blankBetween && r > 0 && k == 0)
		}
	}
	widths := columnWidths(lines)
	var b strings.Builder
	if title != "" {
		b.WriteString(title + "\n")
	}
	for n, line := range lines {
		if breaks[n] {
			b.WriteString("\n")
		}
		var l strings.Builder
		for i, cell := range line {
			l.WriteString(cell)
			if i < len(line)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(cell)+1))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
