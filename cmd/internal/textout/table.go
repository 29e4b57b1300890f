// Package textout prints aligned tables for Chinese terminals.
package textout

import (
	"io"
	"strings"
)

// Table is a text/tabwriter for Chinese: cells end in tabs, rows in
// newlines, and Flush aligns the columns by display width (a Chinese
// character takes two columns on a terminal, which tabwriter does not know).
type Table struct {
	out io.Writer
	buf strings.Builder
}

// NewTable starts a table written to out on Flush.
func NewTable(out io.Writer) *Table { return &Table{out: out} }

func (t *Table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the aligned table.
func (t *Table) Flush() error {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(t.buf.String(), "\n"), "\n") {
		rows = append(rows, strings.Split(line, "\t"))
	}
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteString("\n")
	}
	t.buf.Reset()
	_, err := io.WriteString(t.out, b.String())
	return err
}

// displayWidth counts East Asian wide and full-width characters as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
			r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
			n += 2
		default:
			n++
		}
	}
	return n
}
