package printing

import (
	"bytes"
	"fmt"
	"image/png"

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

// QRPNG renders a QR code of content as a PNG of about px pixels square,
// with its quiet zone: the billQRCode of the HIS interface.
func QRPNG(content string, px int) ([]byte, error) {
	const size = 30.0 // mm
	doc := &Document{Width: size, Height: size, Pages: []*Page{{Items: []Item{QR{X: 0, Y: 0, Size: size, Content: content}}}}}
	img, err := Image(doc, 0, nil, float64(px)/size*25.4)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
