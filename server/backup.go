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
	"sync"
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
// server's own schedule (serve --backup-dir). Each backup is recorded for
// the inspection's backup age.
func (s *Store) ScheduledBackups(dir string, every time.Duration, keep int) Runner {
	return &backupRunner{s: s, dir: dir, every: every, keep: max(keep, 1)}
}

type backupRunner struct {
	s      *Store
	dir    string
	every  time.Duration
	keep   int
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (r *backupRunner) Name() string { return "backup" }

func (r *backupRunner) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	sys := WithActor(ctx, Actor{Who: "system:backup", System: true})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			// Due `every` after the last backup; with none yet, an hour
			// after the start (not at once: a server starting is busy).
			wait := min(r.every, time.Hour)
			var last int64
			if err := r.s.queryRow(ctx, "SELECT COALESCE(MAX(at), 0) FROM backup_log").Scan(&last); err == nil && last > 0 {
				wait = time.Until(time.UnixMilli(last).Add(r.every))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(max(wait, 0)):
			}
			if err := r.once(sys); err != nil && ctx.Err() == nil {
				r.s.log.Error("scheduled backup failed", "dir", r.dir, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(10 * time.Minute):
				}
			}
		}
	}()
	return nil
}

func (r *backupRunner) once(ctx context.Context) error {
	path := filepath.Join(r.dir, BackupName(r.s.dialect, r.s.now()))
	started := time.Now()
	err := r.s.Backup(ctx, path)
	if err == nil {
		r.s.log.Info("scheduled backup", "file", path, "took", time.Since(started).String())
	}
	if perr := pruneBackups(r.dir, r.keep); err == nil {
		err = perr
	}
	return err
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

func (r *backupRunner) Stop(ctx context.Context) error {
	if r.cancel != nil {
		r.cancel()
	}
	return stopWithin(ctx, r.wg.Wait)
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
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	head := make([]byte, 16)
	if _, err := io.ReadFull(in, head); err != nil || string(head) != "SQLite format 3\x00" {
		return bill.Errorf(bill.EInvalid, "%s 不是 SQLite 备份文件（PostgreSQL 的备份请用 --to-db 恢复）。", from)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := private.File(dst + ".part"); err != nil {
		return err
	}
	out, err := os.OpenFile(dst+".part", os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst + ".part")
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	out.Close()
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

// libpqDSN: pg_restore takes a libpq connection string, which knows no
// search_path parameter (the dump names its schema itself).
func libpqDSN(dsn string) string {
	d, _ := SplitSearchPath(dsn)
	return d
}
