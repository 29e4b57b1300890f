package server_test

import (
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestStockDocuments (console.md 票源管理): an intake is drafted and sent
// by a bill administrator and enters stock only when a different person
// with the checker's role approves it; overlaps are refused naming the
// clashing range; a returned document carries its opinion back.
func TestStockDocuments(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		maker := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		checker := asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}})
		viewer := asUser(&server.User{Login: "zhao", Roles: []string{server.RoleFinance}})
		code := "35060126"
		if _, err := s.DraftStock(checker, server.StockDoc{Kind: server.StockEInvoice, Code: code, Start: 1, End: 1000}); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a checker drafting: %v", err)
		}
		d, err := s.DraftStock(maker, server.StockDoc{Kind: server.StockEInvoice, Code: code, Start: 1, End: 1000, Certificate: "闽财票证 2026-001"})
		must(t, err)
		if got := stockLeft(t, s, code); got != 0 {
			t.Fatalf("a draft put %d numbers in stock", got)
		}
		// A second draft over 500–1500 clashes with the first, named.
		_, err = s.DraftStock(maker, server.StockDoc{Kind: server.StockEInvoice, Code: code, Start: 500, End: 1500})
		if bill.ErrorCode(err) != bill.EConflict || !strings.Contains(bill.ErrorMessage(err), "0000000001–0000001000") {
			t.Fatalf("an overlapping draft: %v", err)
		}
		if _, err := s.DecideStock(checker, d.ID, true, ""); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("approving a draft not sent: %v", err)
		}
		if err := s.SubmitStock(checker, d.ID); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a checker sending another's draft: %v", err)
		}
		must(t, s.SubmitStock(maker, d.ID))
		if _, err := s.DecideStock(maker, d.ID, true, ""); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("the maker approving: %v", err)
		}
		// A system actor that made a document cannot approve it either.
		sys := sysCtx()
		own, err := s.DraftStock(sys, server.StockDoc{Kind: server.StockPaper, Code: "35062601", Start: 1, End: 100})
		must(t, err)
		must(t, s.SubmitStock(sys, own.ID))
		if _, err := s.DecideStock(sys, own.ID, true, ""); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("the same actor approving its own: %v", err)
		}
		// Returned without an opinion: refused; with one: back to the maker.
		if _, err := s.DecideStock(checker, d.ID, false, " "); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("a return without an opinion: %v", err)
		}
		back, err := s.DecideStock(checker, d.ID, false, "领用证号有误")
		must(t, err)
		if back.State != server.DocReturned || back.Checker != "chen" || back.Opinion != "领用证号有误" {
			t.Fatalf("returned: %+v", back)
		}
		must(t, s.SubmitStock(maker, d.ID))
		ok, err := s.DecideStock(checker, d.ID, true, "同意")
		must(t, err)
		if ok.State != server.DocApproved || stockLeft(t, s, code) != 1000 {
			t.Fatalf("approved: %+v, %d in stock", ok, stockLeft(t, s, code))
		}
		if _, err := s.DecideStock(checker, d.ID, true, ""); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("approving twice: %v", err)
		}
		// Now the stock itself is the clash.
		_, err = s.DraftStock(maker, server.StockDoc{Kind: server.StockEInvoice, Code: code, Start: 1000, End: 2000})
		if bill.ErrorCode(err) != bill.EConflict || !strings.Contains(bill.ErrorMessage(err), "已入库") {
			t.Fatalf("a draft overlapping stock: %v", err)
		}
		// 反审核: refused once numbers were allocated; allowed before.
		paperDoc, err := s.DraftStock(maker, server.StockDoc{Kind: server.StockPaper, Code: "35062602", Start: 1, End: 100})
		must(t, err)
		must(t, s.SubmitStock(maker, paperDoc.ID))
		_, err = s.DecideStock(checker, paperDoc.ID, true, "")
		must(t, err)
		if _, err := s.UnapproveStock(checker, paperDoc.ID, ""); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("反审核 without a reason: %v", err)
		}
		if _, err := s.UnapproveStock(maker, paperDoc.ID, "号码录错"); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("the maker withdrawing an approval: %v", err)
		}
		back2, err := s.UnapproveStock(checker, paperDoc.ID, "号码录错")
		must(t, err)
		if back2.State != server.DocSubmitted || stockLeft(t, s, "35062602") != 0 {
			t.Fatalf("after 反审核: %+v, %d in stock", back2, stockLeft(t, s, "35062602"))
		}
		_, err = s.DecideStock(checker, paperDoc.ID, true, "")
		must(t, err)
		must(t, s.AddPoint(sys, "P09", "测试窗口", server.PointStation))
		_, err = s.DistributePaper(sys, "P09", "35062602", 1, 10, 0)
		must(t, err)
		if _, err := s.UnapproveStock(checker, paperDoc.ID, "号码录错"); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("反审核 after a distribution: %v", err)
		}
		docs, err := s.StockDocs(viewer, server.DocApproved)
		must(t, err)
		if len(docs) != 2 || docs[1].ID != d.ID || docs[1].Certificate != "闽财票证 2026-001" {
			t.Fatalf("approved documents: %+v", docs)
		}
		if _, err := s.StockDocs(asUser(&server.User{Login: "lin", Roles: []string{server.RoleCashier}})); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a cashier listing documents: %v", err)
		}
	})
}

