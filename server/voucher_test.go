package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

const depositCode = "35060726"

// voucherServer is hisServer with deposit vouchers set up: their own code
// and stock, and a second server point of the same app.
func voucherServer(t *testing.T, s *server.Store) (context.Context, *hisClient) {
	ctx, _, _, c := hisServer(t, s)
	must(t, s.SetBillKind(ctx, bill.Deposit, depositCode))
	_, err := s.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: depositCode, Start: 1, End: 10000})
	must(t, err)
	must(t, s.AddPoint(ctx, "H02", "住院处", server.PointServer))
	return ctx, c
}

func depositForHIS(busNo, amt string) map[string]any {
	return map[string]any{"busType": "07", "busNo": busNo, "payer": "陈志明", "busDateTime": "20261201093000000", "placeCode": "H01",
		"payee": "林小燕", "author": "林小燕", "cardType": "1", "cardNo": "A0012345", "amt": amt, "ownAcBalance": "0",
		"category": "心血管内科", "categoryCode": "0301", "inHospitalDate": "2026-12-01", "hospitalNo": "ZY20261201",
		"visitNo": "ZY20261201", "payChannelDetail": []any{map[string]any{"payChannelCode": "02", "payChannelValue": amt}}}
}

func decodeMap(t *testing.T, msg []byte) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatalf("answer %s: %v", msg, err)
	}
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// TestDepositVoucherRefunds: a deposit of 3,000.00 is refunded in two
// parts; a third refund, and one beyond what is left, change nothing. The
// ledger holds the voucher and its two red vouchers, their sum −3,000.00.
func TestDepositVoucherRefunds(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, c := voucherServer(t, s)
		code, msg := c.call("invoicePayMentVoucher", depositForHIS("YJ0001", "3000.00"))
		if code != his.ResultOK {
			t.Fatalf("issue: %s %s", code, msg)
		}
		v := decodeMap(t, msg)
		if v["voucherBatchCode"] != depositCode || v["voucherNo"] == "" || v["voucherRandom"] == "" || v["billNo"] != v["voucherNo"] {
			t.Fatalf("voucher answer: %v", v)
		}
		// A retry answers the same voucher; a bill may share its busNo.
		if _, again := c.call("invoicePayMentVoucher", depositForHIS("YJ0001", "3000.00")); decodeMap(t, again)["voucherNo"] != v["voucherNo"] {
			t.Fatalf("a retry gave another voucher: %s", again)
		}
		bill1 := outpatientForHIS(t, "YJ0001")
		if code, msg := c.call("invoiceEBillOutpatient", bill1); code != his.ResultOK {
			t.Fatalf("a bill with a voucher's busNo: %s %s", code, msg)
		}
		refund := func(amt string) (string, []byte) {
			return c.call("writeOffPayMentVoucher", map[string]any{"busType": "07", "voucherBatchCode": v["voucherBatchCode"],
				"voucherNo": v["voucherNo"], "amt": amt, "ownAcBalance": "3000.00", "reason": "出院结余退款", "operator": "王会计",
				"busDateTime": "20261205100000000", "placeCode": "H01"})
		}
		if code, msg := refund("1200.50"); code != his.ResultOK || decodeMap(t, msg)["eScarletBillNo"] == "" {
			t.Fatalf("first refund: %s %s", code, msg)
		}
		vr, err := s.VerifyBill(ctx, bill.VerifyRef{BillCode: depositCode, BillNo: v["voucherNo"], CheckCode: v["voucherRandom"]})
		must(t, err)
		if !vr.Valid || !strings.Contains(vr.Message, "已退款 1200.50 元，余额 1799.50 元") {
			t.Fatalf("the verification page of a voucher refunded in part: valid %v, %q", vr.Valid, vr.Message)
		}
		if code, msg := refund("1800.00"); code == his.ResultOK || !strings.Contains(string(msg), "余额 1799.50") {
			t.Fatalf("a refund beyond what is left: %s %s", code, msg)
		}
		code, msg = refund("1799.50")
		if code != his.ResultOK {
			t.Fatalf("second refund: %s %s", code, msg)
		}
		if code, msg := refund("0.01"); code == his.ResultOK || !strings.Contains(string(msg), "已全部退款") {
			t.Fatalf("a refund of a voucher refunded in full: %s %s", code, msg)
		}
		no, _ := bill.ParseBillNo(v["voucherNo"])
		orig, err := s.LedgerBill(ctx, depositCode, no)
		must(t, err)
		reds, err := s.LedgerBills(ctx, server.LedgerFilter{Red: "red", Limit: 100})
		must(t, err)
		var sum bill.Money
		var n int
		for _, r := range reds {
			if r.RedOf == orig.ID {
				n++
				sum += r.Total
				rno, _ := bill.ParseBillNo(r.BillNo)
				r, err := s.LedgerBill(ctx, r.BillCode, rno)
				must(t, err)
				if r.Kind != bill.Deposit || r.Bill.Settlement.Payee != "王会计" || len(r.Bill.Settlement.ChargeDetail) != 1 {
					t.Errorf("red voucher %s: kind %s, payee %s", r.BillNo, r.Kind, r.Bill.Settlement.Payee)
				}
			}
		}
		if n != 2 || sum != -300000 {
			t.Fatalf("%d red vouchers adding up to %s, want 2 and -3000.00", n, sum)
		}
		// The voucher now reads as reversed (state 2).
		code, msg = c.call("getEBillStatesByBillInfo", map[string]any{"billBatchCode": depositCode, "billNo": v["voucherNo"]})
		if st := decodeMap(t, msg); code != his.ResultOK || st["state"] != "2" || st["billName"] != "预交金电子凭证" {
			t.Fatalf("state of a voucher refunded in full: %s %v", code, st)
		}
		// writeOffEBill of an outpatient bill is whole, and a bill is not refunded in parts.
		if _, err := s.RefundAt(ctx, "H01", outCode, 1, 100, bill.RefundFields{}, "退费", "王会计"); err == nil || !strings.Contains(err.Error(), "不能部分退款") {
			t.Fatalf("a partial refund of a bill: %v", err)
		}
	})
}

