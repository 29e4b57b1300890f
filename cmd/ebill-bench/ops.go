package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/private"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// benchOps (issue 20): a ledger of n real bills — issued for one point,
// chained, signed, uploaded through the server's upload path — and then
// what operations do with it: the size on disk, a backup, a restore into
// a new place, and a full verify. Baselines in the same run: copying the
// database file (for the backup and the restore) and a plain read of
// every bill's content and signature (for the verify).
func benchOps(n int, dir, raw, pgDSN string) error {
	ctx := server.WithActor(context.Background(), server.Actor{Who: "bench", System: true})
	fmt.Printf("ebill bench: operations on a ledger of %d signed bills (one chain)\n\n", n)
	fmt.Printf("%-9s %-40s %10s %12s\n", "database", "case", "seconds", "figure")
	targets := []string{""}
	if pgDSN != "" {
		targets = append(targets, pgDSN)
	}
	for _, dsn := range targets {
		if err := opsCase(ctx, n, dir, raw, dsn); err != nil {
			return err
		}
	}
	return nil
}

func row(db, what string, d time.Duration, figure string) {
	fmt.Printf("%-9s %-40s %10.1f %12s\n", db, what, d.Seconds(), figure)
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func opsCase(ctx context.Context, n int, dir, raw, pgDSN string) error {
	name := "sqlite"
	data := filepath.Join(dir, "ops-sqlite")
	dsn := ""
	var dropDBs []string
	var admin *sql.DB
	if pgDSN != "" {
		name = "postgres"
		data = filepath.Join(dir, "ops-postgres")
		var err error
		if admin, err = sql.Open("pgx", pgDSN); err != nil {
			return err
		}
		defer admin.Close()
		db := fmt.Sprintf("ebill_ops_%d", os.Getpid())
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			return err
		}
		dropDBs = append(dropDBs, db)
		dsn = withDatabase(pgDSN, db)
	}
	defer func() {
		for _, db := range dropDBs {
			admin.Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
		}
	}()
	s, err := server.OpenStore(ctx, dsn, data, server.WithStoreLogger(quietLog()))
	if err != nil {
		return err
	}
	key, err := bill.GenerateKey()
	if err != nil {
		return err
	}
	if err := enrollBench(ctx, s, key); err != nil {
		s.Close()
		return err
	}
	t0 := time.Now()
	if err := uploadSigned(ctx, s, key, raw, n); err != nil {
		s.Close()
		return err
	}
	row(name, fmt.Sprintf("build: sign and upload %d bills", n), time.Since(t0), fmt.Sprintf("%.0f/s", float64(n)/time.Since(t0).Seconds()))
	stats, err := s.DatabaseStats(ctx, data)
	if err != nil {
		s.Close()
		return err
	}
	var size int64
	if name == "sqlite" {
		size = stats["size"].(int64)
	} else {
		size = stats["databaseSize"].(int64)
	}
	row(name, "size of the database", 0, mb(size))
	row(name, "size per 1,000,000 bills", 0, mb(size*1_000_000/int64(n)))

	// Backup, beside a plain copy of the database file (SQLite).
	backup := filepath.Join(dir, "ops-"+name+".backup")
	os.Remove(backup)
	if name == "sqlite" {
		t := time.Now()
		if err := private.Copy(filepath.Join(data, "ledger.db"), backup+".copy"); err != nil {
			s.Close()
			return err
		}
		row(name, "baseline: copy the database file", time.Since(t), "")
		os.Remove(backup + ".copy")
	}
	t := time.Now()
	if err := s.Backup(ctx, backup); err != nil {
		s.Close()
		return err
	}
	fi, _ := os.Stat(backup)
	row(name, "backup (VACUUM INTO / pg_dump -Fc)", time.Since(t), mb(fi.Size()))

	// Verify, beside a plain read of what it reads.
	t = time.Now()
	rows, err := s.DB().QueryContext(ctx, "SELECT content, pii, hash, signature FROM bills")
	if err != nil {
		s.Close()
		return err
	}
	var read int
	for rows.Next() {
		var c, p, sig []byte
		var h string
		rows.Scan(&c, &p, &h, &sig)
		read++
	}
	rows.Close()
	row(name, "baseline: read every bill", time.Since(t), fmt.Sprintf("%d", read))
	s.Close()

	// Restore into a new place, then verify the restored ledger.
	target := filepath.Join(dir, "ops-"+name+"-restored")
	os.RemoveAll(target)
	if err := os.MkdirAll(target, 0o700); err != nil {
		return err
	}
	if err := exec.Command("cp", "-a", filepath.Join(data, "keys"), filepath.Join(target, "keys")).Run(); err != nil {
		return err
	}
	restoredDSN := ""
	t = time.Now()
	if name == "sqlite" {
		err = server.RestoreSQLite(backup, target)
	} else {
		db := fmt.Sprintf("ebill_ops_r_%d", os.Getpid())
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			return err
		}
		dropDBs = append(dropDBs, db)
		restoredDSN = withDatabase(pgDSN, db)
		err = server.RestorePostgres(ctx, backup, restoredDSN)
	}
	if err != nil {
		return err
	}
	row(name, "restore (copy / pg_restore)", time.Since(t), "")
	r, err := server.OpenStore(ctx, restoredDSN, target, server.WithStoreLogger(quietLog()))
	if err != nil {
		return err
	}
	defer r.Close()
	t = time.Now()
	rep, err := r.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	if !rep.OK() || rep.Bills != int64(n) {
		return fmt.Errorf("verify of the restored %s ledger: %d bills, problems %v", name, rep.Bills, rep.Problems)
	}
	row(name, "verify the restored ledger (all checks)", time.Since(t), fmt.Sprintf("%.0f/s", float64(n)/time.Since(t).Seconds()))
	os.Remove(backup)
	fmt.Println()
	return nil
}

