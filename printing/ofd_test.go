package printing

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"testing"
)

// ofdPackage is an OFD read back: its entries, and the TextObjects of its
// first page.
type ofdPackage struct {
	files map[string][]byte
	texts []ofdText
}

type ofdText struct {
	ID       int
	X, Y     float64 // Boundary origin + TextCode X, and the baseline, in mm
	Text     string
	DeltaX   []float64
	FontSize float64
}

// checkOFD is the structural check of ofd.md §10.1: every entry parses as
// XML in the OFD namespace; IDs are unique and none above MaxUnitID; every
// Font and ResourceID names a declared resource, every BaseLoc, FileLoc,
// MediaFile and FontFile an entry of the package; DeltaX has n − 1 plain
// numbers for n characters; TextCode holds no added whitespace.
func checkOFD(t *testing.T, data []byte) *ofdPackage {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	p := &ofdPackage{files: map[string][]byte{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		p.files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if _, ok := p.files["OFD.xml"]; !ok {
		t.Fatal("no OFD.xml")
	}
	ids := map[int]string{}
	declared := map[int]string{} // resource ID → kind
	var maxUnit int
	var refs []struct {
		kind string
		id   int
	}
	var locs []string // entries referred to
	for name, raw := range p.files {
		if !strings.HasSuffix(name, ".xml") {
			continue
		}
		dir := path.Dir(name)
		dec := xml.NewDecoder(bytes.NewReader(raw))
		var stack []string
		var curText *ofdText
		var boundary []float64
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			switch e := tok.(type) {
			case xml.StartElement:
				if e.Name.Space != ofdNS && !strings.HasPrefix(name, "Doc_0/Tags/Tag_") {
					t.Errorf("%s: element %s outside the OFD namespace", name, e.Name.Local)
				}
				stack = append(stack, e.Name.Local)
				attr := map[string]string{}
				for _, a := range e.Attr {
					attr[a.Name.Local] = a.Value
				}
				if v, ok := attr["ID"]; ok && e.Name.Local != "Attachment" {
					id, err := strconv.Atoi(v)
					if err != nil {
						t.Errorf("%s: ID %q", name, v)
					}
					if prev, dup := ids[id]; dup {
						t.Errorf("ID %d twice: %s and %s", id, prev, name)
					}
					ids[id] = name
					if e.Name.Local == "Font" || e.Name.Local == "MultiMedia" {
						declared[id] = e.Name.Local
					}
				}
				if v, ok := attr["Font"]; ok {
					id, _ := strconv.Atoi(v)
					refs = append(refs, struct {
						kind string
						id   int
					}{"Font", id})
				}
				if v, ok := attr["ResourceID"]; ok {
					id, _ := strconv.Atoi(v)
					refs = append(refs, struct {
						kind string
						id   int
					}{"MultiMedia", id})
				}
				if v, ok := attr["BaseLoc"]; ok && e.Name.Local == "Page" {
					locs = append(locs, path.Join(dir, v))
				}
				if e.Name.Local == "TextObject" {
					boundary = nil
					for _, f := range strings.Fields(attr["Boundary"]) {
						v, _ := strconv.ParseFloat(f, 64)
						boundary = append(boundary, v)
					}
					id, _ := strconv.Atoi(attr["ID"])
					size, _ := strconv.ParseFloat(attr["Size"], 64)
					curText = &ofdText{ID: id, FontSize: size}
				}
				if e.Name.Local == "TextCode" && curText != nil && len(boundary) == 4 {
					x, _ := strconv.ParseFloat(attr["X"], 64)
					y, _ := strconv.ParseFloat(attr["Y"], 64)
					curText.X, curText.Y = boundary[0]+x, boundary[1]+y
					for _, f := range strings.Fields(attr["DeltaX"]) {
						v, err := strconv.ParseFloat(f, 64)
						if err != nil {
							t.Errorf("%s: DeltaX %q is not a plain list", name, attr["DeltaX"])
						}
						curText.DeltaX = append(curText.DeltaX, v)
					}
				}
			case xml.CharData:
				if len(stack) == 0 {
					continue
				}
				text := string(e)
				switch stack[len(stack)-1] {
				case "MaxUnitID":
					maxUnit, _ = strconv.Atoi(strings.TrimSpace(text))
				case "TextCode":
					if curText != nil {
						curText.Text += text
					}
				case "PublicRes", "DocumentRes", "CustomTags", "Attachments", "DocRoot", "Signatures":
					locs = append(locs, path.Join(dir, strings.TrimSpace(text)))
				case "FontFile", "MediaFile":
					locs = append(locs, path.Join(dir, "Res", strings.TrimSpace(text)))
				case "FileLoc":
					locs = append(locs, path.Join(dir, strings.TrimSpace(text)))
				}
			case xml.EndElement:
				if e.Name.Local == "TextObject" && curText != nil {
					if strings.TrimSpace(curText.Text) != curText.Text {
						t.Errorf("TextCode %q has whitespace around it", curText.Text)
					}
					if n := len([]rune(curText.Text)); n > 1 && len(curText.DeltaX) != n-1 {
						t.Errorf("TextCode %q: %d DeltaX values for %d characters", curText.Text, len(curText.DeltaX), n)
					}
					if strings.HasPrefix(name, "Doc_0/Pages/Page_0/") {
						p.texts = append(p.texts, *curText)
					}
					curText = nil
				}
				stack = stack[:len(stack)-1]
			}
		}
	}
	for id := range ids {
		if id > maxUnit {
			t.Errorf("ID %d above MaxUnitID %d", id, maxUnit)
		}
	}
	for _, r := range refs {
		if declared[r.id] != r.kind {
			t.Errorf("%s %d is not declared", r.kind, r.id)
		}
	}
	for _, l := range locs {
		if _, ok := p.files[l]; !ok {
			t.Errorf("%s is referred to and not in the package", l)
		}
	}
	return p
}

// TestFaceOFD (issue 21): the e-bill face as OFD passes the structural
// check; its text is the PDF's, in the same places within 0.5 mm
// (pdftotext -bbox: a word's box starts at the text's left edge and top;
// the baseline is an ascent below), and its fields are tagged.
func TestFaceOFD(t *testing.T) {
	f := testFont(t)
	b := sampleBill(t)
	doc := Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f)
	data, err := OFD(doc, f, OFDOptions{Created: b.IssuedTime(),
		CustomData: [][2]string{{"票据代码", b.BillCode}, {"票据号码", b.BillNo}},
		Attachment: &OFDAttachment{Name: "bill.json", Format: "json", Data: []byte(`{"v":1}`)},
		Tags:       []string{"payer", "total"}})
	if err != nil {
		t.Fatal(err)
	}
	p := checkOFD(t, data)
	if len(p.texts) < 20 {
		t.Fatalf("%d TextObjects on the face", len(p.texts))
	}
	if !bytes.Contains(p.files["OFD.xml"], []byte(`<ofd:CustomData Name="票据代码">`+b.BillCode+`</ofd:CustomData>`)) {
		t.Errorf("OFD.xml: %s", p.files["OFD.xml"])
	}
	if !bytes.Contains(p.files["Doc_0/Tags/Tag_Bill.xml"], []byte("<ebill:payer>")) {
		t.Errorf("tags: %s", p.files["Doc_0/Tags/Tag_Bill.xml"])
	}
	// The same bill's PDF: every OFD text's first word at the same place.
	pdf, err := PDF(doc, f, PDFOptions{Created: b.IssuedTime()})
	if err != nil {
		t.Fatal(err)
	}
	words := bboxWords(t, pdf)
	const tol = 0.5
	matched := 0
	for _, tx := range p.texts {
		if strings.TrimSpace(tx.Text) == "" {
			continue
		}
		// pdftotext joins a label and its value into one word ("票据代码：35060126"):
		// the OFD text is the part of a word starting where the word's
		// earlier characters end. The word's top is the text's top, the
		// baseline an ascent below it.
		best := math.Inf(1)
		for _, w := range words {
			k := strings.Index(w.Text, strings.Fields(tx.Text)[0])
			if k < 0 {
				continue
			}
			x := w.XMin*ptToMM + f.Width(w.Text[:k], tx.FontSize/PointsToMM)
			y := w.YMin*ptToMM + f.Ascent()*tx.FontSize
			if d := math.Hypot(x-tx.X, y-tx.Y); d < best {
				best = d
			}
		}
		if best > tol {
			t.Errorf("OFD text %q at (%.2f, %.2f) mm: the PDF's nearest is %.2f mm away", tx.Text, tx.X, tx.Y, best)
			continue
		}
		matched++
	}
	if matched != len(p.texts) {
		t.Errorf("%d of %d OFD texts are where the PDF has them", matched, len(p.texts))
	}
	t.Logf("%d of %d OFD texts found in the PDF within %.1f mm; OFD %d bytes, PDF %d bytes", matched, len(p.texts), tol, len(data), len(pdf))
}

