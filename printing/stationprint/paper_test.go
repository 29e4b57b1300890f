package stationprint

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// TestConvertAndReprintOrder: check, print, record — a refused check prints
// nothing; a failed print records nothing; a sheet printed whose use cannot
// be recorded (here the number was blank-voided while it printed) is an
// error that says so, and the store is as before.
func TestConvertAndReprintOrder(t *testing.T) {
	ctx := context.Background()
	s, err := localstore.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Init(ctx, localstore.InitParams{PlaceCode: "P01", PlaceName: "门诊收费一号窗口", UnitName: "厦门市某区医院",
		UnitCreditCode: "123502004266001233"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetupDemo(ctx, 2026); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../examples/outpatient.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := bill.ParseSettlement(raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Issue(ctx, bill.Outpatient, st)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Bill
	printed := 0
	ok := func(context.Context) (string, error) { printed++; return "job-1", nil }
	paper := func() (string, int64) {
		t.Helper()
		got, err := s.Bill(ctx, b.BillCode, b.BillNo)
		if err != nil {
			t.Fatal(err)
		}
		return got.PaperCode, got.PaperNo
	}

	// The wrong number in the printer: refused before printing.
	if _, _, err := ConvertToPaper(ctx, s, b.BillCode, b.BillNo, localstore.DemoPaperCode, 5, "林小燕", ok); bill.ErrorCode(err) != bill.EConflict || printed != 0 {
		t.Fatalf("wrong paper number: %v, printed %d", err, printed)
	}
	// The printer fails: nothing recorded.
	jam := errors.New("卡纸")
	if _, _, err := ConvertToPaper(ctx, s, b.BillCode, b.BillNo, localstore.DemoPaperCode, 1, "林小燕",
		func(context.Context) (string, error) { return "", jam }); !errors.Is(err, jam) {
		t.Fatalf("failed print: %v", err)
	}
	if code, _ := paper(); code != "" {
		t.Fatalf("a failed print recorded paper %s", code)
	}
	// Printed, but the number was used meanwhile: the error says so.
	steal := func(ctx context.Context) (string, error) {
		if _, err := s.BlankVoid(ctx, localstore.DemoPaperCode, 1, 1, "另一窗口作废", "王五"); err != nil {
			t.Fatal(err)
		}
		return "job-2", nil
	}
	if _, _, err := ConvertToPaper(ctx, s, b.BillCode, b.BillNo, localstore.DemoPaperCode, 1, "林小燕", steal); err == nil ||
		!strings.Contains(err.Error(), "已打印，但登记失败") || !strings.Contains(err.Error(), "空白作废") {
		t.Fatalf("printed, not recorded: %v", err)
	}
	if code, _ := paper(); code != "" {
		t.Fatalf("paper %s recorded after a failed record", code)
	}
	// Then the real thing, and a reprint onto the next sheet.
	use, job, err := ConvertToPaper(ctx, s, b.BillCode, b.BillNo, localstore.DemoPaperCode, 2, "林小燕", ok)
	if err != nil || job != "job-1" || use == nil {
		t.Fatalf("convert: %v %q", err, job)
	}
	if code, no := paper(); code != localstore.DemoPaperCode || no != 2 {
		t.Fatalf("after converting: paper %s %d", code, no)
	}
	if _, _, err := Reprint(ctx, s, b.BillCode, b.BillNo, 3, "", "林小燕", ok); bill.ErrorCode(err) != bill.EInvalid || printed != 1 {
		t.Fatalf("reprint without a reason: %v, printed %d", err, printed)
	}
	if _, _, err := Reprint(ctx, s, b.BillCode, b.BillNo, 3, "卡纸", "林小燕", ok); err != nil {
		t.Fatal(err)
	}
	if code, no := paper(); code != localstore.DemoPaperCode || no != 3 || printed != 2 {
		t.Fatalf("after the reprint: paper %s %d, printed %d", code, no, printed)
	}
}
