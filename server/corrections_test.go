package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// TestCorrections (数据修正): a request is approved by another person and
// then carried out by the system — a station's wrong bill becomes a red
// bill and a reissue with the corrected payer, its own BusNo and a link to
// the original; a charge item and a paper record change with before and
// after kept; a return carries its opinion; a request that can no longer
// be carried out changes nothing and goes back to the checkers. Each step
// is in the audit trail.
func TestCorrections(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, _ := hisServer(t, s)
		maker := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		checker := asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}})
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		st := enrollStation(t, s, "P01")
		st.issue(t, "outpatient.json", "S-1")
		st.issue(t, "outpatient.json", "S-2")
		pend := st.pending(t)
		_, err := s.Upload(ctx, "P01", pend)
		must(t, err)
		orig, err := s.LedgerBill(ctx, pend[0].BillCode, pend[0].BillNo)
		must(t, err)
		target := orig.BillCode + " " + orig.BillNo

		if _, err := s.RequestCorrection(checker, server.CorrectBill, target, "交款人姓名录错", "", server.Proposal{Payer: "李四"}); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a checker requesting: %v", err)
		}
		if _, err := s.RequestCorrection(maker, server.CorrectBill, target, "", "", server.Proposal{Payer: "李四"}); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("a request without a reason: %v", err)
		}
		c, err := s.RequestCorrection(maker, server.CorrectBill, target, "交款人姓名录错", "患者身份证复印件", server.Proposal{Payer: "李四"})
		must(t, err)
		if _, err := s.DecideCorrection(maker, c.ID, true, ""); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("the maker approving: %v", err)
		}
		if rev, _ := s.IsReversed(ctx, orig.ID); rev {
			t.Fatal("reversed before approval")
		}
		done, err := s.DecideCorrection(checker, c.ID, true, "同意")
		must(t, err)
		if done.State != server.DocDone || !strings.Contains(done.Result, "已红冲") {
			t.Fatalf("carried out: %+v", done)
		}
		if rev, _ := s.IsReversed(ctx, orig.ID); !rev {
			t.Fatal("the original was not reversed")
		}
		re := latestBill(t, s, "H01")
		if string(re.Bill.Settlement.Payer) != "李四" || re.Total != orig.Total || string(re.Bill.Settlement.EBillRelateNo) != orig.BillCode+orig.BillNo ||
			!strings.HasPrefix(re.BusNo, "S-1-XZ") || !strings.Contains(done.Result, re.BillNo) {
			t.Fatalf("the reissue: payer %s total %s relate %s busNo %s; result %s", re.Bill.Settlement.Payer, re.Total,
				re.Bill.Settlement.EBillRelateNo, re.BusNo, done.Result)
		}
		var before, after map[string]string
		if json.Unmarshal([]byte(done.Before), &before) != nil || json.Unmarshal([]byte(done.After), &after) != nil ||
			before["payer"] != string(orig.Bill.Settlement.Payer) || after["payer"] != "李四" {
			t.Fatalf("before %s after %s", done.Before, done.After)
		}
		if _, err := s.DecideCorrection(checker, c.ID, true, ""); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("carrying out twice: %v", err)
		}

		// A charge item's price.
		must(t, s.SetChargeItem(ctx, server.ChargeItemInfo{Code: "A001", Name: "挂号费", CategoryCode: "01", Price: 100000}))
		ci, err := s.RequestCorrection(maker, server.CorrectItem, "A001", "物价局调价", "闽价〔2026〕12号", server.Proposal{Price: "12.00"})
		must(t, err)
		done, err = s.DecideCorrection(checker, ci.ID, true, "")
		must(t, err)
		items, err := s.ChargeItems(ctx, "A001", 1)
		must(t, err)
		if items[0].Price.String() != "12.00" || !strings.Contains(done.Before, `"price":"10.00"`) || !strings.Contains(done.After, `"price":"12.00"`) {
			t.Fatalf("the item: %+v; before %s after %s", items[0], done.Before, done.After)
		}

		// A paper record: a sheet recorded as printed was spoiled.
		_, err = s.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: paperCode, Start: 1, End: 100})
		must(t, err)
		_, err = s.AssignPaper(ctx, "H01", paperCode, 10)
		must(t, err)
		no, _ := bill.ParseBillNo(re.BillNo)
		must(t, s.PrintPaper(ctx, "H01", re.BillCode, no, paperCode, 1, "林", false))
		pc, err := s.RequestCorrection(maker, server.CorrectPaper, paperCode+" 0000000001", "打印错位未作废", "", server.Proposal{PaperState: wire.PaperVoided})
		must(t, err)
		// Returned with an opinion first, then asked again and carried out.
		back, err := s.DecideCorrection(checker, pc.ID, false, "请附上废票照片")
		must(t, err)
		if back.State != server.DocReturned || back.Opinion != "请附上废票照片" {
			t.Fatalf("returned: %+v", back)
		}
		pc, err = s.RequestCorrection(maker, server.CorrectPaper, paperCode+" 0000000001", "打印错位未作废", "废票已收回", server.Proposal{PaperState: wire.PaperVoided})
		must(t, err)
		_, err = s.DecideCorrection(checker, pc.ID, true, "")
		must(t, err)
		var status string
		q := "SELECT status FROM paper_usage WHERE paper_code = ? AND paper_no = 1"
		if s.Dialect() == server.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		must(t, s.DB().QueryRow(q, paperCode).Scan(&status))
		if status != wire.PaperVoided {
			t.Fatalf("the sheet is %s", status)
		}

		// A request overtaken: the bill is reversed before approval.
		other, err := s.LedgerBill(ctx, pend[1].BillCode, pend[1].BillNo)
		must(t, err)
		late, err := s.RequestCorrection(maker, server.CorrectBill, other.BillCode+other.BillNo, "备注有误", "", server.Proposal{Remark: "复诊"})
		must(t, err)
		_, err = s.ReverseAt(ctx, "H01", other.BillCode, pend[1].BillNo, "退费", "林")
		must(t, err)
		before1 := countBills(t, s)
		if _, err := s.DecideCorrection(checker, late.ID, true, ""); bill.ErrorCode(err) != bill.EAlreadyReversed {
			t.Fatalf("carrying out an overtaken request: %v", err)
		}
		if got := countBills(t, s); got != before1 {
			t.Fatalf("a failed correction issued %d bills", got-before1)
		}
		again, err := s.Correction(checker, late.ID)
		must(t, err)
		if again.State != server.DocSubmitted || !strings.Contains(again.Opinion, "执行失败") {
			t.Fatalf("after failing: %+v", again)
		}
		list, err := s.Corrections(checker, server.DocDone)
		must(t, err)
		if len(list) != 3 {
			t.Fatalf("%d corrections done", len(list))
		}
		for _, action := range []string{"correction.request", "correction.approve", "correction.done", "correction.return", "correction.failed"} {
			if n := auditCount(t, s, action); n == 0 {
				t.Errorf("no %s in the audit trail", action)
			}
		}
	})
}

func latestBill(t *testing.T, s *server.Store, point string) *server.LedgerBill {
	t.Helper()
	list, err := s.LedgerBills(context.Background(), server.LedgerFilter{Point: point, Red: "blue", Limit: 1})
	must(t, err)
	lb, err := s.LedgerBill(context.Background(), list[0].BillCode, mustNo(t, list[0].BillNo))
	must(t, err)
	return lb
}

func mustNo(t *testing.T, s string) int64 {
	t.Helper()
	n, err := bill.ParseBillNo(s)
	must(t, err)
	return n
}

func countBills(t *testing.T, s *server.Store) int {
	t.Helper()
	var n int
	must(t, s.DB().QueryRow("SELECT COUNT(*) FROM bills").Scan(&n))
	return n
}

func auditCount(t *testing.T, s *server.Store, action string) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM audit WHERE action = ?"
	if s.Dialect() == server.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	var n int
	must(t, s.DB().QueryRow(q, action).Scan(&n))
	return n
}
