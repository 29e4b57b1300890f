package main

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
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	ebsync "github.com/ebill/ebill/sync"
	"github.com/ebill/ebill/sync/wire"
)

// benchUpload issues n bills into a station file, then uploads them through
// the real HTTP API and client into a server on SQLite (and PostgreSQL when
// pgDSN is set), beside a baseline in the same run: a raw insert of the
// same rows in batches of the same size into the same database.
func benchUpload(n int, dir, raw string, pgDSN string) error {
	ctx := context.Background()
	key, err := bill.GenerateKey()
	if err != nil {
		return err
	}
	fmt.Printf("ebill bench: upload of %d signed bills from a station file into the server (HTTP API, batches of %d)\n", n, wire.MaxBatch)
	t0 := time.Now()
	station, err := issueStation(ctx, filepath.Join(dir, "upload-station"), key, raw, n)
	if err != nil {
		return err
	}
	defer station.Close()
	fmt.Printf("station file with %d bills made in %.1f s\n\n", n, time.Since(t0).Seconds())
	fmt.Printf("%-10s %-34s %10s %10s\n", "database", "case", "seconds", "bills/s")
	targets := []struct{ name, dsn string }{{"sqlite", ""}}
	if pgDSN != "" {
		targets = append(targets, struct{ name, dsn string }{"postgres", pgDSN})
	}
	for _, tg := range targets {
		if err := uploadCase(ctx, tg.name, tg.dsn, filepath.Join(dir, "upload-"+tg.name), station, key); err != nil {
			return err
		}
	}
	return nil
}

