package printing

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/tdewolff/font"

	"github.com/ebill/ebill/assets"
)

// Font is the embedded CJK font, parsed once and shared by every renderer
// and layout: its metrics place text, and per-document subsets of it are
// what PDFs embed.
type Font struct {
	Data   []byte
	sfnt   *font.SFNT
	upem   float64
	ascent float64   // of the em, as a fraction (hhea ascender / unitsPerEm)
	widths []float32 // advance of every BMP rune as a fraction of the em
	raster rasterFont
}

var (
	defaultFont     *Font
	defaultFontErr  error
	defaultFontOnce sync.Once
)

// DefaultFont returns the font embedded in assets, parsed on first use.
func DefaultFont() (*Font, error) {
	defaultFontOnce.Do(func() { defaultFont, defaultFontErr = ParseFont(assets.Font) })
	return defaultFont, defaultFontErr
}

// ParseFont parses a TrueType font (not a collection, not CFF outlines).
func ParseFont(data []byte) (*Font, error) {
	s, err := font.ParseSFNT(data, 0)
	if err != nil {
		return nil, fmt.Errorf("printing: parse font: %w", err)
	}
	if !s.IsTrueType {
		return nil, fmt.Errorf("printing: the font must have TrueType outlines")
	}
	f := &Font{Data: data, sfnt: s, upem: float64(s.Head.UnitsPerEm), widths: make([]float32, 0x10000)}
	f.ascent = float64(s.Hhea.Ascender) / f.upem
	for r := range f.widths {
		f.widths[r] = float32(f.glyphAdvance(rune(r)))
	}
	return f, nil
}

// Ascent is the height above the baseline, as a fraction of the font size,
// at which a text item's box starts.
func (f *Font) Ascent() float64 { return f.ascent }

// Has reports whether the font has a glyph for r.
func (f *Font) Has(r rune) bool { return f.sfnt.GlyphIndex(r) != 0 }

func (f *Font) glyphAdvance(r rune) float64 {
	return float64(f.sfnt.GlyphAdvance(f.sfnt.GlyphIndex(r))) / f.upem
}

func (f *Font) advance(r rune) float64 {
	if r >= 0 && int(r) < len(f.widths) {
		return float64(f.widths[r])
	}
	return f.glyphAdvance(r)
}

// Width is the width of s in mm at size points.
func (f *Font) Width(s string, size float64) float64 {
	var em float64
	for _, r := range s {
		em += f.advance(r)
	}
	return em * size * PointsToMM
}

// Fit returns s and a size at which it fits w mm: the size is reduced down
// to 60% of the request; beyond that s is cut and ends with "…".
func (f *Font) Fit(s string, size, w float64) (string, float64) {
	width := f.Width(s, size)
	if width <= w {
		return s, size
	}
	if min := size * 0.6; width*min/size <= w {
		return s, size * w / width
	} else {
		size = min
	}
	for utf8.RuneCountInString(s) > 1 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
		if f.Width(s+"…", size) <= w {
			return s + "…", size
		}
	}
	return s, size
}

// Subset returns a TrueType font holding only the glyphs of runes (and
// .notdef), with the same metrics: what a PDF embeds. Parsing the whole
// font for every document is what makes bulk PDF output slow.
func (f *Font) Subset(runes map[rune]bool) ([]byte, error) {
	ids := []uint16{0}
	seen := map[uint16]bool{0: true}
	for r := range runes {
		g := f.sfnt.GlyphIndex(r)
		if !seen[g] {
			seen[g] = true
			ids = append(ids, g)
		}
	}
	slices.Sort(ids[1:]) // deterministic output
	sub, err := f.sfnt.Subset(ids, font.SubsetOptions{Tables: font.KeepMinTables})
	if err != nil {
		return nil, fmt.Errorf("printing: subset font: %w", err)
	}
	// A glyph shared by two characters keeps only one of them in the
	// subset's character map; such a subset cannot be used.
	for r := range runes {
		if f.sfnt.GlyphIndex(r) != 0 && sub.GlyphIndex(r) == 0 {
			return nil, errSharedGlyph
		}
	}
	return stableHead(sub.Write(), f.sfnt.Tables["head"]), nil
}

// stableHead sets the subset's head.modified to the original font's (the
// font library stamps the time of writing, which made the same bill's PDF
// differ from one second to the next) and recomputes the head table's
// checksum and the font's checkSumAdjustment. buf is a TrueType file as
// SFNT.Write makes it; it is returned unchanged if it has no head table.
func stableHead(buf, origHead []byte) []byte {
	if len(buf) < 12 || len(origHead) < 36 {
		return buf
	}
	n := int(binary.BigEndian.Uint16(buf[4:]))
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if rec+16 > len(buf) || string(buf[rec:rec+4]) != "head" {
			continue
		}
		off, length := int(binary.BigEndian.Uint32(buf[rec+8:])), int(binary.BigEndian.Uint32(buf[rec+12:]))
		if off+36 > len(buf) || off+length > len(buf) {
			return buf
		}
		copy(buf[off+28:off+36], origHead[28:36])  // modified
		binary.BigEndian.PutUint32(buf[off+8:], 0) // checkSumAdjustment, zero while summing
		end := min(off+(length+3)&^3, len(buf))
		binary.BigEndian.PutUint32(buf[rec+4:], sfntChecksum(buf[off:end]))
		binary.BigEndian.PutUint32(buf[off+8:], 0xB1B0AFBA-sfntChecksum(buf))
		return buf
	}
	return buf
}

// sfntChecksum is the TrueType checksum: the sum of big-endian uint32s,
// the last padded with zeros.
func sfntChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:min(i+4, len(b))])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

var errSharedGlyph = fmt.Errorf("printing: a glyph serves more than one character")