func stockLeft(t *testing.T, s *server.Store, code string) int64 {
	t.Helper()
	list, err := s.Stock(sysCtx())
	must(t, err)
	for _, c := range list {
		if c.Code == code {
			return c.Remaining
		}
	}
	return 0
}

// TestPaperDistribution: paper is given to points by range or by count,
// never twice; unused numbers return to the stock and are given again; a
// disabled point gets no paper and no numbers, while its bills still
// upload.
func TestPaperDistribution(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		admin := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		setupUnit(t, s)
		must(t, s.AddPoint(sysCtx(), "P01", "一号窗口", server.PointStation))
		must(t, s.AddPoint(sysCtx(), "P02", "二号窗口", server.PointStation))
		_, err := s.ReceiveStock(sysCtx(), server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 100})
		must(t, err)
		r, err := s.DistributePaper(admin, "P01", "35062601", 11, 20, 0)
		must(t, err)
		if r.Start != 11 || r.End != 20 {
			t.Fatalf("by range: %+v", r)
		}
		_, err = s.DistributePaper(admin, "P02", "35062601", 15, 30, 0)
		if bill.ErrorCode(err) != bill.EConflict || !strings.Contains(bill.ErrorMessage(err), "P01") {
			t.Fatalf("overlapping P01's: %v", err)
		}
		if _, err := s.DistributePaper(admin, "P02", "35062601", 95, 120, 0); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("beyond the stock: %v", err)
		}
		// By count: the first free numbers, 1–10, then 21–30.
		for _, want := range [][2]int64{{1, 10}, {21, 30}} {
			r, err := s.DistributePaper(admin, "P02", "35062601", 0, 0, 10)
			must(t, err)
			if r.Start != want[0] || r.End != want[1] {
				t.Fatalf("by count: %+v, want %v", r, want)
			}
		}
		if left := paperLeft(t, s); left != 70 {
			t.Fatalf("%d left after 30 given", left)
		}
		// P01 used 11–13; 14–20 return.
		enrolled := enrollStation(t, s, "P01")
		_ = enrolled
		md, err := s.MasterDataSince(sysCtx(), "P01", 0)
		must(t, err)
		if !md.PaperSent || len(md.Paper) != 1 || md.Paper[0].Start != 11 || md.Paper[0].End != 20 {
			t.Fatalf("P01's master data: %+v %+v", md.PaperSent, md.Paper)
		}
		list, err := s.Distributions(admin, "P01")
		must(t, err)
		must(t, markPaperUsed(s, "P01", 11, 13))
		if _, err := s.ReturnPaper(admin, list[0].ID, 12); bill.ErrorCode(err) != bill.EConflict || !strings.Contains(bill.ErrorMessage(err), "0000000014") {
			t.Fatalf("returning used numbers: %v", err)
		}
		back, err := s.ReturnPaper(admin, list[0].ID, 0)
		must(t, err)
		if back.Start != 14 || back.End != 20 || paperLeft(t, s) != 77 {
			t.Fatalf("returned %+v, %d left", back, paperLeft(t, s))
		}
		md2, err := s.MasterDataSince(sysCtx(), "P01", md.Version)
		must(t, err)
		if !md2.PaperSent || len(md2.Paper) != 1 || md2.Paper[0].End != 13 {
			t.Fatalf("P01 after the return: %+v", md2.Paper)
		}
		r, err = s.DistributePaper(admin, "P02", "35062601", 0, 0, 5)
		must(t, err)
		if r.Start != 14 || r.End != 18 {
			t.Fatalf("the returned numbers given again: %+v", r)
		}
		// A disabled point: no paper, no numbers; its bills still upload.
		enrolled.issue(t, "outpatient.json", "D-1")
		must(t, s.SetPointDisabled(admin, "P01", true))
		if _, err := s.DistributePaper(admin, "P01", "35062601", 0, 0, 5); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("paper to a disabled point: %v", err)
		}
		if _, err := s.Allocate(sysCtx(), "P01", outCode, "after-disable"); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("numbers for a disabled point: %v", err)
		}
		resp, err := s.Upload(sysCtx(), "P01", enrolled.pending(t))
		must(t, err)
		if len(resp.Acks) != 1 || resp.Acks[0].Status != "stored" {
			t.Fatalf("a disabled point's upload: %+v", resp.Acks)
		}
		if err := s.SetPointDisabled(asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}}), "P01", false); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a checker enabling a point: %v", err)
		}
		must(t, s.SetPointDisabled(admin, "P01", false))
		if _, err := s.Allocate(sysCtx(), "P01", outCode, "after-enable"); err != nil {
			t.Fatalf("numbers after enabling: %v", err)
		}
	})
}

func paperLeft(t *testing.T, s *server.Store) int64 {
	return stockLeft(t, s, "35062601")
}

// markPaperUsed records blank voids of from–to at point, as a station's
// paper report would.
func markPaperUsed(s *server.Store, point string, from, to int64) error {
	for no := from; no <= to; no++ {
		q := "INSERT INTO paper_usage (paper_code, paper_no, point_code, status, used_at) VALUES (?, ?, ?, 'blank_void', 1)"
		if s.Dialect() == server.Postgres {
			q = "INSERT INTO paper_usage (paper_code, paper_no, point_code, status, used_at) VALUES ($1, $2, $3, 'blank_void', 1)"
		}
		if _, err := s.DB().Exec(q, "35062601", no, point); err != nil {
			return err
		}
	}
	return nil
}
