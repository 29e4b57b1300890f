package sync_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing/stationprint"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	ebsync "github.com/ebill/ebill/sync"
	"github.com/ebill/ebill/sync/wire"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// world is a real server (SQLite, real HTTP handler over TLS) and a real
// station enrolled with it.
type world struct {
	srv     *server.Store
	api     *httptest.Server
	station *localstore.Store
}

func newWorld(t *testing.T, segmentSize int64) *world {
	t.Helper()
	return newWorldWith(t, segmentSize, nil)
}

// newWorldWith is newWorld with the server's handler wrapped (an older
// server, a faulty proxy).
func newWorldWith(t *testing.T, segmentSize int64, wrap func(http.Handler) http.Handler) *world {
	t.Helper()
	ctx := context.Background()
	srv, err := server.OpenStore(ctx, "", t.TempDir(), server.WithStoreLogger(quiet))
	must(t, err)
	t.Cleanup(func() { srv.Close() })
	must(t, srv.SetUnit(ctx, server.Unit{Name: "厦门市某区医院"}))
	must(t, srv.SetBillKind(ctx, bill.Registration, "35060126"))
	_, err = srv.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 1_000_000})
	must(t, err)
	must(t, srv.AddPoint(ctx, "P01", "挂号窗口", server.PointStation))
	st := wire.DefaultSettings
	st.SegmentSize, st.RefillThreshold = segmentSize, segmentSize/2
	st.Limits = bill.Limits{MaxHours: 72, MaxCount: 100000, MaxAmount: bill.MaxMoney, MaxSingle: bill.MaxMoney}
	must(t, srv.SetPointSettings(ctx, "P01", st))
	// Paper 1–100 distributed to the point, which the station takes in.
	_, err = srv.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 1000})
	must(t, err)
	_, err = srv.DistributePaper(server.WithActor(ctx, server.Actor{Who: "cli:test", System: true}), "P01", "35062601", 1, 100, 0)
	must(t, err)
	code, _, err := srv.EnrollCode(ctx, "P01")
	must(t, err)
	var h http.Handler = api.New(srv, quiet)
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	station, err := localstore.Open(ctx, t.TempDir())
	must(t, err)
	t.Cleanup(func() { station.Close() })
	_, err = ebsync.Enroll(ctx, station, ts.URL, api.Fingerprint(ts.TLS.Certificates[0]), code)
	must(t, err)
	return &world{srv: srv, api: ts, station: station}
}

func (w *world) issue(t *testing.T, n int, prefix string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "registration.json"))
	must(t, err)
	for i := 0; i < n; i++ {
		set, _ := bill.ParseSettlement(raw)
		set.BusNo = bill.Text(fmt.Sprintf("%s-%d", prefix, i))
		_, err := w.station.Issue(context.Background(), bill.Registration, set)
		must(t, err)
	}
}

func TestSyncOnceUploadsAndRefills(t *testing.T) {
	w := newWorld(t, 100)
	ctx := context.Background()
	w.issue(t, 60, "R")
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	r := svc.Once(ctx)
	if r.Err != nil || r.Uploaded != 60 || r.Pending != 0 || len(r.Allocated) != 1 {
		t.Fatalf("first pass: %+v", r)
	}
	held, _ := w.srv.LedgerBills(ctx, server.LedgerFilter{Point: "P01", Limit: 1000})
	if len(held) != 60 {
		t.Fatalf("server holds %d bills", len(held))
	}
	stock, _ := w.station.Stock(ctx)
	if stock[0].Remaining != 140 { // 100 − 60 + a new segment of 100
		t.Fatalf("station stock after refill %+v", stock)
	}
	// A second pass changes nothing and uploads nothing twice.
	r = svc.Once(ctx)
	if r.Err != nil || r.Uploaded != 0 || len(r.Allocated) != 0 {
		t.Fatalf("second pass: %+v", r)
	}
	state, _ := w.station.SyncState(ctx)
	if !state.Online || state.LastSuccess.IsZero() || state.LastError != "" {
		t.Fatalf("sync state %+v", state)
	}
	if st, _ := w.station.Status(ctx); st.Pending != 0 || st.Station.UnsyncedAmount != 0 {
		t.Fatalf("station status %+v", st)
	}
}

