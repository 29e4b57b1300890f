package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestCertificates (领用证): once one is registered, an intake must name a
// registered, enabled, valid certificate covering its code; the ledger
// lists the approved intakes; expiry and the yearly inspection remind.
func TestCertificates(t *testing.T) {
	forEachClockStore(t, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), func(t *testing.T, s *server.Store, c *clock) {
		ctx := context.Background()
		maker := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		checker := asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}})
		doc := func(code string, from, to int64, cert string) (*server.StockDoc, error) {
			return s.DraftStock(maker, server.StockDoc{Kind: server.StockEInvoice, Code: code, Start: from, End: to, Certificate: cert})
		}
		// None registered: any text, or none.
		_, err := doc("35060126", 1, 10, "")
		must(t, err)
		if _, err := s.SaveCertificate(checker, server.Certificate{No: "x"}); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a checker registering: %v", err)
		}
		if _, err := s.SaveCertificate(maker, server.Certificate{No: "闽财票证2026-001", Name: "医疗收费票据领用证", IssuedOn: "2026-01-05",
			ValidTo: "2026-11-30", Codes: []string{"35060126"}}); err != nil {
			t.Fatal(err) // (already expired: it may be registered, not used)
		}
		cert, err := s.SaveCertificate(maker, server.Certificate{No: "闽财票证2026-002", Name: "医疗收费票据领用证", Unit: "厦门市某区医院",
			IssuedOn: "2025-12-20", ValidTo: "2026-12-20", Codes: []string{"35060126", " 35062601 "}, Enabled: true})
		must(t, err)
		if _, err := s.SaveCertificate(maker, server.Certificate{No: "闽财票证2026-002", Name: "x", IssuedOn: "2026-01-05", ValidTo: "2027-01-01",
			Codes: []string{"35060126"}}); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("a number registered twice: %v", err)
		}
		for _, c := range []struct {
			code, cert, want string
		}{
			{"35060126", "", "请填写领用证号"},
			{"35060126", "闽财票证2099-999", "未登记"},
			{"35060126", "闽财票证2026-001", "已停用"},
			{"35060226", "闽财票证2026-002", "不包括票据代码 35060226"},
		} {
			if _, err := doc(c.code, 1001, 2000, c.cert); err == nil || !strings.Contains(bill.ErrorMessage(err), c.want) {
				t.Errorf("intake of %s on %q: %v, want %q", c.code, c.cert, err, c.want)
			}
		}
		d, err := doc("35060126", 1001, 2000, "闽财票证2026-002")
		must(t, err)
		must(t, s.SubmitStock(maker, d.ID))
		_, err = s.DecideStock(checker, d.ID, true, "")
		must(t, err)
		_, ledger, err := s.CertificateLedger(checker, cert.ID)
		must(t, err)
		if len(ledger.Lines) != 1 || ledger.Received != 1000 || ledger.Balance != 1000 || ledger.Lines[0].Checker != "chen" {
			t.Fatalf("the ledger: %+v", ledger)
		}
		// Three bills on its numbers, declared and approved: 销 3.
		sys := server.WithActor(ctx, server.Actor{Who: "cli:test", System: true})
		must(t, s.SetUnit(sys, server.Unit{Name: "厦门市某区医院", CreditCode: "123502004266001233"}))
		must(t, s.SetBillKind(sys, bill.Outpatient, "35060126"))
		must(t, s.AddPoint(sys, "H01", "HIS 门诊", server.PointServer))
		for i := range 3 {
			set := example(t, "outpatient.json")
			set.BusNo, set.PlaceCode = bill.Text(fmt.Sprintf("C-%d", i)), "H01"
			_, err := s.IssueAt(sys, "H01", bill.Outpatient, set)
			must(t, err)
		}
		w, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockEInvoice, Code: "35060126", From: c.t.Add(-time.Hour), To: c.t.Add(time.Hour)})
		must(t, err)
		c.t = c.t.Add(2 * time.Hour)
		_, err = s.SubmitWriteOff(maker, w.ID)
		must(t, err)
		_, err = s.DecideWriteOff(checker, w.ID, true, "")
		must(t, err)
		_, ledger, err = s.CertificateLedger(checker, cert.ID)
		must(t, err)
		if ledger.WrittenOff != 3 || len(ledger.Lines) != 2 || ledger.Lines[1].What != "销" || ledger.Lines[1].Count != 3 || ledger.Balance != 997 {
			t.Fatalf("the ledger after a write-off: %+v", ledger)
		}
		// 19 days before its end and its 年检 (a year after 2025-12-20): two reminders.
		n, err := s.SendReminders(ctx, server.Reminders{})
		must(t, err)
		if n != 2 {
			t.Fatalf("%d reminders, want expiry and inspection", n)
		}
		// After its end, it cannot be used.
		c.t = time.Date(2026, 12, 21, 2, 0, 0, 0, time.UTC)
		if _, err := doc("35060126", 3001, 4000, "闽财票证2026-002"); bill.ErrorCode(err) != bill.EConflict || !strings.Contains(bill.ErrorMessage(err), "到期") {
			t.Fatalf("an expired certificate: %v", err)
		}
	})
}
