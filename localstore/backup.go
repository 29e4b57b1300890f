package localstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"

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
	return err
}
