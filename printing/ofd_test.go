package printing

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/ofdcheck"
)

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
	p := ofdcheck.Must(t, data)
	if len(p.Texts) < 20 {
		t.Fatalf("%d TextObjects on the face", len(p.Texts))
	}
	if !bytes.Contains(p.Files["OFD.xml"], []byte(`<ofd:CustomData Name="票据代码">`+b.BillCode+`</ofd:CustomData>`)) {
		t.Errorf("OFD.xml: %s", p.Files["OFD.xml"])
	}
	if !bytes.Contains(p.Files["Doc_0/Tags/Tag_Bill.xml"], []byte("<ebill:payer>")) {
		t.Errorf("tags: %s", p.Files["Doc_0/Tags/Tag_Bill.xml"])
	}
	// The same bill's PDF: every OFD text's first word at the same place.
	pdf, err := PDF(doc, f, PDFOptions{Created: b.IssuedTime()})
	if err != nil {
		t.Fatal(err)
	}
	const tol = 0.5
	matched := matchPDF(t, "OFD", p.Texts, bboxWords(t, pdf), f, tol)
	if matched != len(p.Texts) {
		t.Errorf("%d of %d OFD texts are where the PDF has them", matched, len(p.Texts))
	}
	t.Logf("%d of %d OFD texts found in the PDF within %.1f mm; OFD %d bytes, PDF %d bytes", matched, len(p.Texts), tol, len(data), len(pdf))
}

// TestBillOFD (issue 21): the e-bill's OFD carries code, number, check
// code, date and total in CustomDatas, tags each of its fields to the
// TextObject showing it, and the bill's data as a hidden attachment in
// which no ID or mobile number is whole.
func TestBillOFD(t *testing.T) {
	f := testFont(t)
	b := sampleBill(t)
	b.Settlement.Tel = "13800000000"
	b.Settlement.Remark = "联系电话13912345678"
	b.Settlement.MedicalInsuranceID = "35020219850312201500"
	b.Settlement.Email = "zhangsan@example.cn"
	data, err := BillOFD(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f)
	if err != nil {
		t.Fatal(err)
	}
	p := ofdcheck.Must(t, data)
	for _, want := range []string{`Name="票据代码">` + b.BillCode + `<`, `Name="票据号码">` + b.BillNo + `<`, `Name="校验码">a1b2c3<`,
		`Name="合计金额">123.45<`, `Name="开票日期">2026-11-25<`} {
		if !bytes.Contains(p.Files["OFD.xml"], []byte(want)) {
			t.Errorf("OFD.xml lacks %s", want)
		}
	}
	byID := map[int]string{}
	for _, tx := range p.Texts {
		byID[tx.ID] = tx.Text
	}
	var tags struct {
		Fields []struct {
			XMLName xml.Name
			Ref     int `xml:"ObjectRef"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(p.Files["Doc_0/Tags/Tag_Bill.xml"], &tags); err != nil {
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
	att := p.Files["Doc_0/Attachs/bill.json"]
	if len(att) == 0 || !bytes.Contains(p.Files["Doc_0/Attachs/Attachments.xml"], []byte(`Visible="false"`)) {
		t.Fatal("no hidden attachment")
	}
	for _, whole := range []string{string(b.Settlement.IDCardNo), "13800000000", "13912345678", "35020219850312201500"} {
		if p.Contains(whole) {
			t.Errorf("the OFD holds %s whole", whole)
		}
	}
	var d BillOFDData
	if err := json.Unmarshal(att, &d); err != nil {
		t.Fatal(err)
	}
	if d.Format != BillOFDFormat || !d.Masked || d.CheckCode != "a1b2c3" || !bytes.Contains(d.Content, []byte(`"billNo":"`+b.BillNo+`"`)) {
		t.Errorf("attachment: %s", att)
	}
	// Masked as the face prints them (PI-1); a number in a remark wholly.
	for _, want := range []string{`"idCardNo":"` + bill.MaskID(string(b.Settlement.IDCardNo)) + `"`, `"tel":"138****0000"`,
		`"medicalInsuranceID":"350202**********1500"`, `联系电话139****5678`, `"email":"z*******@example.cn"`,
		`"cardNo":"M001***5678"`} {
		if !bytes.Contains(d.Content, []byte(want)) {
			t.Errorf("attachment lacks %s: %s", want, d.Content)
		}
	}
	// An ID number with a wrong check character is masked all the same.
	b.Settlement.IDCardNo = "350203198503122016"
	data, err = BillOFD(BillInfo{Bill: b, CheckCode: "a1b2c3"}, f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ofdcheck.Must(t, data).Files["Doc_0/Attachs/bill.json"], []byte("350203198503122016")) {
		t.Error("an ID number with a wrong check character rides along whole")
	}
}

// TestBillOFDSignedContent: a bill without personal numbers carries its
// content exactly as signed, so the point's public key verifies the
// attachment on its own; a masked one says it is masked.
func TestBillOFDSignedContent(t *testing.T) {
	f := testFont(t)
	key, err := bill.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, withID := range []bool{false, true} {
		b := sampleBill(t)
		if !withID {
			b.Settlement.IDCardNo, b.Settlement.Tel, b.Settlement.MedicalInsuranceID, b.Settlement.CardNo = "", "", "", ""
		}
		sealed, err := bill.Seal(b, key)
		if err != nil {
			t.Fatal(err)
		}
		data, err := BillOFD(BillInfo{Bill: b, CheckCode: sealed.CheckCode, Signature: sealed.Signature}, f)
		if err != nil {
			t.Fatal(err)
		}
		var d BillOFDData
		if err := json.Unmarshal(ofdcheck.Must(t, data).Files["Doc_0/Attachs/bill.json"], &d); err != nil {
			t.Fatal(err)
		}
		if verifies := key.Public().Verify(d.Content, d.Signature); d.Masked != withID || verifies == withID {
			t.Errorf("with ID %v: masked %v, signature verifies %v", withID, d.Masked, verifies)
		}
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
	p := ofdcheck.Must(t, data)
	if len(signer.got) < 4 || !bytes.Contains(p.Files["OFD.xml"], []byte("<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>")) {
		t.Fatalf("signer saw %v; OFD.xml %s", signer.got, p.Files["OFD.xml"])
	}
}

// matchPDF counts the texts (an OFD's TextObjects, or what a renderer drew
// of them) whose first word lies within tol mm of where the PDF's words
// (pdftotext -bbox) have it, and reports each that does not.
func matchPDF(t *testing.T, who string, texts []ofdcheck.Text, words []bboxWord, f *Font, tol float64) int {
	t.Helper()
	matched := 0
	for _, tx := range texts {
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
			t.Errorf("%s text %q at (%.2f, %.2f) mm: the PDF's nearest is %.2f mm away", who, tx.Text, tx.X, tx.Y, best)
			continue
		}
		matched++
	}
	return matched
}
