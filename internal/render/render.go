// Package render prints CLI output in flyctl's shapes: aligned tables,
// "Key = value" blocks and indented JSON. The cockpit's wizard uses the
// postgres-specific blocks (credentials, deployment monitor) too, so the
// text a user sees is the same in both places.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Table prints rows under upper-case headers, one space between padded
// columns as flyctl's tables do. A non-empty title goes on its own line
// above. Trailing padding is trimmed so output diffs and pastes cleanly.
func Table(w io.Writer, title string, rows [][]string, headers ...string) error {
	var b strings.Builder
	if title != "" {
		b.WriteString(title + "\n")
	}
	all := rows
	if len(headers) > 0 {
		hs := make([]string, len(headers))
		for i, h := range headers {
			hs[i] = strings.ToUpper(h)
		}
		all = append([][]string{hs}, rows...)
	}
	widths := columnWidths(all)
	for _, row := range all {
		var line strings.Builder
		for i, cell := range row {
			line.WriteString(cell)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(cell)+1))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func columnWidths(rows [][]string) []int {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(cell))
		}
	}
	return widths
}

// VerticalTable prints "  Key = value" lines with the keys padded to one
// width, under an optional title: the seed's `Name     = test-postgres`.
func VerticalTable(w io.Writer, title string, kv [][2]string) error {
	var b strings.Builder
	if title != "" {
		b.WriteString(title + "\n")
	}
	width := 0
	for _, p := range kv {
		width = max(width, runewidth.StringWidth(p[0]))
	}
	for _, p := range kv {
		pad := strings.Repeat(" ", width-runewidth.StringWidth(p[0]))
		b.WriteString(strings.TrimRight(fmt.Sprintf("  %s%s = %s", p[0], pad, p[1]), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON prints v indented by two spaces with a final newline, the shape
// scripts get from every `--json` flag.
func JSON(w io.Writer, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = w.Write(append(out, '\n'))
	return err
}
