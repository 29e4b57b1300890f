package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

// TestServerIssuingConcurrently: many HIS calls at once on a point never
// used before — one key, no number twice, one unbroken chain.
func TestServerIssuingConcurrently(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, _ := hisServer(t, s)
		raw, err := os.ReadFile("../examples/outpatient.json")
		must(t, err)
		const n = 40
		errs := make(chan error, n)
		nos := make(chan string, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				st, err := bill.ParseSettlement(raw)
				if err != nil {
					errs <- err
					return
				}
				st.BusNo, st.PlaceCode = bill.Text("CONC-"+string(rune('A'+i%26))+string(rune('a'+i/26))), "H01"
				iss, err := s.IssueAt(ctx, "H01", bill.Outpatient, st)
				if err == nil {
					nos <- iss.BillNo
				}
				errs <- err
			}(i)
		}
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			must(t, <-errs)
		}
		close(nos)
		for no := range nos {
			if seen[no] {
				t.Fatalf("number %s twice", no)
			}
			seen[no] = true
		}
		p, err := s.Point(ctx, "H01")
		must(t, err)
		if len(seen) != n || p.ChainSeq != n {
			t.Fatalf("%d numbers, chain at %d", len(seen), p.ChainSeq)
		}
	})
}

// TestServerNumbersAcrossSegmentsAndRestart: a server point's numbers run on
// without a gap across many small segments, and, after the server restarts
// (nothing held in memory), from where the ledger stands.
func TestServerNumbersAcrossSegmentsAndRestart(t *testing.T) {
	pg := pgDSN(t)
	for _, db := range []struct{ name, dsn, dir string }{{"sqlite", "", t.TempDir()}, {"postgres", pg, ""}} {
		t.Run(db.name, func(t *testing.T) {
			if db.name == "postgres" && pg == "" {
				t.Skip("EBILL_TEST_PG not set")
			}
			open := func() *server.Store {
				s, err := server.OpenStore(context.Background(), db.dsn, db.dir)
				must(t, err)
				return s
			}
			s := open()
			ctx, _, _, _ := hisServer(t, s)
			p, err := s.Point(ctx, "H01")
			must(t, err)
			settings := p.Settings
			settings.SegmentSize = 3
			must(t, s.SetPointSettings(ctx, "H01", settings))
			raw, err := os.ReadFile("../examples/outpatient.json")
			must(t, err)
			var nos []int64
			issue := func(s *server.Store, bus string) {
				st, err := bill.ParseSettlement(raw)
				must(t, err)
				st.BusNo, st.PlaceCode = bill.Text(bus), "H01"
				iss, err := s.IssueAt(ctx, "H01", bill.Outpatient, st)
				must(t, err)
				no, err := strconv.ParseInt(iss.BillNo, 10, 64)
				must(t, err)
				nos = append(nos, no)
			}
			for i := range 10 {
				issue(s, fmt.Sprintf("SEG-%02d", i))
			}
			s.Close()
			s = open()
			defer s.Close()
			for i := 10; i < 14; i++ {
				issue(s, fmt.Sprintf("SEG-%02d", i))
			}
			for i := 1; i < len(nos); i++ {
				if nos[i] != nos[i-1]+1 {
					t.Fatalf("numbers %v: a gap or a repeat at %d", nos, i)
				}
			}
			segs, err := s.Segments(ctx, "H01")
			must(t, err)
			if len(segs) != 5 {
				t.Fatalf("%d segments of 3 for 14 bills, want 5", len(segs))
			}
		})
	}
}