// uploadCase measures the baseline and the upload on one database.
func uploadCase(ctx context.Context, name, dsn, dir string, station *localstore.Store, key *bill.PrivateKey) error {
	dsn, cleanup, err := freshSchema(dsn)
	if err != nil {
		return err
	}
	defer cleanup()
	store, err := server.OpenStore(ctx, dsn, dir, server.WithStoreLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := enrollBench(ctx, store, key); err != nil {
		return err
	}
	pending, err := station.PendingBills(ctx, 1<<30)
	if err != nil {
		return err
	}
	base, err := baselineInsert(ctx, store, pending)
	if err != nil {
		return err
	}
	ts := httptest.NewTLSServer(api.New(store, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer ts.Close()
	client, err := ebsync.NewClient(ts.URL, api.Fingerprint(ts.TLS.Certificates[0]), key, "P01")
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < len(pending); i += wire.MaxBatch {
		batch := toWire(pending[i:min(i+wire.MaxBatch, len(pending))])
		res, err := client.Upload(ctx, batch)
		if err != nil {
			return err
		}
		for _, a := range res.Acks {
			if a.Status != wire.AckStored {
				return fmt.Errorf("bill %d: %s %s", a.Seq, a.Status, a.Message)
			}
		}
	}
	up := time.Since(start)
	held, err := store.LedgerBills(ctx, server.LedgerFilter{Point: "P01", Limit: 1})
	if err != nil || len(held) != 1 || held[0].Seq != int64(len(pending)) {
		return fmt.Errorf("after upload the ledger's last bill is %+v (%v)", held, err)
	}
	n := float64(len(pending))
	fmt.Printf("%-10s %-34s %10.2f %10.0f\n", name, "raw batched insert (baseline)", base.Seconds(), n/base.Seconds())
	fmt.Printf("%-10s %-34s %10.2f %10.0f\n", name, "upload: verify + store", up.Seconds(), n/up.Seconds())
	ratio := base.Seconds() / up.Seconds()
	fmt.Printf("%-10s ratio %.3f (target ≥ 0.25: %s)   time %.1f s (target ≤ 20 s: %s)\n", name, ratio, pass(ratio >= 0.25),
		up.Seconds(), pass(up <= 20*time.Second))
	catchUp, err := catchUpCase(ctx, name, dsn, dir, station, key)
	if err != nil {
		return err
	}
	fmt.Printf("%-10s %-34s %10.2f %10.0f   (vs baseline: %.2f)\n\n", name, "catch-up: sync service to empty outbox",
		catchUp.Seconds(), n/catchUp.Seconds(), base.Seconds()/catchUp.Seconds())
	return nil
}

// catchUpCase runs the real sync service (its runner, as `ebill sync run`
// does) against a fresh server until the station's outbox is empty.
func catchUpCase(ctx context.Context, name, dsn, dir string, station *localstore.Store, key *bill.PrivateKey) (time.Duration, error) {
	dsn, cleanup, err := freshSchema(dsn)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	store, err := server.OpenStore(ctx, dsn, dir+"-catchup", server.WithStoreLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return 0, err
	}
	defer store.Close()
	if err := enrollBench(ctx, store, key); err != nil {
		return 0, err
	}
	ts := httptest.NewServer(api.New(store, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer ts.Close()
	// A copy of the station file, so that each database starts from the same full outbox.
	copyDir := dir + "-station"
	if err := station.Backup(ctx, filepath.Join(copyDir, localstore.FileName)); err != nil {
		return 0, err
	}
	st, err := localstore.Open(ctx, copyDir)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.SetServer(ctx, ts.URL, ""); err != nil {
		return 0, err
	}
	svc, err := ebsync.NewService(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)), "bench")
	if err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan time.Duration, 1)
	start := time.Now()
	var lastErr error
	r := &ebsync.Runner{Service: svc, Interval: 50 * time.Millisecond, OnPass: func(rep ebsync.Report) {
		lastErr = rep.Err
		if rep.Pending == 0 && rep.Err == nil {
			select {
			case done <- time.Since(start):
			default:
			}
			cancel()
		}
	}}
	go r.Run(runCtx)
	select {
	case d := <-done:
		return d, nil
	case <-time.After(5 * time.Minute):
		return 0, fmt.Errorf("%s: catch-up did not finish in 5 minutes (last error: %v)", name, lastErr)
	}
}

func issueStation(ctx context.Context, dir string, key *bill.PrivateKey, raw string, n int) (*localstore.Store, error) {
	s, err := localstore.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	// The segment the server allocates at enrollment (enrollBench: one segment of 1,000,000).
	seg := bill.Segment{Code: "35060126", Start: 1, End: 1_000_000}
	_, err = s.Init(ctx, localstore.InitParams{PlaceCode: "P01", UnitName: "基准测试医院", Key: key, Enrollment: &localstore.Enrollment{
		BillKinds: map[bill.Kind]string{bill.Outpatient: seg.Code}, Segments: []bill.Segment{seg}}})
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		set, err := bill.ParseSettlement([]byte(raw))
		if err != nil {
			return nil, err
		}
		set.BusNo = bill.Text(fmt.Sprintf("U%08d", i))
		if _, err := s.Issue(ctx, bill.Outpatient, set); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// enrollBench sets the server up so that the station's numbers are P01's.
func enrollBench(ctx context.Context, s *server.Store, key *bill.PrivateKey) error {
	if err := s.SetUnit(ctx, server.Unit{Name: "基准测试医院"}); err != nil {
		return err
	}
	if err := s.SetBillKind(ctx, bill.Outpatient, "35060126"); err != nil {
		return err
	}
	if _, err := s.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 10_000_000}); err != nil {
		return err
	}
	if err := s.AddPoint(ctx, "P01", "基准测试窗口", server.PointStation); err != nil {
		return err
	}
	st := wire.DefaultSettings
	st.SegmentSize = 1_000_000
	if err := s.SetPointSettings(ctx, "P01", st); err != nil {
		return err
	}
	code, _, err := s.EnrollCode(ctx, "P01")
	if err != nil {
		return err
	}
	pub, _ := key.Public().PEM()
	proof, _ := key.Sign([]byte(code))
	_, err = s.Enroll(ctx, wire.EnrollRequest{Code: code, PublicKey: pub, Proof: proof})
	return err
}

func toWire(ps []localstore.PendingBill) []wire.Bill {
	out := make([]wire.Bill, len(ps))
	for i, p := range ps {
		out[i] = wire.Bill{ID: p.ID, Seq: p.Seq, BillCode: p.BillCode, BillNo: p.BillNo, CheckCode: p.CheckCode,
			Content: p.Content, Hash: p.Hash, Signature: p.Signature}
	}
	return out
}

// baselineInsert inserts the same rows into a plain table of the same
// columns, 500 per transaction: the cost of storing without verifying.
func baselineInsert(ctx context.Context, s *server.Store, ps []localstore.PendingBill) (time.Duration, error) {
	db, dialect := s.DB(), s.Dialect()
	blob := "BLOB"
	if dialect == server.Postgres {
		blob = "BYTEA"
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE baseline (id TEXT PRIMARY KEY, seq BIGINT NOT NULL,
		bill_code TEXT NOT NULL, bill_no BIGINT NOT NULL, check_code TEXT NOT NULL, content %s NOT NULL, hash TEXT NOT NULL,
		signature %s NOT NULL, UNIQUE (bill_code, bill_no))`, blob, blob)); err != nil {
		return 0, err
	}
	q := "INSERT INTO baseline VALUES (?,?,?,?,?,?,?,?)"
	if dialect == server.Postgres {
		q = "INSERT INTO baseline VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
	}
	start := time.Now()
	for i := 0; i < len(ps); i += wire.MaxBatch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		for _, p := range ps[i:min(i+wire.MaxBatch, len(ps))] {
			if _, err := tx.ExecContext(ctx, q, p.ID, p.Seq, p.BillCode, p.BillNo, p.CheckCode, p.Content,
				fmt.Sprintf("%x", p.Hash), p.Signature); err != nil {
				tx.Rollback()
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

var schemaSeq int

// freshSchema gives a PostgreSQL DSN its own schema, dropped by cleanup.
func freshSchema(dsn string) (string, func(), error) {
	if dsn == "" {
		return "", func() {}, nil
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	schemaSeq++
	schema := fmt.Sprintf("ebill_bench_%d_%d", os.Getpid(), schemaSeq)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		return "", nil, err
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema, func() { db.Exec("DROP SCHEMA " + schema + " CASCADE"); db.Close() }, nil
}
