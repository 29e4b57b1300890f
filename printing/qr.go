package printing

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// qrQuiet is the quiet zone QR readers need around the code, in modules.
const qrQuiet = 4

// qrModules returns the dark modules of a QR code for content (medium error
// correction, no quiet zone) and the side in modules with the quiet zone.
func qrModules(content string) ([][]bool, int, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, 0, fmt.Errorf("printing: QR code: %w", err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	return bm, len(bm) + 2*qrQuiet, nil
}

// qrRuns calls fn for every horizontal run of dark modules, in mm, so that a
// renderer draws a few dozen rectangles rather than hundreds of squares.
func qrRuns(q QR, fn func(x, y, w, h float64)) error {
	bm, side, err := qrModules(q.Content)
	if err != nil {
		return err
	}
	m := q.Size / float64(side)
	for r, row := range bm {
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < len(row) && row[c] {
				c++
			}
			fn(q.X+float64(qrQuiet+start)*m, q.Y+float64(qrQuiet+r)*m, float64(c-start)*m, m)
		}
	}
	return nil
}
