package printing

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// OFD (GB/T 33190-2016) is the third renderer of a layout, beside PDF and
// images (issue 21, ofd.md): the same Document gives the same text in the
// same places. Each page carries everything (no template page: support
// for templates is partial in readers); one TextObject per text item with
// its per-glyph advances (DeltaX) from the embedded font subset, so the
// layout does not depend on the reader's fonts; paths for lines,
// rectangles and the ellipse; PNG images for the QR code and pictures.
// Children are written in XSD order, IDs are unique in the document and
// MaxUnitID is the largest. Signing with the hospital's registered seal is
// not ebill's to do (ofd.md §1); OFDOptions.Signer is the seam where a
// signing server or UKey adds it (§9).

// OFDOptions are what an OFD holds beside the pages.
type OFDOptions struct {
	DocID      string      // 32 hex digits; made from the content when empty
	Created    time.Time   // DocInfo/CreationDate (zero: today)
	CustomData [][2]string // DocInfo/CustomDatas, in order: name, value
	// Attachment, when set, rides along hidden (the bill's signed data).
	Attachment *OFDAttachment
	// Tags name the TextObjects that show a field: the layout's Text.Field
	// values listed here are written to Tags/CustomTags.xml with the ID of
	// their TextObject (ofd.md §8).
	Tags []string
	// TagNamespace is the namespace of the tag file.
	TagNamespace string
	// Signer, when set, signs the finished package (ofd.md §9).
	Signer OFDSigner
}

// OFDSigner signs a written package with the hospital's registered seal:
// a signing server or UKey (ofd.md §1, §9), never ebill itself. It is
// given every entry as stored (it computes SM3 CheckValues over these
// bytes) and returns the entries to add (Doc_0/Signs/…) and the location
// of Signatures.xml, which OFD.xml then names.
type OFDSigner interface {
	SignOFD(entries map[string][]byte) (add map[string][]byte, signaturesLoc string, err error)
}

// OFDAttachment is a file carried in the OFD (Attachs/), not shown.
type OFDAttachment struct {
	Name   string // also its file name inside the package
	Format string // "json", "xml"
	Data   []byte
}

const ofdNS = "http://www.ofdspec.org/2016"

