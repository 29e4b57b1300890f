package printing

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	qr "github.com/piglig/go-qr"
)

// qrQuiet is the quiet zone QR readers need around the code, in modules.
const qrQuiet = 4

// qrRuns calls fn for every horizontal run of dark modules, in mm, so that a
// renderer draws a few dozen rectangles rather than hundreds of squares.
// The code has at least medium error correction (more when it fits in the
// same size), so a smudged paper print still scans.
func qrRuns(q QR, fn func(x, y, w, h float64)) error {
	code, err := qr.EncodeText(q.Content, qr.Medium)
	if err != nil {
		return fmt.Errorf("printing: QR code: %w", err)
	}
	n := code.Size()
	m := q.Size / float64(n+2*qrQuiet)
	for r := 0; r < n; r++ {
		for c := 0; c < n; {
			if !code.Module(c, r) {
				c++
				continue
			}
			start := c
			for c < n && code.Module(c, r) {
				c++
			}
			fn(q.X+float64(qrQuiet+start)*m, q.Y+float64(qrQuiet+r)*m, float64(c-start)*m, m)
		}
	}
	return nil
}

// QRPNG renders a QR code of content as a black-and-white PNG of about px
// pixels square (whole pixels per module), with its quiet zone: the
// billQRCode of the HIS interface. It is drawn module by module, not through
// the layout renderer, so it costs a fraction of a millisecond.
func QRPNG(content string, px int) ([]byte, error) {
	code, err := qr.EncodeText(content, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("printing: QR code: %w", err)
	}
	n := code.Size()
	side := n + 2*qrQuiet
	scale := max(px/side, 1)
	// An 8-bit palette (more than 16 entries, 2 used): the PNG encoder then
	// copies rows as they are and skips the per-row filter search.
	palette := make(color.Palette, 17)
	for i := range palette {
		palette[i] = color.White
	}
	palette[1] = color.Black
	img := image.NewPaletted(image.Rect(0, 0, side*scale, side*scale), palette)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if !code.Module(x, y) {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[((qrQuiet+y)*scale+dy)*img.Stride:]
				for dx := 0; dx < scale; dx++ {
					row[(qrQuiet+x)*scale+dx] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngBuffers}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// pngBuffers lets PNG encoders reuse their buffers and zlib writer (a new
// one allocates about a megabyte).
var pngBuffers = &pngPool{}

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	if b, ok := p.p.Get().(*png.EncoderBuffer); ok {
		return b
	}
	return nil
}

func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }
