package printing

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sync"

	xdraw "golang.org/x/image/draw"
	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// rasterFont holds the font parsed for rasterizing, and its faces by size.
type rasterFont struct {
	once  sync.Once
	err   error
	otf   *opentype.Font
	mu    sync.Mutex
	faces map[float64]xfont.Face
}

func (f *Font) face(px float64) (xfont.Face, error) {
	rf := &f.raster
	rf.once.Do(func() {
		rf.otf, rf.err = opentype.Parse(f.Data)
		rf.faces = map[float64]xfont.Face{}
	})
	if rf.err != nil {
		return nil, rf.err
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if fc, ok := rf.faces[px]; ok {
		return fc, nil
	}
	fc, err := opentype.NewFace(rf.otf, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: xfont.HintingNone})
	if err != nil {
		return nil, err
	}
	rf.faces[px] = fc
	return fc, nil
}

// Image renders one page of doc at dpi dots per inch: the on-screen
// preview, from the same layout as the PDF and the printers.
func Image(doc *Document, pageIndex int, f *Font, dpi float64) (*image.RGBA, error) {
	if pageIndex < 0 || pageIndex >= len(doc.Pages) {
		return nil, fmt.Errorf("printing: page %d of %d", pageIndex+1, len(doc.Pages))
	}
	px := dpi / 25.4 // pixels per mm
	w, h := int(math.Ceil(doc.Width*px)), int(math.Ceil(doc.Height*px))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, it := range doc.Pages[pageIndex].Items {
		if err := drawImage(img, f, px, it); err != nil {
			return nil, err
		}
	}
	return img, nil
}

func drawImage(img *image.RGBA, f *Font, px float64, it Item) error {
	switch v := it.(type) {
	case Text:
		size := math.Round(v.Size*PointsToMM*px*4) / 4 // the em in pixels; a few sizes cached
		fc, err := f.face(size)
		if err != nil {
			return err
		}
		d := xfont.Drawer{Dst: img, Src: image.NewUniform(v.Color), Face: fc,
			Dot: fixed.Point26_6{X: fixed.Int26_6(textX(f, v) * px * 64),
				Y: fixed.Int26_6((v.Y + f.Ascent()*v.Size*PointsToMM) * px * 64)}}
		d.DrawString(v.Text)
	case Line:
		fill(img, v.Color, strokeQuad(v.X1*px, v.Y1*px, v.X2*px, v.Y2*px, math.Max(v.Width*px, 1)))
	case Rect:
		x, y, w, h := v.X*px, v.Y*px, v.W*px, v.H*px
		if v.Fill {
			fill(img, v.Color, [][]point{{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}})
			return nil
		}
		lw := math.Max(v.Width*px, 1)
		for _, l := range [][4]float64{{x, y, x + w, y}, {x + w, y, x + w, y + h}, {x + w, y + h, x, y + h}, {x, y + h, x, y}} {
			fill(img, v.Color, strokeQuad(l[0], l[1], l[2], l[3], lw))
		}
	case Ellipse:
		lw := math.Max(v.Width*px, 1)
		outer, inner := ellipse(v.X*px, v.Y*px, v.RX*px+lw/2, v.RY*px+lw/2, false), ellipse(v.X*px, v.Y*px, v.RX*px-lw/2, v.RY*px-lw/2, true)
		fill(img, v.Color, [][]point{outer, inner})
	case Picture:
		pic, err := png.Decode(bytes.NewReader(v.PNG))
		if err != nil {
			return fmt.Errorf("printing: picture: %w", err)
		}
		r := image.Rect(int(v.X*px), int(v.Y*px), int((v.X+v.W)*px), int((v.Y+v.H)*px))
		xdraw.CatmullRom.Scale(img, r, pic, pic.Bounds(), xdraw.Over, nil)
	case QR:
		return qrRuns(v, func(x, y, w, h float64) {
			fill(img, Black, [][]point{{{x * px, y * px}, {(x + w) * px, y * px}, {(x + w) * px, (y + h) * px}, {x * px, (y + h) * px}}})
		})
	}
	return nil
}

type point struct{ x, y float64 }

func strokeQuad(x1, y1, x2, y2, w float64) [][]point {
	dx, dy := x2-x1, y2-y1
	l := math.Hypot(dx, dy)
	if l == 0 {
		return nil
	}
	nx, ny := -dy/l*w/2, dx/l*w/2
	return [][]point{{{x1 + nx, y1 + ny}, {x2 + nx, y2 + ny}, {x2 - nx, y2 - ny}, {x1 - nx, y1 - ny}}}
}

func ellipse(cx, cy, rx, ry float64, reverse bool) []point {
	const n = 72
	out := make([]point, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / n
		if reverse {
			a = -a
		}
		out[i] = point{cx + rx*math.Cos(a), cy + ry*math.Sin(a)}
	}
	return out
}

// fill paints the polygons (non-zero winding within each, summed) in c,
// rasterizing only their bounding box.
func fill(img *image.RGBA, c color.RGBA, polys [][]point) {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range polys {
		for _, p := range poly {
			minX, minY, maxX, maxY = math.Min(minX, p.x), math.Min(minY, p.y), math.Max(maxX, p.x), math.Max(maxY, p.y)
		}
	}
	box := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX))+1, int(math.Ceil(maxY))+1)
	box = box.Intersect(img.Bounds())
	if box.Empty() {
		return
	}
	r := vector.NewRasterizer(box.Dx(), box.Dy())
	ox, oy := float32(box.Min.X), float32(box.Min.Y)
	for _, poly := range polys {
		if len(poly) == 0 {
			continue
		}
		r.MoveTo(float32(poly[0].x)-ox, float32(poly[0].y)-oy)
		for _, p := range poly[1:] {
			r.LineTo(float32(p.x)-ox, float32(p.y)-oy)
		}
		r.ClosePath()
	}
	r.Draw(img, box, image.NewUniform(c), box.Min)
}