// OFD renders doc to an OFD package.
func OFD(doc *Document, f *Font, opt OFDOptions) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteOFD(&b, doc, f, opt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteOFD writes doc to w as an OFD package.
func WriteOFD(w io.Writer, doc *Document, f *Font, opt OFDOptions) error {
	o := &ofdWriter{f: f, doc: doc, opt: opt, nextID: 1, tagIDs: map[string][2]int{}}
	return o.write(w)
}

type ofdWriter struct {
	f      *Font
	doc    *Document
	opt    OFDOptions
	nextID int
	files  []ofdFile
	media  []ofdMedia
	byPNG  map[[32]byte]int
	tagIDs map[string][2]int // field → page ID, TextObject ID
}

type ofdFile struct {
	name string
	data []byte
}

type ofdMedia struct {
	id   int
	file string
}

func (o *ofdWriter) id() int {
	n := o.nextID
	o.nextID++
	return n
}

func (o *ofdWriter) add(name string, data []byte) { o.files = append(o.files, ofdFile{name, data}) }

func (o *ofdWriter) write(w io.Writer) error {
	// The font: one subset holding every character of the document.
	runes := map[rune]bool{}
	for _, t := range o.doc.Texts() {
		for _, r := range t.Text {
			runes[r] = true
		}
	}
	fontData, err := o.f.Subset(runes)
	if errors.Is(err, errSharedGlyph) {
		fontData, err = o.f.Data, nil // the whole font rather than a subset that loses a character
	}
	if err != nil {
		return err
	}
	fontID := o.id()
	o.add("Doc_0/Res/font_0.ttf", fontData)
	publicRes := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+
		`<ofd:Res xmlns:ofd="%s" BaseLoc="Res"><ofd:Fonts><ofd:Font ID="%d" FontName="WenQuanYi Micro Hei" FamilyName="WenQuanYi Micro Hei">`+
		`<ofd:FontFile>font_0.ttf</ofd:FontFile></ofd:Font></ofd:Fonts></ofd:Res>`, ofdNS, fontID)
	o.add("Doc_0/PublicRes.xml", []byte(publicRes))

	// Pages.
	type pageRef struct {
		id  int
		loc string
	}
	var pages []pageRef
	for i, p := range o.doc.Pages {
		pageID := o.id()
		content, err := o.page(p, pageID, fontID)
		if err != nil {
			return err
		}
		loc := fmt.Sprintf("Pages/Page_%d/Content.xml", i)
		o.add("Doc_0/"+loc, content)
		pages = append(pages, pageRef{pageID, loc})
	}
	// Images, once each.
	if len(o.media) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="%s" BaseLoc="Res"><ofd:MultiMedias>`, ofdNS)
		for _, m := range o.media {
			fmt.Fprintf(&b, `<ofd:MultiMedia ID="%d" Type="Image" Format="PNG"><ofd:MediaFile>%s</ofd:MediaFile></ofd:MultiMedia>`, m.id, m.file)
		}
		b.WriteString(`</ofd:MultiMedias></ofd:Res>`)
		o.add("Doc_0/DocumentRes.xml", []byte(b.String()))
	}
	// Tags pointing at the TextObjects of fields.
	var tagsLoc string
	if len(o.opt.Tags) > 0 {
		ns := o.opt.TagNamespace
		if ns == "" {
			ns = "urn:ebill:tags:1"
		}
		var t strings.Builder
		fmt.Fprintf(&t, `<?xml version="1.0" encoding="UTF-8"?><ebill:Bill xmlns:ebill="%s">`, xmlText(ns))
		for _, field := range o.opt.Tags {
			if ref, ok := o.tagIDs[field]; ok {
				fmt.Fprintf(&t, `<ebill:%s><ebill:ObjectRef PageRef="%d">%d</ebill:ObjectRef></ebill:%s>`, field, ref[0], ref[1], field)
			}
		}
		t.WriteString(`</ebill:Bill>`)
		o.add("Doc_0/Tags/Tag_Bill.xml", []byte(t.String()))
		o.add("Doc_0/Tags/CustomTags.xml", []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+
			`<ofd:CustomTags xmlns:ofd="%s"><ofd:CustomTag NameSpace="%s"><ofd:FileLoc>Tag_Bill.xml</ofd:FileLoc></ofd:CustomTag></ofd:CustomTags>`,
			ofdNS, xmlText(ns))))
		tagsLoc = "Tags/CustomTags.xml"
	}
	var attachLoc string
	if a := o.opt.Attachment; a != nil {
		o.add("Doc_0/Attachs/"+a.Name, a.Data)
		o.add("Doc_0/Attachs/Attachments.xml", []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+
			`<ofd:Attachments xmlns:ofd="%s"><ofd:Attachment ID="att0" Name="%s" Format="%s" Visible="false" Size="%.3f">`+
			`<ofd:FileLoc>%s</ofd:FileLoc></ofd:Attachment></ofd:Attachments>`,
			ofdNS, xmlText(a.Name), xmlText(a.Format), float64(len(a.Data))/1024, xmlText(a.Name))))
		attachLoc = "Attachs/Attachments.xml"
	}

	// Document.xml: CommonData (MaxUnitID first), Pages, then CustomTags
	// and Attachments, in XSD order.
	var d strings.Builder
	fmt.Fprintf(&d, `<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="%s"><ofd:CommonData>`, ofdNS)
	fmt.Fprintf(&d, `<ofd:MaxUnitID>%d</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 %s %s</ofd:PhysicalBox></ofd:PageArea>`,
		o.nextID-1, num(o.doc.Width), num(o.doc.Height))
	d.WriteString(`<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>`)
	if len(o.media) > 0 {
		d.WriteString(`<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>`)
	}
	d.WriteString(`</ofd:CommonData><ofd:Pages>`)
	for _, p := range pages {
		fmt.Fprintf(&d, `<ofd:Page ID="%d" BaseLoc="%s"/>`, p.id, p.loc)
	}
	d.WriteString(`</ofd:Pages>`)
	if tagsLoc != "" {
		fmt.Fprintf(&d, `<ofd:CustomTags>%s</ofd:CustomTags>`, tagsLoc)
	}
	if attachLoc != "" {
		fmt.Fprintf(&d, `<ofd:Attachments>%s</ofd:Attachments>`, attachLoc)
	}
	d.WriteString(`</ofd:Document>`)
	o.add("Doc_0/Document.xml", []byte(d.String()))

	// OFD.xml: DocInfo (DocID first … CustomDatas last), DocRoot.
	created := o.opt.Created
	if created.IsZero() {
		created = time.Now()
	}
	docID := o.opt.DocID
	if docID == "" {
		sum := sha256.New()
		for _, fl := range o.files {
			sum.Write([]byte(fl.name))
			sum.Write(fl.data)
		}
		docID = fmt.Sprintf("%x", sum.Sum(nil)[:16])
	}
	var x strings.Builder
	fmt.Fprintf(&x, `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="%s" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>`, ofdNS)
	fmt.Fprintf(&x, `<ofd:DocID>%s</ofd:DocID>`, xmlText(docID))
	if o.doc.Title != "" {
		fmt.Fprintf(&x, `<ofd:Title>%s</ofd:Title>`, xmlText(o.doc.Title))
	}
	fmt.Fprintf(&x, `<ofd:CreationDate>%s</ofd:CreationDate><ofd:Creator>ebill</ofd:Creator>`, created.Format("2006-01-02"))
	if len(o.opt.CustomData) > 0 {
		x.WriteString(`<ofd:CustomDatas>`)
		for _, c := range o.opt.CustomData {
			fmt.Fprintf(&x, `<ofd:CustomData Name="%s">%s</ofd:CustomData>`, xmlText(c[0]), xmlText(c[1]))
		}
		x.WriteString(`</ofd:CustomDatas>`)
	}
	x.WriteString(`</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>`)
	if o.opt.Signer != nil {
		entries := map[string][]byte{}
		for _, fl := range o.files {
			entries[fl.name] = fl.data
		}
		add, loc, err := o.opt.Signer.SignOFD(entries)
		if err != nil {
			return fmt.Errorf("printing: sign the OFD: %w", err)
		}
		names := make([]string, 0, len(add))
		for name := range add {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			o.add(name, add[name])
		}
		fmt.Fprintf(&x, `<ofd:Signatures>%s</ofd:Signatures>`, xmlText(loc))
	}
	x.WriteString(`</ofd:DocBody></ofd:OFD>`)

	z := zip.NewWriter(w)
	if err := zipAdd(z, "OFD.xml", []byte(x.String())); err != nil {
		return err
	}
	for _, fl := range o.files {
		if err := zipAdd(z, fl.name, fl.data); err != nil {
			return err
		}
	}
	return z.Close()
}

func zipAdd(z *zip.Writer, name string, data []byte) error {
	w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// page writes one page's Content.xml: one layer, the items in order.
func (o *ofdWriter) page(p *Page, pageID, fontID int) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="%s"><ofd:Content><ofd:Layer ID="%d">`, ofdNS, o.id())
	for _, it := range p.Items {
		switch v := it.(type) {
		case Text:
			if v.Text == "" {
				continue
			}
			id := o.id()
			if v.Field != "" {
				if _, seen := o.tagIDs[v.Field]; !seen {
					o.tagIDs[v.Field] = [2]int{pageID, id}
				}
			}
			size := v.Size * PointsToMM
			x := textX(o.f, v)
			w := o.f.Width(v.Text, v.Size)
			// A generous box: readers clip to it (ofd.md §12).
			fmt.Fprintf(&b, `<ofd:TextObject ID="%d" Boundary="%s %s %s %s" Font="%d" Size="%s">`, id,
				num(x), num(v.Y), num(w+size), num(size*1.4), fontID, num(size))
			fmt.Fprintf(&b, `<ofd:FillColor Value="%s"/>`, rgb(v.Color))
			fmt.Fprintf(&b, `<ofd:TextCode X="0" Y="%s"`, num(o.f.Ascent()*size))
			runes := []rune(v.Text)
			if len(runes) > 1 {
				deltas := make([]string, len(runes)-1)
				for i, r := range runes[:len(runes)-1] {
					deltas[i] = num(o.f.advance(r) * size)
				}
				fmt.Fprintf(&b, ` DeltaX="%s"`, strings.Join(deltas, " "))
			}
			fmt.Fprintf(&b, `>%s</ofd:TextCode></ofd:TextObject>`, xmlText(v.Text))
		case Line:
			minX, minY := math.Min(v.X1, v.X2)-v.Width, math.Min(v.Y1, v.Y2)-v.Width
			w, h := math.Abs(v.X2-v.X1)+2*v.Width, math.Abs(v.Y2-v.Y1)+2*v.Width
			fmt.Fprintf(&b, `<ofd:PathObject ID="%d" Boundary="%s %s %s %s" LineWidth="%s"><ofd:StrokeColor Value="%s"/>`+
				`<ofd:AbbreviatedData>M %s %s L %s %s</ofd:AbbreviatedData></ofd:PathObject>`, o.id(),
				num(minX), num(minY), num(w), num(h), num(v.Width), rgb(v.Color),
				num(v.X1-minX), num(v.Y1-minY), num(v.X2-minX), num(v.Y2-minY))
		case Rect:
			if v.Fill {
				fmt.Fprintf(&b, `<ofd:PathObject ID="%d" Boundary="%s %s %s %s" Stroke="false" Fill="true"><ofd:FillColor Value="%s"/>`+
					`<ofd:AbbreviatedData>M 0 0 L %s 0 L %s %s L 0 %s C</ofd:AbbreviatedData></ofd:PathObject>`, o.id(),
					num(v.X), num(v.Y), num(v.W), num(v.H), rgb(v.Color), num(v.W), num(v.W), num(v.H), num(v.H))
				continue
			}
			fmt.Fprintf(&b, `<ofd:PathObject ID="%d" Boundary="%s %s %s %s" LineWidth="%s"><ofd:StrokeColor Value="%s"/>`+
				`<ofd:AbbreviatedData>M %s %s L %s %s L %s %s L %s %s C</ofd:AbbreviatedData></ofd:PathObject>`, o.id(),
				num(v.X-v.Width), num(v.Y-v.Width), num(v.W+2*v.Width), num(v.H+2*v.Width), num(v.Width), rgb(v.Color),
				num(v.Width), num(v.Width), num(v.W+v.Width), num(v.Width), num(v.W+v.Width), num(v.H+v.Width), num(v.Width), num(v.H+v.Width))
		case Ellipse:
			// Four cubic Béziers (k = 0.5523 of the radius for the control points).
			bx, by := v.X-v.RX-v.Width, v.Y-v.RY-v.Width
			cx, cy := v.RX+v.Width, v.RY+v.Width
			kx, ky := 0.5523*v.RX, 0.5523*v.RY
			pt := func(x, y float64) string { return num(cx+x) + " " + num(cy+y) }
			path := "M " + pt(v.RX, 0) +
				" B " + pt(v.RX, ky) + " " + pt(kx, v.RY) + " " + pt(0, v.RY) +
				" B " + pt(-kx, v.RY) + " " + pt(-v.RX, ky) + " " + pt(-v.RX, 0) +
				" B " + pt(-v.RX, -ky) + " " + pt(-kx, -v.RY) + " " + pt(0, -v.RY) +
				" B " + pt(kx, -v.RY) + " " + pt(v.RX, -ky) + " " + pt(v.RX, 0) + " C"
			fmt.Fprintf(&b, `<ofd:PathObject ID="%d" Boundary="%s %s %s %s" LineWidth="%s"><ofd:StrokeColor Value="%s"/>`+
				`<ofd:AbbreviatedData>%s</ofd:AbbreviatedData></ofd:PathObject>`, o.id(),
				num(bx), num(by), num(2*cx), num(2*cy), num(v.Width), rgb(v.Color), path)
		case QR:
			png, err := QRPNG(v.Content, 300)
			if err != nil {
				return nil, err
			}
			o.image(&b, png, v.X, v.Y, v.Size, v.Size)
		case Picture:
			o.image(&b, v.PNG, v.X, v.Y, v.W, v.H)
		}
	}
	b.WriteString(`</ofd:Layer></ofd:Content></ofd:Page>`)
	return []byte(b.String()), nil
}

// image draws a PNG into the box (x, y, w, h), its file written once.
func (o *ofdWriter) image(b *strings.Builder, png []byte, x, y, w, h float64) {
	if o.byPNG == nil {
		o.byPNG = map[[32]byte]int{}
	}
	key := sha256.Sum256(png)
	resID, ok := o.byPNG[key]
	if !ok {
		resID = o.id()
		file := fmt.Sprintf("image_%d.png", len(o.media))
		o.media = append(o.media, ofdMedia{resID, file})
		o.add("Doc_0/Res/"+file, png)
		o.byPNG[key] = resID
	}
	fmt.Fprintf(b, `<ofd:ImageObject ID="%d" Boundary="%s %s %s %s" CTM="%s 0 0 %s 0 0" ResourceID="%d"/>`, o.id(),
		num(x), num(y), num(w), num(h), num(w), num(h), resID)
}

// num writes a length in mm: at most three decimals, no trailing zeros.
func num(v float64) string {
	s := strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

func rgb(c color.RGBA) string { return fmt.Sprintf("%d %d %d", c.R, c.G, c.B) }

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
