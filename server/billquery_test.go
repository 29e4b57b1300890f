package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestBillQueries: 开票明细 selects by each filter and pages by keyset
// without gaps or repeats; the summary's figures equal the bills'; a bill's
// life and a number's life tell what happened, in order.
func TestBillQueries(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx := context.Background()
		viewer := asUser(&server.User{Login: "zhao", Roles: []string{server.RoleFinance}})
		setupUnit(t, s)
		must(t, s.AddPoint(ctx, "P01", "一号窗口", server.PointStation))
		must(t, s.AddPoint(ctx, "P02", "二号窗口", server.PointStation))
		a := enrollStation(t, s, "P01")
		b := enrollStation(t, s, "P02")
		for i := range 7 {
			a.issue(t, "outpatient.json", "A-"+string(rune('0'+i)))
		}
		b.issue(t, "registration.json", "B-1")
		b.issue(t, "registration.json", "B-2")
		// P01 reverses one of its bills.
		list, err := a.PendingBills(ctx, 1)
		must(t, err)
		_, err = a.Reverse(ctx, list[0].BillCode, list[0].BillNo, "退费", "林小燕")
		must(t, err)
		for _, st := range []*station{a, b} {
			_, err := s.Upload(ctx, st.code, st.pending(t))
			must(t, err)
		}

		count := func(q server.BillQuery) int {
			t.Helper()
			n := 0
			must(t, s.EachBill(viewer, q, func(*server.QueriedBill) error { n++; return nil }))
			return n
		}
		for _, c := range []struct {
			name string
			q    server.BillQuery
			want int
		}{
			{"all", server.BillQuery{}, 10},
			{"P01", server.BillQuery{Point: "P01"}, 8},
			{"outpatient", server.BillQuery{Kind: bill.Outpatient}, 10},
			{"inpatient", server.BillQuery{Kind: bill.Inpatient}, 0},
			{"payer 王五", server.BillQuery{Payer: "王五"}, 2},
			{"patient GH26112500018", server.BillQuery{Patient: "GH26112500018"}, 2},
			{"red", server.BillQuery{State: server.StateRed}, 1},
			{"reversed", server.BillQuery{State: server.StateReversed}, 1},
			{"normal", server.BillQuery{State: server.StateNormal}, 8},
			{"amount 100–200", server.BillQuery{Min: 10000, HasMin: true, Max: 20000, HasMax: true}, 7},
			{"numbers 2–3", server.BillQuery{Code: list[0].BillCode, NoFrom: 2, NoTo: 3}, 2},
			{"tomorrow on", server.BillQuery{From: time.Now().Add(24 * time.Hour)}, 0},
		} {
			if got := count(c.q); got != c.want {
				t.Errorf("%s: %d bills, want %d", c.name, got, c.want)
			}
		}
		// Pages of 3: every bill once, newest first.
		seen := map[string]bool{}
		var last time.Time
		q := server.BillQuery{Limit: 3}
		pages := 0
		for {
			page, next, err := s.QueryBills(viewer, q)
			must(t, err)
			pages++
			for _, r := range page {
				if seen[r.ID] || (!last.IsZero() && r.IssuedAt.After(last)) {
					t.Fatalf("page %d: %s repeated or out of order", pages, r.ID)
				}
				seen[r.ID], last = true, r.IssuedAt
			}
			if next == "" {
				break
			}
			q.After = next
		}
		if len(seen) != 10 || pages != 4 {
			t.Fatalf("%d bills over %d pages", len(seen), pages)
		}
		if _, _, err := s.QueryBills(viewer, server.BillQuery{After: "x"}); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("a forged cursor: %v", err)
		}
		if _, _, err := s.QueryBills(asUser(&server.User{Login: "lin", Roles: []string{server.RoleCashier}}), server.BillQuery{}); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("a cashier querying the ledger: %v", err)
		}

		// The summary equals the bills: 7 × 123.45 + 2 × 15.00 blue, one red −123.45.
		day := time.Now().In(bill.Beijing)
		from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, bill.Beijing)
		rows, total, err := s.Summary(viewer, server.SummaryQuery{From: from, To: from.AddDate(0, 0, 1), ByPoint: true, ByChannel: true})
		must(t, err)
		if total.Bills != 9 || total.Amount != 7*12345+2*1500 || total.Reds != 1 || total.RedAmount != -12345 {
			t.Fatalf("summary total: %+v", total)
		}
		byChannel := map[string]bill.Money{}
		for _, r := range rows {
			byChannel[r.Point+"/"+r.Channel] += r.Net()
		}
		// P01's bills are paid 80.00 by channel 11 and 43.45 by 05; one is reversed.
		if byChannel["P01/11"] != 6*8000 || byChannel["P01/05"] != 6*4345 || byChannel["P02/04"] != 3000 {
			t.Fatalf("by point and channel: %v", byChannel)
		}
		months, _, err := s.Summary(viewer, server.SummaryQuery{From: from, To: from.AddDate(0, 0, 1), ByMonth: true})
		must(t, err)
		if len(months) != 1 || months[0].Period != day.Format("2006-01") || months[0].Net() != total.Net() {
			t.Fatalf("by month: %+v", months)
		}

		// 峰值走势 today by hour: all 9 blue bills in this hour, the peak;
		// P02's alone; the day before (the previous period) empty.
		tr, err := s.Trend(viewer, server.TrendQuery{From: from, To: from.AddDate(0, 0, 1), By: server.ByHour})
		must(t, err)
		// (The bills were issued a moment ago: the same hour, unless one fell
		// on the hour's turn — the peak is then the fuller of the two.)
		peakOK := tr.Peak >= 0
		for _, p := range tr.Points {
			peakOK = peakOK && p.Bills <= tr.Points[tr.Peak].Bills
		}
		if len(tr.Points) != 24 || !peakOK || tr.Total.Bills != 9 || tr.Total.Reds != 1 || tr.Total.Net() != total.Net() ||
			tr.PrevTotal.Bills != 0 || len(tr.Previous) != 24 || tr.Average != 9.0/24 {
			t.Fatalf("the hourly trend: peak %d, total %+v", tr.Peak, tr.Total)
		}
		p02, err := s.Trend(viewer, server.TrendQuery{From: from.AddDate(0, 0, -6), To: from.AddDate(0, 0, 1), By: server.ByDay, Point: "P02"})
		must(t, err)
		if len(p02.Points) != 7 || p02.Peak != 6 || p02.Points[6].Bills != 2 || p02.Points[6].Amount != 3000 {
			t.Fatalf("P02's daily trend: %+v", p02.Points)
		}
		// Migration 16 fills the figures of the bills held before it the same.
		must(t, s.MigrateTo(ctx, 14))
		restore := server.SetBackfillPage(4)
		must(t, s.MigrateTo(ctx, -1))
		restore()
		_, again, err := s.Summary(viewer, server.SummaryQuery{From: from, To: from.AddDate(0, 0, 1), ByPoint: true, ByChannel: true})
		must(t, err)
		if again != total || count(server.BillQuery{Patient: "GH26112500018"}) != 2 {
			t.Fatalf("after the backfill: %+v, want %+v", again, total)
		}
		if tr2, err := s.Trend(viewer, server.TrendQuery{From: from, To: from.AddDate(0, 0, 1), By: server.ByMonth}); err != nil || tr2.Total != tr.Total {
			t.Fatalf("the trend after the backfill: %+v %v, want %+v", tr2, err, tr.Total)
		}

		// The reversed bill's life: issued, uploaded, reversed.
		_, life, err := s.BillLife(viewer, list[0].BillCode, list[0].BillNo)
		must(t, err)
		var whats []string
		for _, e := range life {
			whats = append(whats, e.What)
		}
		if got := strings.Join(whats, ","); !strings.Contains(got, "开具") || !strings.Contains(got, "上传到服务器") || !strings.Contains(got, "红冲") {
			t.Fatalf("the bill's life: %s", got)
		}
		// The number's life starts at the intake and the allocation.
		ev, err := s.NumberLife(viewer, server.StockEInvoice, list[0].BillCode, list[0].BillNo)
		must(t, err)
		if len(ev) < 4 || ev[0].What != "入库" || ev[1].What != "分配给开票点" || ev[1].Detail != "P01" {
			t.Fatalf("the number's life: %+v", ev)
		}
		if _, err := s.NumberLife(viewer, server.StockEInvoice, "35069999", 1); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("a number never received: %v", err)
		}
	})
}
