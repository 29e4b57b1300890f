package localstore

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/private"
)

// Backup writes a consistent copy of the station database to path while
// the GUI, CLI and sync service keep working (VACUUM INTO). path must not
// exist yet.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return bill.Errorf(bill.EInvalid, "备份文件 %s 已存在，请换一个文件名。", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return bill.Errorf(bill.EInvalid, "无法创建备份目录：%v", err)
	}
	if err := private.File(path); err != nil { // created private, then filled
		return bill.Errorf(bill.EInvalid, "无法写入备份文件 %s：%v；请检查路径和权限。", path, err)
	}
	_, err := s.write.ExecContext(ctx, "VACUUM INTO ?", path)
	if err != nil && strings.Contains(err.Error(), "unable to open") {
		return bill.Errorf(bill.EInvalid, "无法写入备份文件 %s，请检查路径和权限。", path)
	}
	if err != nil {
		return err
	}
	// Any backup counts for the desk's reminder, `ebill backup` too.
	p, _ := s.Plan(ctx)
	p.LastAt, p.LastFile, p.LastError = s.now().UTC(), path, ""
	return s.localSetting(ctx, settingBackupPlan, p)
}

// BackupPlan is the desk's daily backup (issue 20): the folder chosen (a
// USB stick, another disk), and how the last backup went.
type BackupPlan struct {
	Dir       string    `json:"dir"`
	LastAt    time.Time `json:"lastAt,omitzero"`
	LastFile  string    `json:"lastFile,omitempty"`
	LastError string    `json:"lastError,omitempty"`
}

const settingBackupPlan = "backup_plan"

// BackupKeep is how many backups BackupNow keeps in the folder.
const BackupKeep = 10

// BackupRemindAfter is how old the last backup may be before the desk
// reminds the cashier.
const BackupRemindAfter = 72 * time.Hour

// Plan returns the backup plan (zero when never set).
func (s *Store) Plan(ctx context.Context) (BackupPlan, error) {
	var p BackupPlan
	_, err := s.readSetting(ctx, settingBackupPlan, &p)
	return p, err
}

// SetBackupDir chooses the folder the daily backup goes to.
func (s *Store) SetBackupDir(ctx context.Context, dir string) error {
	dir = strings.TrimSpace(dir)
	if dir == "" {
		return bill.Errorf(bill.EInvalid, "请填写备份文件夹，例如 E:\\ebill-backup（U 盘或另一块磁盘）。")
	}
	if !filepath.IsAbs(dir) {
		return bill.Errorf(bill.EInvalid, "备份文件夹要写完整路径，例如 E:\\ebill-backup。")
	}
	p, err := s.Plan(ctx)
	if err != nil {
		return err
	}
	p.Dir = filepath.Clean(dir)
	return s.localSetting(ctx, settingBackupPlan, p)
}

// BackupDue reports whether the daily backup should run now: a folder is
// chosen and the last backup is a day old or more.
func (s *Store) BackupDue(ctx context.Context) bool {
	p, err := s.Plan(ctx)
	return err == nil && p.Dir != "" && s.now().Sub(p.LastAt) >= 24*time.Hour
}

// BackupNow backs the database up into the plan's folder as
// station-<time>.db, keeps the newest BackupKeep there, and records the
// outcome (shown by the desk).
func (s *Store) BackupNow(ctx context.Context) (string, error) {
	p, err := s.Plan(ctx)
	if err != nil {
		return "", err
	}
	if p.Dir == "" {
		return "", bill.Errorf(bill.EInvalid, "还没有选择备份文件夹：请在“个人设置”中填写。")
	}
	path := filepath.Join(p.Dir, "station-"+s.now().In(bill.Beijing).Format("20060102-150405")+".db")
	err = s.Backup(ctx, path)
	if err == nil {
		p.LastAt, p.LastFile, p.LastError = s.now().UTC(), path, ""
		pruneStationBackups(p.Dir, BackupKeep)
	} else {
		p.LastError = bill.ErrorMessage(err)
	}
	if serr := s.localSetting(ctx, settingBackupPlan, p); err == nil {
		err = serr
	}
	return path, err
}

// pruneStationBackups deletes all but the newest keep station-*.db files.
func pruneStationBackups(dir string, keep int) {
	names, _ := filepath.Glob(filepath.Join(dir, "station-*.db"))
	sort.Strings(names)
	for len(names) > keep {
		os.Remove(names[0])
		names = names[1:]
	}
}
