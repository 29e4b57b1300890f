package server

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/private"
)

// pgDump writes a custom-format dump (pg_dump -Fc) of the ledger's
// database, or of its schema when the connection names one.
func (s *Store) pgDump(ctx context.Context, path string) error {
	if _, err := exec.LookPath("pg_dump"); err != nil {
		return bill.Errorf(bill.EInvalid, "找不到 pg_dump：请在本机安装与数据库同版本的 PostgreSQL 客户端（Debian：apt install postgresql-client）。")
	}
	dsn, schema := SplitSearchPath(s.dsn)
	args := []string{"--format=custom", "--no-owner", "--file", path, "--dbname", dsn}
	if schema != "" {
		args = append(args, "--schema", schema)
	}
	out, err := exec.CommandContext(ctx, "pg_dump", args...).CombinedOutput()
	if err != nil {
		s.log.Error("pg_dump failed", "err", err, "output", strings.TrimSpace(string(out)))
		return bill.Errorf(bill.EInvalid, "pg_dump 备份失败：%s", strings.TrimSpace(firstLineOf(string(out))))
	}
	return nil
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// SplitSearchPath takes the search_path parameter (which libpq tools do
// not know) out of a postgres:// URL, returning it apart.
func SplitSearchPath(dsn string) (string, string) {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, ""
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// BackupName is the file name of a scheduled backup taken at t.
func BackupName(dialect string, t time.Time) string {
	ext := ".db"
	if dialect == Postgres {
		ext = ".dump"
	}
	return "ledger-" + t.In(bill.Beijing).Format("20060102-150405") + ext
}

// ScheduledBackups backs the ledger up into dir every `every`, keeping the
// newest keep backups (older ones are deleted, the newest never): the
// server's own schedule (serve --backup-dir). A backup is due `every`
// after the last one; with none yet, min(every, an hour) after the start
// (not at once: a server starting is busy). Each is recorded for the
// inspection's backup age.
func (s *Store) ScheduledBackups(dir string, every time.Duration, keep int) Runner {
	keep = max(keep, 1)
	started := time.Now()
	return &loopRunner{name: "backup", every: min(every, 10*time.Minute), run: func(ctx context.Context) {
		var last int64
		if err := s.queryRow(ctx, "SELECT COALESCE(MAX(at), 0) FROM backup_log").Scan(&last); err != nil {
			return
		}
		due := started.Add(min(every, time.Hour))
		if last > 0 {
			due = time.UnixMilli(last).Add(every)
		}
		if time.Now().Before(due) {
			return
		}
		sys := WithActor(ctx, Actor{Who: "system:backup", System: true})
		path := filepath.Join(dir, BackupName(s.dialect, s.now()))
		t0 := time.Now()
		err := s.Backup(sys, path)
		if err == nil {
			s.log.Info("scheduled backup", "file", path, "took", time.Since(t0).String())
		}
		if perr := pruneBackups(dir, keep); err == nil {
			err = perr
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("scheduled backup failed", "dir", dir, "err", err)
		}
	}}
}

// pruneBackups deletes all but the newest keep scheduled backups in dir.
func pruneBackups(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "ledger-") && (strings.HasSuffix(n, ".db") || strings.HasSuffix(n, ".dump")) {
			names = append(names, n)
		}
	}
	sort.Strings(names) // the time in the name sorts oldest first
	for len(names) > keep {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			return fmt.Errorf("prune %s: %w", names[0], err)
		}
		names = names[1:]
	}
	return nil
}

// RestoreSQLite copies a backup to dir/ledger.db; dir must not hold a
// ledger yet (a restore never overwrites one: rename it first).
func RestoreSQLite(from, dir string) error {
	dst := filepath.Join(dir, "ledger.db")
	if _, err := os.Stat(dst); err == nil {
		return bill.Errorf(bill.EConflict, "%s 已有账本数据库。恢复不会覆盖现有数据：请先停止服务，把该目录改名保留，再恢复到新目录。", dir)
	}
	if err := private.Dir(dir); err != nil {
		return bill.Errorf(bill.EInvalid, "无法创建数据目录 %s：%v", dir, err)
	}
	if !isSQLiteFile(from) {
		return bill.Errorf(bill.EInvalid, "%s 不是 SQLite 备份文件（PostgreSQL 的备份请用 --to-db 恢复）。", from)
	}
	if err := private.Copy(from, dst+".part"); err != nil {
		os.Remove(dst + ".part")
		return err
	}
	return os.Rename(dst+".part", dst)
}

// RestorePostgres loads a pg_dump -Fc file into an empty database.
func RestorePostgres(ctx context.Context, from, dsn string) error {
	if _, err := exec.LookPath("pg_restore"); err != nil {
		return bill.Errorf(bill.EInvalid, "找不到 pg_restore：请在本机安装 PostgreSQL 客户端（Debian：apt install postgresql-client）。")
	}
	cmd := exec.CommandContext(ctx, "pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpqDSN(dsn), from)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if strings.Contains(msg, "already exists") {
			return bill.Errorf(bill.EConflict, "目标数据库不是空的（%s）。恢复不会覆盖现有数据：请新建一个空数据库再恢复。", firstLineOf(msg))
		}
		return bill.Errorf(bill.EInvalid, "pg_restore 失败：%s", firstLineOf(msg))
	}
	return nil
}

// isSQLiteFile reports whether path starts with SQLite's file header.
func isSQLiteFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "SQLite format 3\x00"
}

// libpqDSN: pg_restore takes a libpq connection string, which knows no
// search_path parameter (the dump names its schema itself).
func libpqDSN(dsn string) string {
	d, _ := SplitSearchPath(dsn)
	return d
}
