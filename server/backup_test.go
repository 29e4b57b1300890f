package server_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestScheduledBackups (issue 20): the server's own schedule writes a
// backup every interval and keeps the newest few; each is a complete
// ledger that opens and verifies.
func TestScheduledBackups(t *testing.T) {
	var mu sync.Mutex
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	clock := func() time.Time { // a minute on at every look: backups are named by the minute and second
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Minute)
		return at
	}
	s, err := server.OpenStore(context.Background(), "", t.TempDir(), server.WithStoreClock(clock))
	must(t, err)
	defer s.Close()
	setupUnit(t, s)
	dir := filepath.Join(t.TempDir(), "backups")
	r := s.ScheduledBackups(dir, 50*time.Millisecond, 3)
	must(t, r.Start(context.Background()))
	var names []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var n int
		s.DB().QueryRow("SELECT COUNT(*) FROM backup_log").Scan(&n)
		if n >= 6 {
			break
		}
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, r.Stop(stop))
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	var taken int
	must(t, s.DB().QueryRow("SELECT COUNT(*) FROM backup_log").Scan(&taken))
	if taken < 6 || len(names) != 3 {
		t.Fatalf("%d backups taken, kept %v; want the newest 3", taken, names)
	}
	newest := filepath.Join(dir, names[len(names)-1])
	if fi, err := os.Stat(newest); err != nil || fi.Mode().Perm() != 0o600 || !strings.HasPrefix(names[0], "ledger-") {
		t.Fatalf("backup file %s: %v", newest, err)
	}
	// A backup is a ledger: restored into a folder with the keys, it opens.
	restored := t.TempDir()
	raw, err := os.ReadFile(newest)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(restored, "ledger.db"), raw, 0o600))
	b, err := server.OpenStore(context.Background(), "", restored)
	must(t, err)
	defer b.Close()
	kinds, err := b.BillKinds(context.Background())
	if err != nil || len(kinds) == 0 {
		t.Fatalf("the backup holds no bill kinds: %v", err)
	}
}

// TestBackupRestorePostgres (issue 20): pg_dump of a ledger, restored with
// pg_restore into an empty database, holds the same bills and verifies; a
// database that is not empty is refused.
func TestBackupRestorePostgres(t *testing.T) {
	base := os.Getenv("EBILL_TEST_PG")
	if base == "" {
		t.Skip("EBILL_TEST_PG not set")
	}
	admin, err := sql.Open("pgx", base)
	must(t, err)
	defer admin.Close()
	newDB := func(name string) string {
		_, err := admin.Exec("CREATE DATABASE " + name)
		must(t, err)
		t.Cleanup(func() { admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
		u, _ := url.Parse(base)
		u.Path = "/" + name
		return u.String()
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	src, dst := newDB("ebill_src_"+suffix), newDB("ebill_dst_"+suffix)
	dir := t.TempDir() // the keys
	s, err := server.OpenStore(context.Background(), src, dir)
	must(t, err)
	defer s.Close()
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	setupUnit(t, s)
	must(t, s.AddPoint(ctx, "P01", "门诊一号窗口", server.PointStation))
	st := enrollStation(t, s, "P01")
	for i := 0; i < 3; i++ {
		st.issue(t, "outpatient.json", "PG-"+strconv.Itoa(i))
	}
	_, err = s.Upload(ctx, "P01", st.pending(t))
	must(t, err)
	dump := filepath.Join(t.TempDir(), "ledger.dump")
	must(t, s.Backup(ctx, dump))
	must(t, server.RestorePostgres(context.Background(), dump, dst))
	r, err := server.OpenStore(context.Background(), dst, dir)
	must(t, err)
	defer r.Close()
	rep, err := r.VerifyLedger(ctx)
	must(t, err)
	if !rep.OK() || rep.Bills != 3 {
		t.Fatalf("the restored ledger: %+v", rep)
	}
	lb, err := r.LedgerBill(ctx, outCode, 2)
	must(t, err)
	if string(lb.Bill.Settlement.IDCardNo) != "350203198503122015" {
		t.Fatalf("restored bill: %q", lb.Bill.Settlement.IDCardNo)
	}
	if err := server.RestorePostgres(context.Background(), dump, dst); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("restoring over a ledger: %v", err)
	}
}