// TestDepositRefundsRace: two points refund 2,000.00 each of one 3,000.00
// voucher at the same moment; exactly one refund is stored.
func TestDepositRefundsRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, c := voucherServer(t, s)
		for round := 0; round < 5; round++ {
			_, msg := c.call("invoicePayMentVoucher", depositForHIS("RACE"+string(rune('0'+round)), "3000.00"))
			v := decodeMap(t, msg)
			no, _ := bill.ParseBillNo(v["voucherNo"])
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, point := range []string{"H01", "H02"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = s.RefundAt(ctx, point, depositCode, no, 200000,
						bill.RefundFields{Payee: "王会计", BusDateTime: "20261205100000000"}, "退款", "王会计")
				}()
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("round %d: refunds answered %v and %v; want exactly one stored", round, errs[0], errs[1])
			}
			orig, err := s.LedgerBill(ctx, depositCode, no)
			must(t, err)
			reds, err := s.LedgerBills(ctx, server.LedgerFilter{Red: "red", Limit: 1000})
			must(t, err)
			var sum bill.Money
			for _, r := range reds {
				if r.RedOf == orig.ID {
					sum += r.Total
				}
			}
			if sum != -200000 {
				t.Fatalf("round %d: refunded %s, want 2000.00", round, -sum)
			}
		}
	})
}

// TestDepositVoucherRules: vouchers are numbered apart — their code is not
// a bill kind's, stations are never given it — and the reconciliation
// services count bills only.
func TestDepositVoucherRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, c := voucherServer(t, s)
		if err := s.SetBillKind(ctx, bill.Deposit, outCode); err == nil || !strings.Contains(err.Error(), "各用自己的票据代码") {
			t.Fatalf("deposit vouchers on the outpatient code: %v", err)
		}
		if err := s.SetBillKind(ctx, bill.Exam, depositCode); err == nil {
			t.Fatal("exam bills on the vouchers' code")
		}
		kinds, err := s.BillKinds(ctx)
		must(t, err)
		if kinds[bill.Exam] != outCode || kinds[bill.Deposit] != depositCode {
			t.Fatalf("kinds changed by refused settings: %v", kinds)
		}
		// Bad input changes nothing.
		bad := depositForHIS("YJ-BAD", "100.00")
		bad["busType"] = "02"
		if code, msg := c.call("invoicePayMentVoucher", bad); code == his.ResultOK || !strings.Contains(string(msg), "07（住院预交金）") {
			t.Fatalf("a voucher of busType 02: %s %s", code, msg)
		}
		bad = depositForHIS("YJ-BAD", "100.00")
		bad["payChannelDetail"] = []any{map[string]any{"payChannelCode": "02", "payChannelValue": "99.00"}}
		if code, _ := c.call("invoicePayMentVoucher", bad); code == his.ResultOK {
			t.Fatal("a voucher whose channels do not add up")
		}
		if n, _, err := s.CountLedger(ctx, server.LedgerFilter{}); err != nil || n != 0 {
			t.Fatalf("refused vouchers left %d bills (%v)", n, err)
		}
		code, _ := c.call("invoicePayMentVoucher", depositForHIS("YJ0002", "500.00"))
		if code != his.ResultOK {
			t.Fatal("voucher")
		}
		code, msg := c.call("checkTotalData", map[string]any{"busDate": "2026-12-01"})
		if m := decodeMap(t, msg); code != his.ResultOK || m["allTotalNum"] != "0" {
			t.Fatalf("checkTotalData counted a voucher: %s %s", code, msg)
		}
		// A station enrolled now gets the bills' codes only.
		must(t, s.AddPoint(ctx, "S01", "一号窗口", server.PointStation))
		enrollStation(t, s, "S01") // fails on a kind the station does not know
		segs, err := s.Segments(ctx, "S01")
		must(t, err)
		if len(segs) == 0 {
			t.Fatal("the station was given no numbers")
		}
		for _, sg := range segs {
			if sg.BillCode == depositCode {
				t.Error("a station was given deposit voucher numbers")
			}
		}
		var be *bill.Error
		if _, err := s.RefundAt(ctx, "H01", depositCode, 99, 100, bill.RefundFields{}, "x", "y"); !errors.As(err, &be) {
			t.Fatalf("refund of a voucher that does not exist: %v", err)
		}
	})
}

