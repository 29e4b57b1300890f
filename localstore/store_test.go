package localstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
)

// testClock is a settable clock for offline-limit tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newDemoStore opens a station in a temporary directory with demo stock.
func newDemoStore(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Init(ctx, InitParams{PlaceCode: "P01", PlaceName: "门诊收费一号窗口", UnitName: "厦门市某区医院",
		UnitCreditCode: "123502004266001233"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetupDemo(ctx, 2026); err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func example(t testing.TB, name string) *bill.Settlement {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := bill.ParseSettlement(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustIssue(t *testing.T, s *Store, k bill.Kind, set *bill.Settlement) *StoredBill {
	t.Helper()
	res, err := s.Issue(context.Background(), k, set)
	if err != nil {
		t.Fatalf("issue %s: %v", set.BusNo, err)
	}
	return res.Bill
}

// counts returns rows in bills and outbox, and next_no of the outpatient segment.
func counts(t *testing.T, s *Store) (bills, outbox, next int64) {
	t.Helper()
	q := func(query string) int64 {
		var n int64
		if err := s.read.QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return q("SELECT COUNT(*) FROM bills"), q("SELECT COUNT(*) FROM outbox"),
		q("SELECT COALESCE(MAX(bill_no), 0) + 1 FROM bills WHERE bill_code = '35060126'")
}

func TestIssueStoresTheSettlement(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	res, err := s.Issue(ctx, bill.Outpatient, example(t, "outpatient.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := res.Bill
	if b.BillCode != "35060126" || b.BillNoText() != "0000000001" || len(b.CheckCode) != 6 || res.Duplicate {
		t.Fatalf("issued %+v", b)
	}
	got, err := s.Bill(ctx, "35060126", 1)
	if err != nil {
		t.Fatal(err)
	}
	set := got.Bill.Settlement
	if got.Total != 12345 || got.Payer != "张三" || got.BusNo != "MZ202611250001" || got.PatientNo != "2026112500000001234" ||
		set.ListDetail[2].Amt != 109992 || set.PayChannelDetail[1].Value != 4345 || got.Bill.Seq != 1 ||
		got.Bill.PrevHash != bill.GenesisHash || got.Bill.UnitName != "厦门市某区医院" || got.State() != "正常" || got.Synced {
		t.Fatalf("stored %+v / %+v", got, got.Bill)
	}
	st, _ := s.Station(ctx)
	if st.ChainSeq != 1 || st.UnsyncedCount != 1 || st.UnsyncedAmount != 12345 {
		t.Fatalf("station %+v", st)
	}
	// The second bill links to the first.
	second := mustIssue(t, s, bill.Inpatient, example(t, "inpatient.json"))
	full, _ := s.Bill(ctx, second.BillCode, second.BillNo)
	if second.BillCode != "35060226" || second.BillNo != 1 || full.Bill.Seq != 2 || full.Bill.PrevHash == bill.GenesisHash {
		t.Fatalf("second bill %+v", full.Bill)
	}
}

func TestIssueIdempotentOnBusNo(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	first := mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	again, err := s.Issue(ctx, bill.Outpatient, example(t, "outpatient.json"))
	if err != nil || !again.Duplicate || again.Bill.ID != first.ID || again.Bill.CheckCode != first.CheckCode {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	other := example(t, "outpatient.json")
	other.Remark = "改了备注"
	_, err = s.Issue(ctx, bill.Outpatient, other)
	if bill.ErrorCode(err) != bill.EConflict || !strings.Contains(err.Error(), "MZ202611250001") {
		t.Fatalf("same BusNo, other content: %v", err)
	}
	// Same content as another kind is other content too.
	if _, err := s.Issue(ctx, bill.Registration, example(t, "outpatient.json")); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("same BusNo, other kind: %v", err)
	}
	if nb, no, next := counts(t, s); nb != 1 || no != 1 || next != 2 {
		t.Fatalf("after retries: bills=%d outbox=%d next=%d", nb, no, next)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	before, _ := s.Station(ctx)
	bad := []func(*bill.Settlement){
		func(x *bill.Settlement) { x.TotalAmt++ },
		func(x *bill.Settlement) { x.Payer = "" },
		func(x *bill.Settlement) { x.PlaceCode = "P02" },
		func(x *bill.Settlement) { x.Payer = "张\ufffd" }, // a GBK conversion's damage
		// (a resident ID with a wrong check digit is not bad input: it is
		// issued as typed, with a warning — TestResidentIDWarns)
	}
	for i, edit := range bad {
		set := example(t, "registration.json")
		edit(set)
		if _, err := s.Issue(ctx, bill.Registration, set); bill.ErrorCode(err) != bill.EInvalid {
			t.Errorf("case %d: %v", i, err)
		}
	}
	after, _ := s.Station(ctx)
	if nb, no, next := counts(t, s); nb != 1 || no != 1 || next != 2 || *after != *before {
		t.Fatalf("bad input changed state: bills=%d outbox=%d next=%d", nb, no, next)
	}
}

func TestNumbersRunOutAndRefill(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Init(ctx, InitParams{PlaceCode: "P01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Issue(ctx, bill.Registration, example(t, "registration.json")); bill.ErrorCode(err) != bill.ENoStock {
		t.Fatalf("no bill kind configured: %v", err)
	}
	s.SetBillKind(ctx, bill.Registration, "35060126")
	if _, err := s.AddSegment(ctx, bill.Segment{Code: "35060126", Start: 101, End: 102}, SourceServer); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{101, 102} {
		set := example(t, "registration.json")
		set.BusNo = bill.Text("GH-" + itoa(int64(i)))
		if b := mustIssue(t, s, bill.Registration, set); b.BillNo != want {
			t.Fatalf("bill %d got number %d", i, b.BillNo)
		}
	}
	set := example(t, "registration.json")
	set.BusNo = "GH-3"
	_, err = s.Issue(ctx, bill.Registration, set)
	if bill.ErrorCode(err) != bill.ENoStock || !strings.Contains(err.Error(), "号段已用完") {
		t.Fatalf("out of numbers: %v", err)
	}
	// Overlapping segments are refused; the same segment again is a no-op.
	if _, err := s.AddSegment(ctx, bill.Segment{Code: "35060126", Start: 50, End: 101}, SourceServer); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("overlap: %v", err)
	}
	if _, err := s.AddSegment(ctx, bill.Segment{Code: "35060126", Start: 101, End: 102}, SourceServer); err != nil {
		t.Fatalf("same segment again: %v", err)
	}
	s.AddSegment(ctx, bill.Segment{Code: "35060126", Start: 500, End: 599}, SourceServer)
	if b := mustIssue(t, s, bill.Registration, set); b.BillNo != 500 {
		t.Fatalf("after refill got %d", b.BillNo)
	}
	stock, _ := s.Stock(ctx)
	if len(stock) != 1 || stock[0].Total != 102 || stock[0].Used != 3 || stock[0].Remaining != 99 || !stock[0].Alert || stock[0].Next != 501 {
		t.Fatalf("stock %+v", stock)
	}
	var full int
	s.read.QueryRow("SELECT COUNT(*) FROM segments WHERE full = 1").Scan(&full)
	if full != 1 {
		t.Fatalf("%d segments marked full, want the used-up 101–102", full)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestOfflineLimits(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	s, _ := newDemoStore(t, WithClock(clock.now))
	ctx := context.Background()
	if err := s.SetLimits(ctx, bill.Limits{MaxHours: 24, MaxCount: 5, MaxAmount: 1_000_000, MaxSingle: 500_000}, "server"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var warned bool
	for i := 0; i < 5; i++ {
		set := example(t, "registration.json")
		set.BusNo = bill.Text("GH-" + itoa(int64(i)))
		res, err := s.Issue(ctx, bill.Registration, set)
		if err != nil {
			t.Fatalf("bill %d: %v", i, err)
		}
		ids = append(ids, res.Bill.ID)
		warned = warned || len(res.Warnings) > 0
	}
	if !warned {
		t.Fatal("no warning at 80% of the count limit")
	}
	next := example(t, "registration.json")
	next.BusNo = "GH-next"
	if _, err := s.Issue(ctx, bill.Registration, next); bill.ErrorCode(err) != bill.ELimit || !strings.Contains(err.Error(), "联网") {
		t.Fatalf("count limit: %v", err)
	}
	// Uploading unlocks issuing.
	if n, err := s.MarkSynced(ctx, ids); n != 5 || err != nil {
		t.Fatalf("MarkSynced: %d, %v", n, err)
	}
	if n, _ := s.MarkSynced(ctx, ids); n != 0 {
		t.Fatalf("replayed ack marked %d", n)
	}
	mustIssue(t, s, bill.Registration, next)
	// Time since the oldest unsynced bill.
	clock.add(25 * time.Hour)
	late := example(t, "registration.json")
	late.BusNo = "GH-late"
	if _, err := s.Issue(ctx, bill.Registration, late); bill.ErrorCode(err) != bill.ELimit || !strings.Contains(err.Error(), "小时") {
		t.Fatalf("hours limit: %v", err)
	}
	// Single-bill amount.
	big := example(t, "unit-payer.json") // 25,200.00 > 5,000.00
	if _, err := s.Issue(ctx, bill.Exam, big); bill.ErrorCode(err) != bill.ELimit || !strings.Contains(err.Error(), "单张") {
		t.Fatalf("single limit: %v", err)
	}
	st, _ := s.Status(ctx)
	if st.Pending != 1 || len(st.Warnings) == 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestReverse(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	orig := mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	pos, _ := s.CurrentPaper(ctx, DemoPaperCode)
	if _, err := s.ConvertToPaper(ctx, orig.BillCode, orig.BillNo, DemoPaperCode, pos.Next, "林小燕"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reverse(ctx, orig.BillCode, orig.BillNo, " ", "林小燕"); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("no reason: %v", err)
	}
	res, err := s.Reverse(ctx, orig.BillCode, orig.BillNo, "患者退费", "陈建国")
	if err != nil {
		t.Fatal(err)
	}
	red, _ := s.Bill(ctx, res.Bill.BillCode, res.Bill.BillNo)
	if red.Total != -12345 || red.BillCode != orig.BillCode || red.BillNo != 2 || red.RedOf != orig.ID || red.State() != "红字" ||
		red.Bill.Red.Reason != "患者退费" || red.Bill.Settlement.ChargeDetail[2].Amt != -6845 || red.Payee != "陈建国" || red.BusNo != "" {
		t.Fatalf("red bill %+v", red)
	}
	o, _ := s.Bill(ctx, orig.BillCode, orig.BillNo)
	if o.State() != "已冲红" || o.PaperCode != "" {
		t.Fatalf("original after reversal %+v", o)
	}
	use, _ := s.PaperUsage(ctx, DemoPaperCode, pos.Next)
	if use.Status != PaperVoided || !strings.Contains(use.Reason, "患者退费") {
		t.Fatalf("paper after reversal %+v", use)
	}
	_, err = s.Reverse(ctx, orig.BillCode, orig.BillNo, "再来一次", "陈建国")
	if bill.ErrorCode(err) != bill.EAlreadyReversed || !strings.Contains(err.Error(), "已冲销") {
		t.Fatalf("second reversal: %v", err)
	}
	if _, err := s.Reverse(ctx, red.BillCode, red.BillNo, "x", ""); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("reversing a red bill: %v", err)
	}
	if _, err := s.Reverse(ctx, "35060126", 999, "x", ""); bill.ErrorCode(err) != bill.ENotFound {
		t.Fatalf("unknown bill: %v", err)
	}
	if nb, _, next := counts(t, s); nb != 2 || next != 3 {
		t.Fatalf("bills=%d next=%d", nb, next)
	}
	st, _ := s.Station(ctx)
	if st.UnsyncedAmount != 24690 {
		t.Fatalf("unsynced amount %s, want absolute sum 246.90", st.UnsyncedAmount)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() || rep.Bills != 2 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestPaper(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	if _, err := s.IntakePaper(ctx, bill.Segment{Code: DemoPaperCode, Start: 900, End: 1100}); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("overlapping paper intake: %v", err)
	}
	a := mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	b := mustIssue(t, s, bill.Registration, example(t, "registration.json"))
	pos, err := s.CurrentPaper(ctx, "")
	if err != nil || pos.Next != 1 || pos.Remaining != DemoPaperSize {
		t.Fatalf("current paper %+v %v", pos, err)
	}
	// The confirmed number must be the one in the printer.
	if _, err := s.ConvertToPaper(ctx, a.BillCode, a.BillNo, DemoPaperCode, 3, "林小燕"); bill.ErrorCode(err) != bill.EConflict || !strings.Contains(err.Error(), "空白作废") {
		t.Fatalf("wrong paper number: %v", err)
	}
	if _, err := s.ConvertToPaper(ctx, a.BillCode, a.BillNo, DemoPaperCode, 1, "林小燕"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConvertToPaper(ctx, a.BillCode, a.BillNo, DemoPaperCode, 2, "林小燕"); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("second live paper: %v", err)
	}
	// Reprint: paper 1 voided, paper 2 printed.
	if _, err := s.Reprint(ctx, a.BillCode, a.BillNo, 2, "", "林小燕"); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("reprint without reason: %v", err)
	}
	use, err := s.Reprint(ctx, a.BillCode, a.BillNo, 2, "卡纸", "林小燕")
	if err != nil || use.No != 2 {
		t.Fatalf("reprint %+v %v", use, err)
	}
	if u, _ := s.PaperUsage(ctx, DemoPaperCode, 1); u.Status != PaperVoided || u.Reason != "作废重打：卡纸" || u.BillNo != a.BillNo {
		t.Fatalf("paper 1 %+v", u)
	}
	// Blank-void 3..5 to catch up with the printer, then print b on 6.
	if _, err := s.BlankVoid(ctx, DemoPaperCode, 2, 4, "跳号", "林小燕"); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("blank-void of a used number: %v", err)
	}
	if _, err := s.BlankVoid(ctx, DemoPaperCode, 995, 1005, "x", "林小燕"); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("blank-void beyond stock: %v", err)
	}
	if n, err := s.BlankVoid(ctx, DemoPaperCode, 3, 5, "打印机走纸", "林小燕"); n != 3 || err != nil {
		t.Fatalf("blank-void: %d %v", n, err)
	}
	if pos, _ := s.CurrentPaper(ctx, DemoPaperCode); pos.Next != 6 || pos.Remaining != DemoPaperSize-5 {
		t.Fatalf("after blank-void %+v", pos)
	}
	// Blank numbers ahead are skipped too.
	s.BlankVoid(ctx, DemoPaperCode, 7, 7, "破损", "林小燕")
	if _, err := s.ConvertToPaper(ctx, b.BillCode, b.BillNo, DemoPaperCode, 6, "林小燕"); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s.CurrentPaper(ctx, DemoPaperCode); pos.Next != 8 {
		t.Fatalf("blank 7 not skipped: %+v", pos)
	}
	// Voiding a paper leaves the e-bill convertible again.
	if err := s.VoidPaper(ctx, DemoPaperCode, 6, "患者要求", "林小燕"); err != nil {
		t.Fatal(err)
	}
	if err := s.VoidPaper(ctx, DemoPaperCode, 6, "再次", "林小燕"); bill.ErrorCode(err) != bill.ENotFound {
		t.Fatalf("double void: %v", err)
	}
	if got, _ := s.Bill(ctx, b.BillCode, b.BillNo); got.PaperCode != "" {
		t.Fatalf("voided paper still live: %+v", got)
	}
	list, total, _ := s.ListBills(ctx, Filter{State: "paper"})
	if total != 1 || list[0].ID != a.ID || list[0].PaperNo != 2 {
		t.Fatalf("paper list %d %+v", total, list)
	}
}

func TestListBills(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	for _, f := range []struct {
		k    bill.Kind
		file string
	}{{bill.Outpatient, "outpatient.json"}, {bill.Inpatient, "inpatient.json"}, {bill.Registration, "registration.json"}, {bill.Exam, "exam.json"}, {bill.Exam, "unit-payer.json"}} {
		mustIssue(t, s, f.k, example(t, f.file))
	}
	s.Reverse(ctx, "35060126", 1, "退费", "")
	tests := []struct {
		f    Filter
		want int
	}{
		{Filter{}, 6},
		{Filter{Kind: bill.Exam}, 2},
		{Filter{Payer: "海湾"}, 1},
		{Filter{Payer: "%"}, 0},
		{Filter{BusNo: "ZY202611250001"}, 1},
		{Filter{PatientNo: "2026112500000001234"}, 2},
		{Filter{State: "red"}, 1},
		{Filter{State: "reversed"}, 1},
		{Filter{State: "normal"}, 4},
		{Filter{BillCode: "35060226"}, 1},
		{Filter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, 6},
		{Filter{To: time.Now().Add(-time.Hour)}, 0},
	}
	for i, tt := range tests {
		_, total, err := s.ListBills(ctx, tt.f)
		if err != nil || total != tt.want {
			t.Errorf("case %d %+v: %d, %v; want %d", i, tt.f, total, err, tt.want)
		}
	}
	page, total, _ := s.ListBills(ctx, Filter{Limit: 2, Offset: 2})
	if total != 6 || len(page) != 2 || page[0].Seq != 4 {
		t.Fatalf("paging: %d %+v", total, page)
	}
	if _, _, err := s.ListBills(ctx, Filter{State: "weird"}); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatal("unknown state accepted")
	}
	if b, err := s.BillByBusNo(ctx, "TJ202611250100"); err != nil || b.Payer != "厦门海湾科技有限公司" {
		t.Fatalf("by BusNo %+v %v", b, err)
	}
	if out, _ := s.Outbox(ctx, 0); len(out) != 6 || out[0].Seq != 1 {
		t.Fatalf("outbox %+v", out)
	}
}

func TestInitTwiceRefused(t *testing.T) {
	s, _ := newDemoStore(t)
	if _, err := s.Init(context.Background(), InitParams{PlaceCode: "P02"}); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("second init: %v", err)
	}
}

func TestIssuedBillsAreImmutable(t *testing.T) {
	s, _ := newDemoStore(t)
	mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	for _, q := range []string{"UPDATE bills SET total = 1", "DELETE FROM bills"} {
		err := s.tx(context.Background(), func(tx *wtx) error { _, err := tx.Exec(q); return err })
		if err == nil {
			t.Fatalf("%s succeeded", q)
		}
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	mustIssue(t, s, bill.Outpatient, example(t, "outpatient.json"))
	mustIssue(t, s, bill.Inpatient, example(t, "inpatient.json"))
	dst := filepath.Join(t.TempDir(), "backup", FileName)
	if err := s.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, dst); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("overwriting a backup: %v", err)
	}
	// The copy holds no ID or phone number in clear; without the data key
	// it does not open, rather than open with a new key that opens nothing.
	if _, err := Open(ctx, filepath.Dir(dst)); bill.ErrorCode(err) != bill.ETampered {
		t.Fatalf("backup opened without its data key: %v", err)
	}
	key, err := os.ReadFile(filepath.Join(filepath.Dir(s.Path()), DataKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	keyCopy := filepath.Join(filepath.Dir(dst), DataKeyFile)
	if err := os.MkdirAll(filepath.Dir(keyCopy), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyCopy, key, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, filepath.Dir(dst))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rep, err := b.Verify(ctx)
	if err != nil || !rep.OK() || rep.Bills != 2 {
		t.Fatalf("backup verify: %+v %v", rep, err)
	}
}

func TestStatusTimeLeft(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	s, _ := newDemoStore(t, WithClock(clock.now))
	ctx := context.Background()
	mustIssue(t, s, bill.Registration, example(t, "registration.json"))
	clock.add(10 * time.Hour)
	st, err := s.Status(ctx)
	if err != nil || st.TimeLeft != 62*time.Hour {
		t.Fatalf("time left %v, want 62h (72h limit, oldest 10h ago): %v", st.TimeLeft, err)
	}
}

func TestIssueLeavesTheCallersSettlementAlone(t *testing.T) {
	s, _ := newDemoStore(t)
	set := example(t, "outpatient.json")
	set.ChargeDetail[0].ChargeName = " 诊察费 "
	mustIssue(t, s, bill.Outpatient, set)
	if set.ChargeDetail[0].ChargeName != " 诊察费 " || set.PlaceCode != "P01" && set.PlaceCode != "" {
		t.Fatalf("Issue changed its input: %q", set.ChargeDetail[0].ChargeName)
	}
	got, _ := s.Bill(context.Background(), "35060126", 1)
	if got.Bill.Settlement.ChargeDetail[0].ChargeName != "诊察费" {
		t.Fatalf("stored name %q, want it trimmed", got.Bill.Settlement.ChargeDetail[0].ChargeName)
	}
}

// TestPaperIntakeDistributed: once the server has sent the paper
// distributed to this point, only those numbers can be taken in; a new
// list replaces the last.
func TestPaperIntakeDistributed(t *testing.T) {
	s, _ := newDemoStore(t)
	ctx := context.Background()
	// No list yet (a demo, or an older server): any range.
	if _, err := s.IntakePaper(ctx, bill.Segment{Code: "35062602", Start: 1, End: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyMasterData(ctx, MasterData{Version: 5, PaperSent: true,
		Paper: []bill.Segment{{Code: "35062602", Start: 101, End: 200}}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []bill.Segment{{Code: "35062602", Start: 150, End: 250}, {Code: "35062603", Start: 101, End: 200}} {
		_, err := s.IntakePaper(ctx, r)
		if bill.ErrorCode(err) != bill.EForbidden || !strings.Contains(bill.ErrorMessage(err), "35062602 0000000101–0000000200") {
			t.Fatalf("intake of %s: %v", r, err)
		}
	}
	if _, err := s.IntakePaper(ctx, bill.Segment{Code: "35062602", Start: 101, End: 150}); err != nil {
		t.Fatalf("a distributed range: %v", err)
	}
	// An empty list: nothing more can be taken in.
	if err := s.ApplyMasterData(ctx, MasterData{Version: 6, PaperSent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IntakePaper(ctx, bill.Segment{Code: "35062602", Start: 151, End: 200}); bill.ErrorCode(err) != bill.EForbidden {
		t.Fatalf("after the list emptied: %v", err)
	}
	list, known, err := s.DistributedPaper(ctx)
	if err != nil || !known || len(list) != 0 {
		t.Fatalf("distributed: %v %v %v", list, known, err)
	}
}
