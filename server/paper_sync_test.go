package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// TestUploadPaperRules: a station's paper uses are stored (a reprint's void
// and print in one batch, in either order), replays are idempotent, and a
// use that cannot be right is a conflict that stores nothing: another
// point's bill, a bill not on the server, a number another point used, a
// voided number coming back, a blank void with a bill.
func TestUploadPaperRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := context.Background()
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		must(t, s.AddPoint(ctx, "P02", "门诊二号窗口", server.PointStation))
		admin := server.WithActor(ctx, server.Actor{Who: "cli:test", System: true})
		_, err := s.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 1000})
		must(t, err)
		for _, d := range []struct {
			point    string
			from, to int64
		}{{"P01", 1, 6}, {"P02", 7, 7}, {"P01", 8, 50}} {
			_, err := s.DistributePaper(admin, d.point, "35062601", d.from, d.to, 0)
			must(t, err)
		}
		a := enrollStation(t, s, "P01")
		b := enrollStation(t, s, "P02")
		a.issue(t, "outpatient.json", "A-1")
		a.issue(t, "outpatient.json", "A-2")
		b.issue(t, "outpatient.json", "B-1")
		ab, bb := a.pending(t), b.pending(t)
		_, err = s.Upload(ctx, "P01", ab)
		must(t, err)
		_, err = s.Upload(ctx, "P02", bb)
		must(t, err)
		use := func(no int64, status, billID string, version int64) wire.PaperUse {
			u := wire.PaperUse{PaperCode: "35062601", PaperNo: no, Status: status, BillID: billID, UsedAt: 1, Version: version}
			if status != wire.PaperPrinted {
				u.VoidedAt, u.Reason = 2, "作废"
			}
			return u
		}
		verdicts := func(uses ...wire.PaperUse) string {
			t.Helper()
			resp, err := s.UploadPaper(ctx, "P01", uses)
			must(t, err)
			out := ""
			for _, a := range resp.Acks {
				out += a.Status[:1]
			}
			return out
		}
		live := func(billID string) string {
			var code string
			var no int64
			ph := "?"
			if s.Dialect() == server.Postgres {
				ph = "$1"
			}
			if err := s.DB().QueryRowContext(ctx, "SELECT paper_code, paper_no FROM paper_usage WHERE bill_id = "+ph+" AND status = 'printed'",
				billID).Scan(&code, &no); err != nil {
				return ""
			}
			return fmt.Sprintf("%s %d", code, no)
		}

		// Printed on 1, then a reprint onto 2 — the print listed before the void.
		if v := verdicts(use(1, wire.PaperPrinted, ab[0].ID, 1)); v != "s" || live(ab[0].ID) != "35062601 1" {
			t.Fatalf("print: %s, live %q", v, live(ab[0].ID))
		}
		if v := verdicts(use(2, wire.PaperPrinted, ab[0].ID, 1), use(1, wire.PaperVoided, ab[0].ID, 2)); v != "ss" || live(ab[0].ID) != "35062601 2" {
			t.Fatalf("reprint: %s, live %q", v, live(ab[0].ID))
		}
		// A replay changes nothing.
		if v := verdicts(use(2, wire.PaperPrinted, ab[0].ID, 1)); v != "s" || live(ab[0].ID) != "35062601 2" {
			t.Fatalf("replay: %s", v)
		}
		// Conflicts, each storing nothing.
		if v := verdicts(
			use(3, wire.PaperPrinted, bb[0].ID, 1),       // P02's bill
			use(4, wire.PaperPrinted, "no-such-bill", 1), // not on the server
			use(1, wire.PaperPrinted, ab[1].ID, 3),       // number 1 was voided: it cannot come back
			use(5, wire.PaperBlankVoid, ab[1].ID, 1),     // a blank void has no bill
			use(6, wire.PaperPrinted, ab[0].ID, 1),       // the bill already has a live sheet (2)
			use(2, wire.PaperPrinted, ab[1].ID, 2),       // sheet 2 carries another bill
		); v != "cccccc" || live(ab[1].ID) != "" || live(ab[0].ID) != "35062601 2" {
			t.Fatalf("conflicts: %s, live %q / %q", v, live(ab[1].ID), live(ab[0].ID))
		}
		// A number never distributed to P01 (60) is refused.
		if v := verdicts(use(60, wire.PaperPrinted, ab[1].ID, 1)); v != "c" || live(ab[1].ID) != "" {
			t.Fatalf("an undistributed number: %s", v)
		}
		// A number P02 used is not P01's.
		resp, err := s.UploadPaper(ctx, "P02", []wire.PaperUse{use(7, wire.PaperBlankVoid, "", 1)})
		must(t, err)
		if resp.Acks[0].Status != wire.AckStored || verdicts(use(7, wire.PaperPrinted, ab[1].ID, 1)) != "c" {
			t.Fatalf("another point's number: %+v", resp.Acks)
		}
		var n int
		must(t, s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM paper_usage").Scan(&n))
		if n != 3 { // 1 (voided), 2 (printed), 7 (P02's blank void)
			t.Fatalf("%d paper rows", n)
		}
	})
}
