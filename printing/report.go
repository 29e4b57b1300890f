package printing

// ReportTable is one table of a report: column titles, widths in mm and
// rows of cells; columns after the first are right-aligned (figures).
type ReportTable struct {
	Title   string
	Columns []string
	Widths  []float64
	Rows    [][]string
	// Grid rules every cell, as a form does.
	Grid bool
}

// Report lays out a plain A4 report (the daily closing, lists): a title,
// lines of text, then tables, continued on new pages as needed.
func Report(title string, lines []string, tables []ReportTable, f *Font) *Document {
	const w, h, left, top, bottom, row = 210.0, 297.0, 15.0, 15.0, 280.0, 6.5
	doc := &Document{Title: title, Width: w, Height: h}
	p := &page{f: f}
	y := top
	flush := func() {
		doc.Pages = append(doc.Pages, &Page{Items: p.items})
		p = &page{f: f}
		y = top
	}
	need := func(dy float64) {
		if y+dy > bottom {
			flush()
		}
	}
	p.text("title", 0, y, w, 16, AlignCenter, Black, title)
	y += 12
	for _, l := range lines {
		need(row)
		p.text("line", left, y, w-2*left, 10, AlignLeft, Black, l)
		y += row
	}
	for _, t := range tables {
		need(3 * row)
		y += 3
		if t.Title != "" {
			p.text("tableTitle", left, y, w-2*left, 11, AlignLeft, Black, t.Title)
			y += row + 1
		}
		rule := func() { // the cell borders of the row just written, at y
			if !t.Grid {
				return
			}
			x := left
			p.vline(x, y-row-1, y-1, 0.2, Black)
			for _, wd := range t.Widths {
				x += wd
				p.vline(x, y-row-1, y-1, 0.2, Black)
			}
			p.hline(left, x, y-1, 0.2, Black)
		}
		header := func() {
			x := left
			if t.Grid {
				var total float64
				for _, wd := range t.Widths {
					total += wd
				}
				p.hline(left, left+total, y-1, 0.2, Black)
			}
			for i, c := range t.Columns {
				align := AlignRight
				if i == 0 {
					align = AlignLeft
				}
				p.text("header", x+1, y, t.Widths[i]-2, 10, align, Grey, c)
				x += t.Widths[i]
			}
			y += row
			p.hline(left, x, y-1, 0.2, Grey)
			rule()
		}
		header()
		for _, r := range t.Rows {
			if y+row > bottom {
				flush()
				header()
			}
			x := left
			for i, c := range r {
				if i >= len(t.Widths) {
					break
				}
				align := AlignRight
				if i == 0 {
					align = AlignLeft
				}
				p.text("cell", x+1, y, t.Widths[i]-2, 10, align, Black, c)
				x += t.Widths[i]
			}
			y += row
			rule()
		}
	}
	flush()
	return doc
}
