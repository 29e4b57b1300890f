// Package printing lays out bills in millimetres and renders the layouts:
// to PDF (go-pdf/fpdf), to images for on-screen preview, and to printers
// (CUPS on Linux, GDI on Windows, a PDF file everywhere).
//
// A layout (Document) is plain data: pages of positioned text, lines,
// rectangles and QR codes. The code that knows bills (the e-bill face, the
// paper templates, the calibration page) builds layouts; renderers know only
// layouts. Coordinates are millimetres from the page's top-left corner.
package printing

import "image/color"

// Document is one print job: pages of the same size.
type Document struct {
	Title  string  // the PDF title and print job name
	Width  float64 // page width in mm
	Height float64 // page height in mm
	Pages  []*Page
}

// Page is one page of items, drawn in order.
type Page struct {
	Items []Item
}

// Item is one of Text, Line, Rect, Ellipse and QR.
type Item interface{ item() }

// Align places text within its box.
type Align int

const (
	AlignLeft Align = iota
	AlignCenter
	AlignRight
)

// Text is a single line of text. Its box starts at (X, Y), the top of the
// text's ascent; W is the box width used for centring and right alignment
// (0 for left-aligned text that needs no box). Size is in points.
type Text struct {
	X, Y, W float64
	Size    float64
	Align   Align
	Color   color.RGBA
	Text    string
	Field   string // what the text shows, for tests and debugging ("payer", "total")
}

// Line is a straight line from (X1, Y1) to (X2, Y2), Width mm thick.
type Line struct {
	X1, Y1, X2, Y2 float64
	Width          float64
	Color          color.RGBA
}

// Rect is a rectangle, outlined Width mm thick, or filled when Fill is set.
type Rect struct {
	X, Y, W, H float64
	Width      float64
	Color      color.RGBA
	Fill       bool
}

// Ellipse is an outlined ellipse centred on (X, Y) with radii RX and RY.
type Ellipse struct {
	X, Y, RX, RY float64
	Width        float64
	Color        color.RGBA
}

// Picture is a PNG image (the hospital's registered seal) drawn into the
// box W×H mm at (X, Y).
type Picture struct {
	X, Y, W, H float64
	PNG        []byte
}

// QR is a QR code of Content, Size mm square with its quiet zone, at (X, Y).
type QR struct {
	X, Y, Size float64
	Content    string
}

func (Text) item()    {}
func (Line) item()    {}
func (Rect) item()    {}
func (Ellipse) item() {}
func (QR) item()      {}
func (Picture) item() {}

// Colours used by layouts.
var (
	Black = color.RGBA{0, 0, 0, 255}
	Red   = color.RGBA{200, 16, 16, 255}
	Grey  = color.RGBA{110, 110, 110, 255}
	Brown = color.RGBA{150, 75, 0, 255} // the e-bill form's printed frame
)

// PointsToMM converts a font size in points to millimetres.
const PointsToMM = 25.4 / 72

// Texts returns every text item of the document's pages, in order.
func (d *Document) Texts() []Text {
	var out []Text
	for _, p := range d.Pages {
		for _, it := range p.Items {
			if t, ok := it.(Text); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// Shift returns a copy of the document with every item moved by (dx, dy)
// mm: how a printer's calibration offset is applied.
func (d *Document) Shift(dx, dy float64) *Document {
	out := *d
	out.Pages = make([]*Page, len(d.Pages))
	for i, p := range d.Pages {
		np := &Page{Items: make([]Item, len(p.Items))}
		for j, it := range p.Items {
			switch v := it.(type) {
			case Text:
				v.X, v.Y = v.X+dx, v.Y+dy
				np.Items[j] = v
			case Line:
				v.X1, v.Y1, v.X2, v.Y2 = v.X1+dx, v.Y1+dy, v.X2+dx, v.Y2+dy
				np.Items[j] = v
			case Rect:
				v.X, v.Y = v.X+dx, v.Y+dy
				np.Items[j] = v
			case Ellipse:
				v.X, v.Y = v.X+dx, v.Y+dy
				np.Items[j] = v
			case QR:
				v.X, v.Y = v.X+dx, v.Y+dy
				np.Items[j] = v
			case Picture:
				v.X, v.Y = v.X+dx, v.Y+dy
				np.Items[j] = v
			}
		}
		out.Pages[i] = np
	}
	return &out
}

// page is a helper for the layout builders.
type page struct {
	f     *Font
	items []Item
}

func (p *page) add(it Item) { p.items = append(p.items, it) }

// text adds left-aligned text; it shrinks the size until the text fits w
// (when w > 0), down to 60% of the requested size, then cuts it with "…".
func (p *page) text(field string, x, y, w, size float64, align Align, c color.RGBA, s string) {
	if s == "" {
		return
	}
	if w > 0 {
		s, size = p.f.Fit(s, size, w)
	}
	p.add(Text{X: x, Y: y, W: w, Size: size, Align: align, Color: c, Text: s, Field: field})
}

func (p *page) hline(x1, x2, y, width float64, c color.RGBA) {
	p.add(Line{X1: x1, Y1: y, X2: x2, Y2: y, Width: width, Color: c})
}

func (p *page) vline(x, y1, y2, width float64, c color.RGBA) {
	p.add(Line{X1: x, Y1: y1, X2: x, Y2: y2, Width: width, Color: c})
}
