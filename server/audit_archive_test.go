package server_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestAuditArchive (issue 18 #2): records are archived month by month,
// never deleted; an archive is written once and never replaced; an edited
// or shortened archive fails its check.
func TestAuditArchive(t *testing.T) {
	c := &clock{t: time.Date(2026, 10, 10, 2, 0, 0, 0, time.UTC)}
	dataDir := t.TempDir()
	s, err := server.OpenStore(context.Background(), "", dataDir, server.WithStoreClock(c.now))
	must(t, err)
	defer s.Close()
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	setupUnit(t, s)
	for _, p := range []string{"P01", "P02", "P03"} {
		must(t, s.AddPoint(ctx, p, "窗口", server.PointStation))
	}
	var october int
	must(t, s.DB().QueryRow("SELECT COUNT(*) FROM audit").Scan(&october))
	c.t = time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)
	must(t, s.AddPoint(ctx, "P04", "窗口", server.PointStation))
	dir := filepath.Join(t.TempDir(), "archive")
	if _, _, err := s.ArchiveAudit(ctx, dir, c.t); bill.ErrorCode(err) != bill.EInvalid {
		t.Fatalf("archiving a month not ended: %v", err)
	}

	// The server's runner archives October on its own.
	r := s.AuditArchiver(dir, time.Hour)
	must(t, r.Start(context.Background()))
	file := filepath.Join(dir, "audit-2026-10.jsonl")
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(file); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, r.Stop(stop))
	raw, err := os.ReadFile(file)
	must(t, err)
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("archive mode %o", fi.Mode().Perm())
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	if len(lines) != october+1 {
		t.Fatalf("archive has %d lines, want %d records and the checkpoint", len(lines), october)
	}
	n, err := s.VerifyAuditArchive(ctx, file)
	if err != nil || n != october {
		t.Fatalf("verify archive: %d %v", n, err)
	}
	if _, _, err := s.ArchiveAudit(ctx, dir, time.Date(2026, 10, 1, 0, 0, 0, 0, bill.Beijing)); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("archiving October again: %v", err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(again, raw) {
		t.Fatal("the archive was rewritten")
	}
	// Nothing left the trail.
	var total int
	must(t, s.DB().QueryRow("SELECT COUNT(*) FROM audit").Scan(&total))
	if total <= october+1 {
		t.Fatalf("the trail holds %d records", total)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}

	// Edited archives fail.
	edited := filepath.Join(t.TempDir(), "edited.jsonl")
	must(t, os.WriteFile(edited, bytes.Replace(raw, []byte(`"P02"`), []byte(`"P09"`), 1), 0o600))
	if _, err := s.VerifyAuditArchive(ctx, edited); bill.ErrorCode(err) != bill.ETampered {
		t.Fatalf("an edited record: %v", err)
	}
	shortened := append(append([][]byte{}, lines[:2]...), lines[3:]...)
	must(t, os.WriteFile(edited, append(bytes.Join(shortened, []byte("\n")), '\n'), 0o600))
	if _, err := s.VerifyAuditArchive(ctx, edited); bill.ErrorCode(err) != bill.ETampered {
		t.Fatalf("a record taken out: %v", err)
	}
}
