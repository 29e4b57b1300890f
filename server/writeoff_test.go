package server_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

const paperCode = "35062601"

// journal is the test's own count of what it did, period by period, kept
// apart from the ledger: the figures are checked against it.
type journal struct {
	normal, red           server.Tally
	printed, redPrinted   int64
	voided, blank, stored int64
}

func (j *journal) bill(t *testing.T, lb *server.LedgerBill) {
	t.Helper()
	if lb.RedOf != "" {
		j.red.Count, j.red.Amount = j.red.Count+1, j.red.Amount+lb.Total
	} else {
		j.normal.Count, j.normal.Amount = j.normal.Count+1, j.normal.Amount+lb.Total
	}
}

func billNo(t *testing.T, lb *server.LedgerBill) int64 {
	t.Helper()
	n, err := strconv.ParseInt(lb.BillNo, 10, 64)
	must(t, err)
	return n
}

// TestWriteOffDeclarations builds a ledger by real issuing across a period
// boundary — a station's bills and a red bill, HIS bills and a red bill,
// paper conversions, a reprint's void, blank voids at a point and in the
// store room, a bill uploaded after its period was sent — and checks each
// figure of the e-bill and paper declarations of both periods against the
// test's own journal; a declaration that does not balance cannot be sent,
// the maker cannot approve, and an approved period stays closed.
func TestWriteOffDeclarations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		t0 := time.Now().Add(-time.Second)
		ctx, _, _, hc := hisServer(t, s)
		maker := asUser(&server.User{Login: "wang", Roles: []string{server.RoleBillAdmin}})
		checker := asUser(&server.User{Login: "chen", Roles: []string{server.RoleChecker}})
		_, err := s.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: paperCode, Start: 1, End: 1000})
		must(t, err)
		must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
		_, err = s.AssignPaper(ctx, "H01", paperCode, 100)
		must(t, err)
		_, err = s.DistributePaper(ctx, "P01", paperCode, 101, 200, 0)
		must(t, err)
		st := enrollStation(t, s, "P01")
		var eA, eB, pA, pB journal

		// Period A. The station: four bills, the first reversed, a fifth
		// issued but not uploaded until period B.
		for i := range 4 {
			st.issue(t, "outpatient.json", "A-"+strconv.Itoa(i))
		}
		first, err := st.PendingBills(context.Background(), 1)
		must(t, err)
		_, err = st.Reverse(context.Background(), first[0].BillCode, first[0].BillNo, "退费", "林小燕")
		must(t, err)
		st.issue(t, "outpatient.json", "A-late")
		pend := st.pending(t)
		if len(pend) != 6 {
			t.Fatalf("%d pending at the station", len(pend))
		}
		_, err = s.Upload(ctx, "P01", pend[:5])
		must(t, err)
		for _, p := range pend[:5] {
			lb, err := s.LedgerBill(ctx, p.BillCode, p.BillNo)
			must(t, err)
			eA.bill(t, lb)
		}
		lateBill := pend[5]
		// The station prints its second bill on paper 101.
		resp, err := s.UploadPaper(ctx, "P01", []wire.PaperUse{{PaperCode: paperCode, PaperNo: 101, Status: wire.PaperPrinted,
			BillID: pend[1].ID, UsedAt: time.Now().UnixMilli(), Version: 1}})
		must(t, err)
		if resp.Acks[0].Status != "stored" {
			t.Fatalf("paper upload: %+v", resp.Acks)
		}
		pA.printed++
		// HIS: three bills on H01, each printed on paper (1, 2, 3); the first
		// reversed (its paper voided, the red bill printed on 4); the second
		// reprinted onto 5 (2 voided); 6–7 voided blank at the point.
		var his []*server.LedgerBill
		for i := range 3 {
			set := example(t, "outpatient.json")
			set.BusNo, set.PlaceCode = bill.Text("H-A-"+strconv.Itoa(i)), "H01"
			is, err := s.IssueAt(ctx, "H01", bill.Outpatient, set)
			must(t, err)
			his = append(his, is.LedgerBill)
			eA.bill(t, is.LedgerBill)
			must(t, s.PrintPaper(ctx, "H01", is.BillCode, billNo(t, is.LedgerBill), paperCode, int64(i+1), "林", false))
		}
		red, err := s.ReverseAt(ctx, "H01", his[0].BillCode, billNo(t, his[0]), "退费", "林")
		must(t, err)
		eA.bill(t, red.LedgerBill)
		must(t, s.PrintPaper(ctx, "H01", red.BillCode, billNo(t, red.LedgerBill), paperCode, 4, "林", false))
		must(t, s.PrintPaper(ctx, "H01", his[1].BillCode, billNo(t, his[1]), paperCode, 5, "林", true))
		_, err = s.BlankVoidPaper(ctx, "H01", paperCode, 6, 7, "卡纸", "林")
		must(t, err)
		pA.printed += 2 // 3 (his[2]) and 5 (his[1] reprinted)
		pA.redPrinted++ // 4
		pA.voided += 2  // 1 (reversed) and 2 (reprinted)
		pA.blank += 2   // 6–7
		pA.stored += 10 // 901–910, below
		// The store room voids 901–910: the maker cannot approve it.
		sv, err := s.DraftStoreVoid(maker, paperCode, 901, 910, "受潮")
		must(t, err)
		if _, err := s.DecideStoreVoid(maker, sv.ID, true, ""); bill.ErrorCode(err) != bill.EForbidden {
			t.Fatalf("the maker approving a store void: %v", err)
		}
		_, err = s.DecideStoreVoid(checker, sv.ID, true, "同意")
		must(t, err)
		if _, err := s.DistributePaper(ctx, "P01", paperCode, 905, 920, 0); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("distributing store-voided paper: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
		t1 := time.Now()
		time.Sleep(5 * time.Millisecond)

		// Period A's declarations: drafted, sent, the maker refused, approved.
		eDeclA, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockEInvoice, Code: outCode, From: t0, To: t1})
		must(t, err)
		pDeclA, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockPaper, Code: paperCode, From: t0, To: t1})
		must(t, err)
		if _, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockPaper, Code: paperCode, From: t1.Add(-time.Hour), To: t1.Add(time.Hour)}); bill.ErrorCode(err) != bill.EConflict {
			t.Fatalf("an overlapping declaration: %v", err)
		}
		for _, d := range []*server.WriteOff{eDeclA, pDeclA} {
			_, err := s.SubmitWriteOff(maker, d.ID)
			must(t, err)
			if _, err := s.DecideWriteOff(maker, d.ID, true, ""); bill.ErrorCode(err) != bill.EForbidden {
				t.Fatalf("the maker approving a declaration: %v", err)
			}
		}
		// The late bill reaches the server after A was sent.
		time.Sleep(5 * time.Millisecond)
		_, err = s.Upload(ctx, "P01", []wire.Bill{lateBill})
		must(t, err)
		lateLB, err := s.LedgerBill(ctx, lateBill.BillCode, lateBill.BillNo)
		must(t, err)
		eB.bill(t, lateLB)
		for _, d := range []*server.WriteOff{eDeclA, pDeclA} {
			w, err := s.DecideWriteOff(checker, d.ID, true, "同意")
			must(t, err)
			if w.State != server.DocApproved {
				t.Fatalf("approved: %s", w.State)
			}
		}
		eA1, err := s.WriteOff(maker, eDeclA.ID)
		must(t, err)
		stock := int64(100000)
		checkE := func(name string, f *server.WriteOffFigures, j journal, opening, received int64) {
			t.Helper()
			used := j.normal.Count + j.red.Count
			if f.Normal != j.normal || f.Red != j.red || f.Used != used || f.Net != j.normal.Amount+j.red.Amount ||
				f.Opening.Count != opening || f.Received.Count != received || f.Closing.Count != opening+received-used || len(f.Problems) > 0 {
				t.Fatalf("%s: figures %+v\nwant normal %+v red %+v used %d opening %d received %d", name, f, j.normal, j.red, used, opening, received)
			}
		}
		checkE("e-bills A", eA1.Figures, eA, 0, stock)
		if eA1.Figures.HIS == nil || eA1.Figures.HIS.AfterCut != 1 || eA1.Figures.HIS.Count != eA.normal.Count+eA.red.Count+1 {
			t.Fatalf("e-bills A, the HIS cross-check: %+v", eA1.Figures.HIS)
		}
		pA1, err := s.WriteOff(maker, pDeclA.ID)
		must(t, err)
		checkP := func(name string, f *server.WriteOffFigures, j journal, opening, received int64) {
			t.Helper()
			used := j.printed + j.redPrinted + j.voided + j.blank + j.stored
			if f.Normal.Count != j.printed || f.Red.Count != j.redPrinted || f.Voided.Count != j.voided || f.BlankVoided.Count != j.blank+j.stored ||
				f.StoreVoided != j.stored || f.Used != used || f.Opening.Count != opening || f.Received.Count != received ||
				f.Closing.Count != opening+received-used || len(f.Problems) > 0 {
				t.Fatalf("%s: figures %+v\nwant %+v opening %d received %d", name, f, j, opening, received)
			}
		}
		checkP("paper A", pA1.Figures, pA, 0, 1000)
		if got := pA1.Figures.Voided.RangesText(5); got != "0000000001–0000000002" {
			t.Fatalf("paper A voided ranges: %s", got)
		}

		// Period B: two more station bills, a HIS bill printed on 8, and the
		// reprint of his[2] (printed on 3 in the closed period A) onto 9 —
		// 3's void lands in B as late.
		for i := range 2 {
			st.issue(t, "outpatient.json", "B-"+strconv.Itoa(i))
		}
		pend = st.pending(t)[6:] // the station was not told of the uploads above
		_, err = s.Upload(ctx, "P01", pend)
		must(t, err)
		for _, p := range pend {
			lb, err := s.LedgerBill(ctx, p.BillCode, p.BillNo)
			must(t, err)
			eB.bill(t, lb)
		}
		set := example(t, "outpatient.json")
		set.BusNo, set.PlaceCode = "H-B-0", "H01"
		is, err := s.IssueAt(ctx, "H01", bill.Outpatient, set)
		must(t, err)
		eB.bill(t, is.LedgerBill)
		must(t, s.PrintPaper(ctx, "H01", is.BillCode, billNo(t, is.LedgerBill), paperCode, 8, "林", false))
		must(t, s.PrintPaper(ctx, "H01", his[2].BillCode, billNo(t, his[2]), paperCode, 9, "林", true))
		pB.printed += 2
		time.Sleep(5 * time.Millisecond)
		t2 := time.Now()

		eDeclB, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockEInvoice, Code: outCode, From: t1, To: t2})
		must(t, err)
		usedA := eA.normal.Count + eA.red.Count
		checkE("e-bills B", eDeclB.Figures, eB, stock-usedA, 0)
		if eDeclB.Figures.Late.Count != 1 || eDeclB.Figures.Late.Amount != lateLB.Total {
			t.Fatalf("e-bills B, late: %+v", eDeclB.Figures.Late)
		}
		if !reflect.DeepEqual(eDeclB.Figures.Opening, eA1.Figures.Closing) {
			t.Fatalf("B's opening %+v is not A's closing %+v", eDeclB.Figures.Opening, eA1.Figures.Closing)
		}
		// A is closed: its stored figures did not move.
		eA2, err := s.WriteOff(maker, eDeclA.ID)
		must(t, err)
		a1, _ := json.Marshal(eA1.Figures)
		a2, _ := json.Marshal(eA2.Figures)
		if string(a1) != string(a2) {
			t.Fatalf("a closed declaration changed:\n%s\n%s", a1, a2)
		}

		pDeclB, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockPaper, Code: paperCode, From: t1, To: t2})
		must(t, err)
		checkP("paper B", pDeclB.Figures, pB, 1000-(pA.printed+pA.redPrinted+pA.voided+pA.blank+pA.stored), 0)
		if pDeclB.Figures.LateVoids.Count != 1 || pDeclB.Figures.LateVoids.Ranges[0].Start != 3 {
			t.Fatalf("paper B, late voids: %+v", pDeclB.Figures.LateVoids)
		}

		// A sheet recorded outside the stock: B no longer balances and cannot
		// be sent; once it is gone, it can.
		q := "INSERT INTO paper_usage (paper_code, paper_no, point_code, status, used_at, rec_at, void_rec_at) VALUES (?, 5000, 'H01', 'blank_void', ?, ?, ?)"
		if s.Dialect() == server.Postgres {
			q = "INSERT INTO paper_usage (paper_code, paper_no, point_code, status, used_at, rec_at, void_rec_at) VALUES ($1, 5000, 'H01', 'blank_void', $2, $3, $4)"
		}
		mid := t1.Add(time.Millisecond).UnixMilli()
		_, err = s.DB().Exec(q, paperCode, mid, mid, mid)
		must(t, err)
		w, err := s.RecomputeWriteOff(maker, pDeclB.ID)
		must(t, err)
		if w.Figures.Balanced() || len(w.Figures.Problems) == 0 {
			t.Fatalf("a stray sheet: %+v", w.Figures)
		}
		if _, err := s.SubmitWriteOff(maker, pDeclB.ID); bill.ErrorCode(err) != bill.EConflict || !strings.Contains(bill.ErrorMessage(err), "不符") {
			t.Fatalf("sending an unbalanced declaration: %v", err)
		}
		_, err = s.DB().Exec(strings.Replace("DELETE FROM paper_usage WHERE paper_no = 5000 AND paper_code = ?", "?", map[bool]string{true: "$1", false: "?"}[s.Dialect() == server.Postgres], 1), paperCode)
		must(t, err)
		_, err = s.SubmitWriteOff(maker, pDeclB.ID)
		must(t, err)

		// A billing point's declaration: H01's two periods together equal
		// what the HIS reconciliation service answers for the day.
		var hisUsed int64
		var h01 *server.WriteOff
		for _, p := range [][2]time.Time{{t0, t1}, {t1, t2}} {
			d, err := s.DraftWriteOff(maker, server.WriteOffInput{Kind: server.StockEInvoice, Code: outCode, Point: "H01", From: p[0], To: p[1]})
			must(t, err)
			if len(d.Figures.Problems) > 0 || !d.Figures.Balanced() {
				t.Fatalf("H01's declaration: %+v", d.Figures)
			}
			hisUsed += d.Figures.Used
			h01 = d
		}
		// A bill whose number lies outside its point's segments is found.
		shrink := "UPDATE segments SET end_no = start_no WHERE point_code = 'H01'"
		_, err = s.DB().Exec(shrink)
		must(t, err)
		w, err = s.RecomputeWriteOff(maker, h01.ID)
		must(t, err)
		if !strings.Contains(strings.Join(w.Figures.Problems, ";"), "不在其开票点领用的号段内") {
			t.Fatalf("bills outside their segments: %v", w.Figures.Problems)
		}
		code, msg := hc.call("checkTotalDataByIvcDate", map[string]any{"ivcDate": time.Now().In(bill.Beijing).Format("2006-01-02"), "isReturnList": "0"})
		var ans struct {
			AllTotalNum string `json:"allTotalNum"`
		}
		if code != "S0000" || json.Unmarshal(msg, &ans) != nil || ans.AllTotalNum != strconv.FormatInt(hisUsed, 10) {
			t.Fatalf("checkTotalDataByIvcDate: %s %s; H01 declared %d", code, msg, hisUsed)
		}
	})
}
