package printing

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebill/ebill/bill"
)

// sampleBill is examples/outpatient.json issued with fixed header values,
// so its layout and PDF never change between runs.
func sampleBill(t testing.TB) *bill.Bill {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "outpatient.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := bill.ParseSettlement(data)
	if err != nil {
		t.Fatal(err)
	}
	s.Normalize()
	if err := s.Validate(bill.Outpatient); err != nil {
		t.Fatal(err)
	}
	return &bill.Bill{V: 1, ID: "0193a4b2-0000-7000-8000-000000000001", Kind: bill.Outpatient,
		BillCode: "35060126", BillNo: "0000000123", PlaceCode: "P01", IssuedAt: "2026-11-25T01:30:15.123Z",
		Seq: 123, UnitName: "厦门市海沧区第一医院", UnitCode: "12350205MB0123456X", Settlement: *s}
}

func sampleRed(t testing.TB) *bill.Bill {
	orig := sampleBill(t)
	r := *orig
	r.BillNo, r.Seq, r.IssuedAt = "0000000124", 124, "2026-11-25T02:00:00.000Z"
	r.Settlement = bill.Reverse(orig.Settlement)
	r.Red = &bill.RedRef{OrigID: orig.ID, OrigBillCode: orig.BillCode, OrigBillNo: orig.BillNo, Reason: "患者退费", Operator: "林小燕"}
	return &r
}

func testFont(t testing.TB) *Font {
	t.Helper()
	f, err := DefaultFont()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDraft(t *testing.T) {
	f := testFont(t)
	for name, b := range map[string]*bill.Bill{"blue": sampleBill(t), "red": sampleRed(t)} {
		doc := Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v?c=1"}, f)
		out, err := PDF(doc, f, PDFOptions{Created: b.IssuedTime()})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile("/tmp/proto/"+name+".pdf", out, 0o644)
		t.Logf("%s: %d bytes", name, len(out))
	}
}

func TestDraftImage(t *testing.T) {
	f := testFont(t)
	doc := Face(BillInfo{Bill: sampleRed(t), CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v?c=1"}, f)
	img, err := Image(doc, 0, f, 100)
	if err != nil {
		t.Fatal(err)
	}
	writePNG(t, "/tmp/proto/preview.png", img)
	tpl, _ := LoadTemplate("outpatient")
	d2 := tpl.Layout(BillInfo{Bill: sampleBill(t), CheckCode: "a1b2c3"}, f, Offset{})
	img, _ = Image(d2, 0, f, 100)
	writePNG(t, "/tmp/proto/paper.png", img)
	d3 := CalibrationPage(210, 101.6, "cups-pdf", Offset{}, f)
	img, _ = Image(d3, 0, f, 100)
	writePNG(t, "/tmp/proto/cal.png", img)
}
