package printing

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
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
// billQRCode of the HIS interface. The PNG (1 bit per pixel, black and
// white palette, no row filters) is written straight from the modules:
// image/png reads such an image pixel by pixel through an interface, which
// cost more than the QR code itself.
func QRPNG(content string, px int) ([]byte, error) {
	code, err := qr.EncodeText(content, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("printing: QR code: %w", err)
	}
	n := code.Size()
	side := n + 2*qrQuiet
	scale := max(px/side, 1)
	w := side * scale
	stride := 1 + (w+7)/8 // the filter byte (0: none), then 8 pixels a byte

	z := qrZlib.Get().(*qrDeflate)
	defer qrZlib.Put(z)
	z.raw.Reset()
	z.out.Reset()
	row := make([]byte, stride)
	for y := 0; y < side; y++ {
		clear(row)
		if my := y - qrQuiet; my >= 0 && my < n {
			for mx := 0; mx < n; mx++ {
				if !code.Module(mx, my) {
					continue
				}
				for x := (qrQuiet + mx) * scale; x < (qrQuiet+mx+1)*scale; x++ {
					row[1+x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		for range scale {
			z.raw.Write(row)
		}
	}
	z.w.Reset(&z.out)
	if _, err := z.w.Write(z.raw.Bytes()); err != nil {
		return nil, err
	}
	if err := z.w.Close(); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	b.Grow(z.out.Len() + 80)
	b.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(w))
	ihdr[8], ihdr[9] = 1, 3 // bit depth 1, indexed colour; compression, filter, interlace 0
	pngChunk(&b, "IHDR", ihdr[:])
	pngChunk(&b, "PLTE", []byte{0xff, 0xff, 0xff, 0, 0, 0}) // index 0 white, 1 black
	pngChunk(&b, "IDAT", z.out.Bytes())
	pngChunk(&b, "IEND", nil)
	return b.Bytes(), nil
}

// pngChunk appends one PNG chunk: length, type, data, CRC of type and data.
func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// qrDeflate is a reusable zlib writer with its buffers (a new zlib writer
// allocates about a megabyte).
type qrDeflate struct {
	raw, out bytes.Buffer
	w        *zlib.Writer
}

var qrZlib = sync.Pool{New: func() any {
	z := &qrDeflate{}
	z.w, _ = zlib.NewWriterLevel(&z.out, zlib.BestSpeed)
	return z
}}