// TestArrearsFeedback: receiveArreasFeedBack keeps the first day HIS said
// a bill may circulate; a malformed day changes nothing.
func TestArrearsFeedback(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, c := voucherServer(t, s)
		_, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "ARR-1"))
		b := decodeMap(t, msg)
		no, _ := bill.ParseBillNo(b["billNo"])
		lb, err := s.LedgerBill(ctx, b["billBatchCode"], no)
		must(t, err)
		feedback := func(day string) (string, []byte) {
			return c.call("receiveArreasFeedBack", map[string]any{"billBatchCode": b["billBatchCode"], "billNo": b["billNo"], "feedBackDate": day})
		}
		if code, msg := feedback("2026/12/03"); code == his.ResultOK || !strings.Contains(string(msg), "yyyy-MM-dd") {
			t.Fatalf("a malformed day: %s %s", code, msg)
		}
		if day, err := s.ArrearsFeedback(ctx, lb.ID); err != nil || day != "" {
			t.Fatalf("a refused feedback stored %q (%v)", day, err)
		}
		if code, msg := feedback("2026-12-03"); code != his.ResultOK || string(msg) != "成功" {
			t.Fatalf("feedback: %s %s", code, msg)
		}
		if code, _ := feedback("2026-12-04"); code != his.ResultOK {
			t.Fatal("a repeat is answered as a success")
		}
		if day, err := s.ArrearsFeedback(ctx, lb.ID); err != nil || day != "2026-12-03" {
			t.Fatalf("stored day %q (%v), want the first one said", day, err)
		}
	})
}

// TestCommonBills: invoiceEBillCommon issues 往来, 捐赠 and 非税通用 bills,
// each kind under its own code, told by busType; a kind without a code,
// or a medical busType, issues nothing.
func TestCommonBills(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, c := voucherServer(t, s)
		const transferCode = "35060826"
		must(t, s.SetBillKind(ctx, bill.Transfer, transferCode))
		_, err := s.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: transferCode, Start: 1, End: 1000})
		must(t, err)
		common := func(busNo, busType string) map[string]any {
			return map[string]any{"busNo": busNo, "busType": busType, "payer": "厦门海湾科技有限公司", "busDateTime": "20261201093000000",
				"placeCode": "H01", "payee": "林小燕", "author": "林小燕", "checker": "王会计", "totalAmt": "5000.00", "payerType": "2",
				"payChannelDetail": []any{map[string]any{"payChannelCode": "03", "payChannelValue": "5000.00"}},
				"chargeDetail": []any{map[string]any{"sortNo": 1, "chargeCode": "WL01", "chargeName": "代收进修培训费", "std": "2500.00",
					"number": 2, "amt": "5000.00"}}}
		}
		code, msg := c.call("invoiceEBillCommon", common("WL-1", "09"))
		if code != his.ResultOK {
			t.Fatalf("往来票: %s %s", code, msg)
		}
		b := decodeMap(t, msg)
		no, _ := bill.ParseBillNo(b["billNo"])
		lb, err := s.LedgerBill(ctx, b["billBatchCode"], no)
		must(t, err)
		if lb.BillCode != transferCode || lb.Kind != bill.Transfer || lb.Total != 500000 {
			t.Fatalf("stored %s %s %s %s", lb.Kind, lb.BillCode, lb.BillNo, lb.Total)
		}
		code, msg = c.call("getEBillStatesByBillInfo", map[string]any{"billBatchCode": b["billBatchCode"], "billNo": b["billNo"]})
		if st := decodeMap(t, msg); code != his.ResultOK || st["billName"] != "往来结算票据（电子）" {
			t.Fatalf("state: %s %v", code, st)
		}
		if code, msg := c.call("invoiceEBillCommon", common("WL-2", "10")); code == his.ResultOK || !strings.Contains(string(msg), "公益事业捐赠") {
			t.Fatalf("捐赠票 without a code: %s %s", code, msg)
		}
		if code, msg := c.call("invoiceEBillCommon", common("WL-3", "02")); code == his.ResultOK || !strings.Contains(string(msg), "09（往来票）") {
			t.Fatalf("a common bill of busType 02: %s %s", code, msg)
		}
		if n, _, err := s.CountLedger(ctx, server.LedgerFilter{}); err != nil || n != 1 {
			t.Fatalf("%d bills stored (%v), want the one 往来票", n, err)
		}
		code, msg = c.call("writeOffEBill", map[string]any{"billBatchCode": b["billBatchCode"], "billNo": b["billNo"], "reason": "重复收取", "operator": "王会计"})
		if code != his.ResultOK || decodeMap(t, msg)["eScarletBillBatchCode"] != transferCode {
			t.Fatalf("writeOffEBill of a 往来票: %s %s", code, msg)
		}
	})
}
