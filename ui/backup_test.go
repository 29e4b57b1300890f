package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/ebill/ebill/localstore"
)

// TestDailyBackup (issue 20): without a backup the status bar reminds the
// cashier; in 个人设置 they type the folder (a USB stick) and back up at
// once; the reminder goes; a day later the desk backs up again by itself,
// keeping the newest ten; a folder that cannot be written is said.
func TestDailyBackup(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if !strings.Contains(d.Status.Backup.Text, "未备份") {
		t.Fatalf("reminder %q", d.Status.Backup.Text)
	}
	d.Show("settings")
	dir := filepath.Join(t.TempDir(), "usb")
	test.Type(d.Prefs.BackupDir, dir)
	f.tapButton("保存并立即备份")
	f.env.Bridge.Wait()
	if !strings.Contains(d.Prefs.BackupInfo.Text, "上次备份") {
		t.Fatalf("after backing up: %q", d.Prefs.BackupInfo.Text)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "station-*.db"))
	if len(files) != 1 {
		t.Fatalf("backups %v", files)
	}
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if d.Status.Backup.Text != "" {
		t.Fatalf("reminder after a backup: %q", d.Status.Backup.Text)
	}
	// A day on: the status bar's refresh backs up by itself.
	f.clock.add(25 * time.Hour)
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if files, _ := filepath.Glob(filepath.Join(dir, "station-*.db")); len(files) != 2 {
		t.Fatalf("after a day: %v", files)
	}
	// Four days without the stick: the reminder says how long.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.clock.add(4 * 24 * time.Hour)
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if !strings.Contains(d.Status.Backup.Text, "备份失败") || !strings.Contains(d.Prefs.BackupInfo.Text+backupText(mustPlan(t, f.store), time.Now()), "失败") {
		t.Fatalf("reminder with the folder gone: %q", d.Status.Backup.Text)
	}
}

func mustPlan(t *testing.T, s *localstore.Store) localstore.BackupPlan {
	p, err := s.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