func TestSyncOfflineKeepsTheBillsAndSaysSo(t *testing.T) {
	w := newWorld(t, 100)
	ctx := context.Background()
	w.issue(t, 3, "O")
	w.api.Close() // the network is down
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	r := svc.Once(ctx)
	if bill.ErrorCode(r.Err) != bill.EUnavailable || r.Pending != 3 {
		t.Fatalf("offline pass: %+v", r)
	}
	state, _ := w.station.SyncState(ctx)
	if state.Online || !strings.Contains(state.LastError, "无法连接服务器") {
		t.Fatalf("sync state %+v", state)
	}
}

func TestSyncFlagsATamperedBill(t *testing.T) {
	w := newWorld(t, 100)
	ctx := context.Background()
	w.issue(t, 3, "T")
	db, err := sql.Open("sqlite", w.station.Path())
	must(t, err)
	for _, q := range []string{"DROP TRIGGER bills_no_update", "DROP TRIGGER bills_seal_once",
		"UPDATE bills SET content = CAST(REPLACE(CAST(content AS TEXT), '王五', '王六') AS BLOB) WHERE seq = 2"} {
		_, err := db.Exec(q)
		must(t, err)
	}
	db.Close()
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	r := svc.Once(ctx)
	if r.Uploaded != 1 || r.Rejected != 1 || r.Pending != 2 || bill.ErrorCode(r.Err) != bill.EConflict {
		t.Fatalf("pass over a tampered bill: %+v", r)
	}
	held, _ := w.srv.LedgerBills(ctx, server.LedgerFilter{Point: "P01"})
	if len(held) != 1 || held[0].Seq != 1 {
		t.Fatalf("server holds %+v", held)
	}
	st, _ := w.station.Status(ctx)
	if st.Rejected != 1 || !strings.Contains(strings.Join(st.Warnings, ""), "拒收") {
		t.Fatalf("station status %+v", st)
	}
	// Nothing after the refused bill is sent, now or on the next pass.
	r = svc.Once(ctx)
	if r.Uploaded != 0 || r.Pending != 2 {
		t.Fatalf("next pass: %+v", r)
	}
	if held, _ := w.srv.LedgerBills(ctx, server.LedgerFilter{Point: "P01"}); len(held) != 1 {
		t.Fatalf("server accepted bills out of chain order: %d", len(held))
	}
}