// TestBillOFD (issue 21): the e-bill's OFD carries code, number, check
// code, date and total in CustomDatas, tags each of its fields to the
// TextObject showing it, and the bill's data as a hidden attachment in
// which no ID or mobile number is whole.
func TestBillOFD(t *testing.T) {
	f := testFont(t)
	b := sampleBill(t)
	b.Settlement.Tel = "13800000000"
	data, err := BillOFD(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f)
	if err != nil {
		t.Fatal(err)
	}
	p := checkOFD(t, data)
	for _, want := range []string{`Name="票据代码">` + b.BillCode + `<`, `Name="票据号码">` + b.BillNo + `<`, `Name="校验码">a1b2c3<`,
		`Name="合计金额">123.45<`, `Name="开票日期">2026-11-25<`} {
		if !bytes.Contains(p.files["OFD.xml"], []byte(want)) {
			t.Errorf("OFD.xml lacks %s", want)
		}
	}
	byID := map[int]string{}
	for _, tx := range p.texts {
		byID[tx.ID] = tx.Text
	}
	var tags struct {
		Fields []struct {
			XMLName xml.Name
			Ref     int `xml:"ObjectRef"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(p.files["Doc_0/Tags/Tag_Bill.xml"], &tags); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fl := range tags.Fields {
		got[fl.XMLName.Local] = byID[fl.Ref]
	}
	for field, want := range map[string]string{"billCode": b.BillCode, "billNo": b.BillNo, "checkCode": "a1b2c3", "payer": "张三",
		"total": "¥123.45", "date": "2026-11-25"} {
		if got[field] != want {
			t.Errorf("tag %s points at %q, want %q", field, got[field], want)
		}
	}
	att := p.files["Doc_0/Attachs/bill.json"]
	if len(att) == 0 || !bytes.Contains(p.files["Doc_0/Attachs/Attachments.xml"], []byte(`Visible="false"`)) {
		t.Fatal("no hidden attachment")
	}
	for _, whole := range []string{string(b.Settlement.IDCardNo), "13800000000"} {
		if bytes.Contains(data, []byte(whole)) || bytes.Contains(att, []byte(whole)) {
			t.Errorf("the OFD holds %s whole", whole)
		}
	}
	if !bytes.Contains(att, []byte(`"billNo":"`+b.BillNo+`"`)) {
		t.Errorf("attachment: %s", att)
	}
}

// stubSigner stands for a signing server: it lists what it was given.
type stubSigner struct{ got []string }

func (s *stubSigner) SignOFD(entries map[string][]byte) (map[string][]byte, string, error) {
	for name := range entries {
		s.got = append(s.got, name)
	}
	return map[string][]byte{"Doc_0/Signs/Signatures.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<ofd:Signatures xmlns:ofd="` + ofdNS + `"><ofd:MaxSignId>1</ofd:MaxSignId></ofd:Signatures>`)}, "Doc_0/Signs/Signatures.xml", nil
}

// TestOFDSignerSeam: a signing server plugged in through OFDOptions.Signer
// sees every entry of the package and its signatures are named by OFD.xml.
func TestOFDSignerSeam(t *testing.T) {
	f := testFont(t)
	b := sampleBill(t)
	signer := &stubSigner{}
	data, err := OFD(Face(BillInfo{Bill: b, CheckCode: "a1b2c3"}, f), f, OFDOptions{Created: b.IssuedTime(), Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	p := checkOFD(t, data)
	if len(signer.got) < 4 || !bytes.Contains(p.files["OFD.xml"], []byte("<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>")) {
		t.Fatalf("signer saw %v; OFD.xml %s", signer.got, p.files["OFD.xml"])
	}
}