// TestBusinessDatesBackfilled: bills stored before migration 7 get their
// business time and type from their signed content when it runs (a red
// bill: its own issue time).
func TestBusinessDatesBackfilled(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, _, c := hisServer(t, s)
		ctx := context.Background()
		m := outpatientForHIS(t, "BUS-1")
		m["busDateTime"] = "20261001235959999"
		code, msg := c.call("invoiceEBillOutpatient", m)
		var blue map[string]string
		json.Unmarshal(msg, &blue)
		if code != his.ResultOK {
			t.Fatalf("issue: %s %s", code, msg)
		}
		if code, msg := c.call("writeOffEBill", map[string]string{"billBatchCode": blue["billBatchCode"], "billNo": blue["billNo"], "reason": "退费"}); code != his.ResultOK {
			t.Fatalf("write-off: %s %s", code, msg)
		}
		must(t, s.MigrateTo(ctx, 6))      // as before migration 7: no business columns
		defer server.SetBackfillPage(1)() // one bill a page: the paging is tested too
		must(t, s.MigrateTo(ctx, -1))
		got := map[bool][2]any{}
		rows, err := s.DB().QueryContext(ctx, "SELECT red_of IS NOT NULL, bus_at, bus_type, issued_at FROM bills")
		must(t, err)
		for rows.Next() {
			var red bool
			var at, issued int64
			var typ string
			must(t, rows.Scan(&red, &at, &typ, &issued))
			if red && at != issued {
				t.Errorf("red bill: business time %d, issued %d", at, issued)
			}
			got[red] = [2]any{time.UnixMilli(at).In(bill.Beijing).Format("20060102150405.000"), typ}
		}
		must(t, rows.Err())
		rows.Close()
		if got[false] != [2]any{"20261001235959.999", "02"} {
			t.Fatalf("blue bill after the migration: %v", got[false])
		}
	})
}

// TestTwoServersOneServerPoint: two servers on one PostgreSQL issuing for
// the same server point at once never give a number twice or break the
// chain; a batch that loses the race fails (and is retried with its busNo).
func TestTwoServersOneServerPoint(t *testing.T) {
	dsn := pgDSN(t)
	if dsn == "" {
		t.Skip("EBILL_TEST_PG not set")
	}
	ctx := context.Background()
	a, err := server.OpenStore(ctx, dsn, "")
	must(t, err)
	defer a.Close()
	hisServer(t, a)
	b, err := server.OpenStore(ctx, dsn, "")
	must(t, err)
	defer b.Close()
	raw, err := os.ReadFile("../examples/outpatient.json")
	must(t, err)
	issue := func(s *server.Store, bus string) error {
		st, err := bill.ParseSettlement(raw)
		must(t, err)
		st.BusNo, st.PlaceCode = bill.Text(bus), "H01"
		_, err = s.IssueAt(ctx, "H01", bill.Outpatient, st)
		return err
	}
	const n = 30
	failed := make(chan string, 2*n)
	done := make(chan struct{})
	for i, s := range []*server.Store{a, b} {
		go func() {
			for j := range n {
				bus := fmt.Sprintf("TWO-%d-%02d", i, j)
				if err := issue(s, bus); err != nil {
					if bill.ErrorCode(err) != bill.EInternal {
						t.Errorf("%s: %v", bus, err) // only a lost race, which the caller retries
					}
					failed <- bus
				}
			}
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	close(failed)
	var retry []string
	for bus := range failed {
		retry = append(retry, bus)
	}
	for _, bus := range retry { // as a HIS retries: the same busNo, one server
		must(t, issue(a, bus))
	}
	list, err := a.LedgerBills(ctx, server.LedgerFilter{Point: "H01", Limit: 1000})
	must(t, err)
	seen := map[string]bool{}
	for _, lb := range list {
		if seen[lb.BillNo] {
			t.Fatalf("number %s twice", lb.BillNo)
		}
		seen[lb.BillNo] = true
	}
	for no := 1; no <= 2*n; no++ { // no number lost either: the first segment's 1…60
		if !seen[bill.FormatBillNo(int64(no))] {
			t.Fatalf("number %d missing", no)
		}
	}
	p, err := a.Point(ctx, "H01")
	must(t, err)
	if len(list) != 2*n || p.ChainSeq != 2*n {
		t.Fatalf("%d bills, chain at %d, want %d (%d retried)", len(list), p.ChainSeq, 2*n, len(retry))
	}
	t.Logf("%d of %d calls lost the race and were retried", len(retry), 2*n)
	if conflicts, err := a.Conflicts(ctx, "H01"); err != nil || len(conflicts) != 0 {
		t.Fatalf("a lost race is not a station's conflict: %d recorded, %v", len(conflicts), err)
	}
}