func TestRunnerWakesOnRequest(t *testing.T) {
	w := newWorld(t, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	passes := make(chan ebsync.Report, 10)
	r := &ebsync.Runner{Service: svc, Interval: time.Hour, Poll: 20 * time.Millisecond, OnPass: func(rep ebsync.Report) { passes <- rep }}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-passes // the first pass runs at once
	w.issue(t, 2, "W")
	must(t, w.station.RequestSync(ctx))
	select {
	case rep := <-passes:
		if rep.Uploaded != 2 || rep.Err != nil {
			t.Fatalf("woken pass %+v", rep)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sync request did not wake the runner")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("runner did not stop")
	}
}

// TestSyncReportsPaper: what became of the station's paper numbers reaches
// the server after the bills — printed sheets (the verification page then
// names the paper), a reprint, blank voids, a later void — each once; a use
// the server refuses (the number is another point's) is kept with its
// reason and not sent again.
func TestSyncReportsPaper(t *testing.T) {
	w := newWorld(t, 100)
	ctx := context.Background()
	_, err := w.station.IntakePaper(ctx, bill.Segment{Code: "35062601", Start: 1, End: 50})
	must(t, err)
	raw, err := os.ReadFile(filepath.Join("..", "examples", "registration.json"))
	must(t, err)
	var bills []*localstore.StoredBill
	for i := range 3 {
		set, _ := bill.ParseSettlement(raw)
		set.BusNo = bill.Text(fmt.Sprintf("PAPER-%d", i))
		res, err := w.station.Issue(ctx, bill.Registration, set)
		must(t, err)
		bills = append(bills, res.Bill)
	}
	_, err = w.station.ConvertToPaper(ctx, bills[0].BillCode, bills[0].BillNo, "35062601", 1, "林小燕")
	must(t, err)
	_, err = w.station.ConvertToPaper(ctx, bills[1].BillCode, bills[1].BillNo, "35062601", 2, "林小燕")
	must(t, err)
	_, err = w.station.BlankVoid(ctx, "35062601", 3, 4, "卡纸", "林小燕")
	must(t, err)
	_, err = w.station.Reprint(ctx, bills[1].BillCode, bills[1].BillNo, 5, "打印模糊", "林小燕")
	must(t, err)
	if pending, err := w.station.PendingPaper(ctx, 100); err != nil || len(pending) != 2 {
		t.Fatalf("before the bills are on the server only the blank voids may go: %d, %v", len(pending), err)
	}
	paperOf := func(b *localstore.StoredBill) string {
		t.Helper()
		r, err := w.srv.VerifyBill(ctx, bill.VerifyRef{BillCode: b.BillCode, BillNo: b.BillNoText(), CheckCode: b.CheckCode})
		must(t, err)
		if !r.Found {
			t.Fatalf("bill %s not found on the server", b.BillNoText())
		}
		return r.Paper
	}

	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	if r := svc.Once(ctx); r.Err != nil || r.Uploaded != 3 || r.Paper != 5 {
		t.Fatalf("first pass: %+v", r)
	}
	if p0, p1, p2 := paperOf(bills[0]), paperOf(bills[1]), paperOf(bills[2]); p0 != "35062601 0000000001" || p1 != "35062601 0000000005" || p2 != "" {
		t.Fatalf("paper on the server: %q %q %q", p0, p1, p2)
	}
	var rows, voided, blank int
	must(t, w.srv.DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'voided'), COUNT(*) FILTER (WHERE status = 'blank_void')
		FROM paper_usage WHERE point_code = 'P01'`).Scan(&rows, &voided, &blank))
	if rows != 5 || voided != 1 || blank != 2 {
		t.Fatalf("server paper rows: %d, %d voided, %d blank", rows, voided, blank)
	}
	if r := svc.Once(ctx); r.Err != nil || r.Paper != 0 {
		t.Fatalf("a second pass sends nothing again: %+v", r)
	}

	// A later void goes up on its own.
	must(t, w.station.VoidPaper(ctx, "35062601", 1, "患者退回", "林小燕"))
	if r := svc.Once(ctx); r.Err != nil || r.Paper != 1 || paperOf(bills[0]) != "" {
		t.Fatalf("after a void: %+v, paper %q", r, paperOf(bills[0]))
	}

	// Paper number 6 is already another point's on the server: refused, kept, not sent again.
	must(t, w.srv.AddPoint(ctx, "H01", "HIS", server.PointServer))
	_, err = w.srv.DB().ExecContext(ctx, `INSERT INTO paper_usage (paper_code, paper_no, point_code, status, reason, operator, used_at)
		VALUES ('35062601', 6, 'H01', 'blank_void', '测试', '管理员', 0)`)
	must(t, err)
	_, err = w.station.ConvertToPaper(ctx, bills[2].BillCode, bills[2].BillNo, "35062601", 6, "林小燕")
	must(t, err)
	if r := svc.Once(ctx); r.Err == nil || !strings.Contains(bill.ErrorMessage(r.Err), "已由开票点 H01 使用") || r.Paper != 0 {
		t.Fatalf("a paper number of another point: %+v", r)
	}
	if r := svc.Once(ctx); r.Err != nil || r.Paper != 0 {
		t.Fatalf("the refused use is not sent again: %+v", r)
	}
	if st, err := w.station.Status(ctx); err != nil || st.PaperRefused != 1 || !strings.Contains(strings.Join(st.Warnings, ";"), "已由开票点 H01 使用") {
		t.Fatalf("the station's status: %+v, %v", st, err)
	}
}

// TestSyncWithAServerWithoutPaperReports: a station newer than its server
// (no paper API yet) uploads, pulls and refills as before; its paper
// reports wait for the server's upgrade.
func TestSyncWithAServerWithoutPaperReports(t *testing.T) {
	w := newWorldWith(t, 10, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == wire.PathPaper {
				http.NotFound(rw, r)
				return
			}
			h.ServeHTTP(rw, r)
		})
	})
	ctx := context.Background()
	_, err := w.station.IntakePaper(ctx, bill.Segment{Code: "35062601", Start: 1, End: 50})
	must(t, err)
	w.issue(t, 8, "OLD")
	list, _, err := w.station.ListBills(ctx, localstore.Filter{Limit: 1})
	must(t, err)
	_, err = w.station.ConvertToPaper(ctx, list[0].BillCode, list[0].BillNo, "35062601", 1, "林小燕")
	must(t, err)
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	if r := svc.Once(ctx); r.Err != nil || r.Uploaded != 8 || r.Paper != 0 || len(r.Allocated) != 1 {
		t.Fatalf("pass against an older server: %+v", r)
	}
	if pending, err := w.station.PendingPaper(ctx, 10); err != nil || len(pending) != 1 {
		t.Fatalf("the paper report waits: %d, %v", len(pending), err)
	}
}

// TestDeskSettingsReachTheStation: the point's default pay channel and
// checker come down at enrollment and with every pull.
func TestDeskSettingsReachTheStation(t *testing.T) {
	w := newWorld(t, 100)
	ctx := context.Background()
	if d, _ := w.station.DeskSettings(ctx); d.DefaultPayChannel != "02" || d.Checker != "" {
		t.Fatalf("unset: %+v, want cash and no checker", d)
	}
	p, err := w.srv.Point(ctx, "P01")
	must(t, err)
	st := p.Settings
	st.DefaultPayChannel, st.Checker = "05", "陈建国"
	must(t, w.srv.SetPointSettings(ctx, "P01", st))
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	if r := svc.Once(ctx); r.Err != nil {
		t.Fatal(r.Err)
	}
	if d, _ := w.station.DeskSettings(ctx); d.DefaultPayChannel != "05" || d.Checker != "陈建国" {
		t.Fatalf("after a pull: %+v", d)
	}
}

// TestUnitSealReachesTheStation: the hospital's seal image set at the
// server comes down with master data (once), is printed from the
// station's bill information, and its removal comes down too.
func TestUnitSealReachesTheStation(t *testing.T) {
	w := newWorld(t, 100)
	ctx := context.Background()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	img.Set(5, 5, color.RGBA{R: 0xd0, A: 0xff})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	if err := w.srv.SetUnit(ctx, server.Unit{Name: "厦门市某区医院", CreditCode: "", Seal: []byte("not a png")}); err == nil {
		t.Fatal("a seal that is not a PNG was accepted")
	}
	must(t, w.srv.SetUnit(ctx, server.Unit{Name: "厦门市某区医院", Seal: buf.Bytes()}))
	svc, err := ebsync.NewService(ctx, w.station, quiet, "test")
	must(t, err)
	if r := svc.Once(ctx); r.Err != nil {
		t.Fatal(r.Err)
	}
	if seal, _ := w.station.UnitSeal(ctx); !bytes.Equal(seal, buf.Bytes()) {
		t.Fatalf("station seal: %d bytes", len(seal))
	}
	w.issue(t, 1, "S")
	list, _, _ := w.station.ListBills(ctx, localstore.Filter{Limit: 1})
	info, err := stationprint.BillInfo(ctx, w.station, list[0])
	if err != nil || !bytes.Equal(info.Seal, buf.Bytes()) {
		t.Fatalf("bill information's seal: %d bytes, %v", len(info.Seal), err)
	}
	must(t, w.srv.SetUnit(ctx, server.Unit{Name: "厦门市某区医院", ClearSeal: true}))
	if r := svc.Once(ctx); r.Err != nil {
		t.Fatal(r.Err)
	}
	if seal, _ := w.station.UnitSeal(ctx); seal != nil {
		t.Fatalf("the removed seal is still at the station: %d bytes", len(seal))
	}
}
