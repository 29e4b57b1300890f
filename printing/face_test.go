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
