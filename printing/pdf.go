package printing

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-pdf/fpdf"
)

// PDFOptions controls PDF output.
type PDFOptions struct {
	// Created is the document's creation date, written into the PDF; a
	// bill's PDF uses its issue time, so the same bill always gives the
	// same bytes.
	Created time.Time
	// WholeFont embeds from the whole font, parsed for this document: what
	// fpdf does by default. Slower; the benchmark's baseline.
	WholeFont bool
}

// WritePDF renders doc as a PDF to w, embedding a subset of f with only the
// characters the document uses.
func WritePDF(w io.Writer, doc *Document, f *Font, opt PDFOptions) error {
	runes := map[rune]bool{}
	for _, t := range doc.Texts() {
		for _, r := range t.Text {
			runes[r] = true
		}
	}
	var fontData []byte
	var err error
	if opt.WholeFont {
		fontData = f.Data
	} else {
		fontData, err = f.Subset(runes)
	}
	if errors.Is(err, errSharedGlyph) {
		fontData, err = f.Data, nil // rare: embed from the whole font (slower, same result)
	}
	if err != nil {
		return err
	}

	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: doc.Width, Ht: doc.Height}})
	pdf.SetCompression(true)
	pdf.SetCatalogSort(true)
	created := opt.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetProducer("ebill", true)
	pdf.SetCreator("ebill", true)
	pdf.SetTitle(doc.Title, true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.AddUTF8FontFromBytes("cjk", "", fontData)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("printing: PDF font: %w", err)
	}
	for _, p := range doc.Pages {
		pdf.AddPage()
		for _, it := range p.Items {
			if err := drawPDF(pdf, f, it); err != nil {
				return err
			}
		}
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("printing: PDF: %w", err)
	}
	return nil
}

// PDF renders doc to a byte slice.
func PDF(doc *Document, f *Font, opt PDFOptions) ([]byte, error) {
	var b bytes.Buffer
	if err := WritePDF(&b, doc, f, opt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func drawPDF(pdf *fpdf.Fpdf, f *Font, it Item) error {
	switch v := it.(type) {
	case Text:
		pdf.SetFont("cjk", "", v.Size)
		pdf.SetTextColor(int(v.Color.R), int(v.Color.G), int(v.Color.B))
		pdf.Text(textX(f, v), v.Y+f.Ascent()*v.Size*PointsToMM, v.Text)
	case Line:
		pdf.SetDrawColor(int(v.Color.R), int(v.Color.G), int(v.Color.B))
		pdf.SetLineWidth(v.Width)
		pdf.Line(v.X1, v.Y1, v.X2, v.Y2)
	case Rect:
		style := "D"
		if v.Fill {
			style = "F"
			pdf.SetFillColor(int(v.Color.R), int(v.Color.G), int(v.Color.B))
		} else {
			pdf.SetDrawColor(int(v.Color.R), int(v.Color.G), int(v.Color.B))
			pdf.SetLineWidth(v.Width)
		}
		pdf.Rect(v.X, v.Y, v.W, v.H, style)
	case Ellipse:
		pdf.SetDrawColor(int(v.Color.R), int(v.Color.G), int(v.Color.B))
		pdf.SetLineWidth(v.Width)
		pdf.Ellipse(v.X, v.Y, v.RX, v.RY, 0, "D")
	case Picture:
		name := fmt.Sprintf("pic-%x", sha256.Sum256(v.PNG))
		opt := fpdf.ImageOptions{ImageType: "PNG", ReadDpi: false}
		if info := pdf.GetImageInfo(name); info == nil {
			pdf.RegisterImageOptionsReader(name, opt, bytes.NewReader(v.PNG))
		}
		pdf.ImageOptions(name, v.X, v.Y, v.W, v.H, false, opt, 0, "")
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("printing: picture: %w", err)
		}
	case QR:
		// One path filled once: module rectangles filled one by one leave
		// hairline seams where a rasteriser's anti-aliasing meets at a
		// fractional pixel (the code did not scan at 300 or 500 dpi);
		// within one path the shared edges are inside the shape.
		pdf.SetFillColor(0, 0, 0)
		err := qrRuns(v, func(x, y, w, h float64) {
			pdf.MoveTo(x, y)
			pdf.LineTo(x+w, y)
			pdf.LineTo(x+w, y+h)
			pdf.LineTo(x, y+h)
			pdf.ClosePath()
		})
		if err != nil {
			return err
		}
		pdf.DrawPath("F")
	}
	return nil
}

// textX is where a text item's first glyph starts, after alignment.
func textX(f *Font, t Text) float64 {
	switch t.Align {
	case AlignCenter:
		return t.X + (t.W-f.Width(t.Text, t.Size))/2
	case AlignRight:
		return t.X + t.W - f.Width(t.Text, t.Size)
	}
	return t.X
}
