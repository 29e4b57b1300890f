package sync_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
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
	code, _, err := srv.EnrollCode(ctx, "P01")
	must(t, err)
	api := httptest.NewTLSServer(server.NewAPI(srv, quiet))
	t.Cleanup(api.Close)
	station, err := localstore.Open(ctx, t.TempDir())
	must(t, err)
	t.Cleanup(func() { station.Close() })
	_, err = ebsync.Enroll(ctx, station, api.URL, server.Fingerprint(api.TLS.Certificates[0]), code)
	must(t, err)
	return &world{srv: srv, api: api, station: station}
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
	for _, q := range []string{"DROP TRIGGER bills_no_update",
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