// uploadSigned makes n bills of point P01 as a station would — numbered,
// chained, signed — and uploads them through the server's upload path.
// The chain is built in order (each bill names the hash of the one
// before); the signatures, which nothing else depends on, on every core.
func uploadSigned(ctx context.Context, s *server.Store, key *bill.PrivateKey, raw string, n int) error {
	set, err := bill.ParseSettlement([]byte(raw))
	if err != nil {
		return err
	}
	prev := bill.GenesisHash
	start := time.Now().Add(-time.Duration(n) * time.Second)
	const chunk = 5000
	for base := 0; base < n; base += chunk {
		m := min(chunk, n-base)
		bills := make([]wire.Bill, m)
		contents := make([][]byte, m)
		for i := 0; i < m; i++ {
			no := int64(base + i + 1)
			b := &bill.Bill{V: bill.FormatVersion, ID: uuid.Must(uuid.NewV7()).String(), Kind: bill.Outpatient, Seq: no, PrevHash: prev,
				BillCode: "35060126", BillNo: bill.FormatBillNo(no), PlaceCode: "P01", UnitName: "基准测试医院",
				IssuedAt: bill.FormatIssuedAt(start.Add(time.Duration(no) * time.Second)), Settlement: *set}
			b.Settlement.BusNo = bill.Text(fmt.Sprintf("OPS%09d", no))
			content, err := b.Canonical()
			if err != nil {
				return err
			}
			h := bill.ContentHash(content)
			prev = hex.EncodeToString(h)
			contents[i] = content
			bills[i] = wire.Bill{ID: b.ID, Seq: no, BillCode: b.BillCode, BillNo: no, Content: content, Hash: h}
		}
		var wg sync.WaitGroup
		work := make(chan int)
		var signErr error
		var mu sync.Mutex
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					sig, err := key.Sign(contents[i])
					if err != nil {
						mu.Lock()
						signErr = err
						mu.Unlock()
						continue
					}
					bills[i].Signature, bills[i].CheckCode = sig, bill.CheckCode(sig)
				}
			}()
		}
		for i := range bills {
			work <- i
		}
		close(work)
		wg.Wait()
		if signErr != nil {
			return signErr
		}
		for i := 0; i < m; i += wire.MaxBatch {
			res, err := s.Upload(ctx, "P01", bills[i:min(i+wire.MaxBatch, m)])
			if err != nil {
				return err
			}
			for _, a := range res.Acks {
				if a.Status != wire.AckStored {
					return fmt.Errorf("bill %d: %s %s", a.Seq, a.Status, a.Message)
				}
			}
		}
		if (base+m)%200_000 == 0 {
			fmt.Fprintf(os.Stderr, "  %d bills\n", base+m)
		}
	}
	return nil
}

func withDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + db
	return u.String()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
