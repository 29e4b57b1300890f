// Package localstore is the station's SQLite store: one file in WAL mode
// shared by the GUI, the CLI and the sync service. Every operation is one
// short immediate transaction, so a crash at any instant loses no
// acknowledged bill and leaves no hole in the numbers.
package localstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
	"github.com/ebill/ebill/internal/private"
)

// FileName is the database file's name inside a station's data directory.
const FileName = "station.db"

// Store is an open station database. It is safe for concurrent use, and
// several processes may open the same file at once.
type Store struct {
	write *sql.DB              // one connection; every transaction BEGIN IMMEDIATE
	stmts map[string]*sql.Stmt // the issuing path's statements, prepared once
	cfg   configCache
	keys  keyCache
	pii   *pii.Sealer // seals the ID and phone numbers of stored bills (pii.go)

	placeMu sync.Mutex
	place   string  // cached place code; see placeCode
	read    *sql.DB // several connections for queries
	path    string
	log     *slog.Logger
	now     func() time.Time
}

// Option changes how Open sets up a Store.
type Option func(*Store)

// WithClock replaces time.Now (tests of offline limits).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLogger sets the logger for detail that users do not see.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Open opens (creating if needed) the station database in dir and brings
// its schema up to date.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	if err := private.Dir(dir); err != nil {
		return nil, bill.Errorf(bill.EInvalid, "无法创建数据目录 %s：%v；请检查路径和权限。", dir, err)
	}
	path := filepath.Join(dir, FileName)
	// The bills hold ID and phone numbers: the file is the service's only.
	if err := private.File(path); err != nil {
		return nil, bill.Errorf(bill.EInvalid, "无法创建数据文件 %s：%v；请检查路径和权限。", path, err)
	}
	s := &Store{path: path, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=wal_autocheckpoint(4000)&_pragma=secure_delete(1)"
	var err error
	if s.write, err = sql.Open("sqlite", path+"?"+pragmas+"&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("localstore: open %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	if s.read, err = sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)"); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("localstore: open %s: %w", path, err)
	}
	s.read.SetMaxOpenConns(4)
	if err := s.checkIntegrity(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadDataKey(ctx, dir); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareHot(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkIntegrity refuses a damaged database file (PRAGMA quick_check):
// issuing or syncing on it could lose or duplicate bills.
func (s *Store) checkIntegrity(ctx context.Context) error {
	if fi, err := os.Stat(s.path); err != nil || fi.Size() == 0 {
		return nil // a new store
	}
	var problems []string
	rows, err := s.write.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err == nil {
		for rows.Next() {
			var line string
			if err = rows.Scan(&line); err != nil {
				break
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	if err != nil {
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, "malformed") && !strings.Contains(msg, "corrupt") && !strings.Contains(msg, "not a database") {
			return fmt.Errorf("localstore: check %s: %w", s.path, err)
		}
		problems = append(problems, err.Error())
	}
	if len(problems) == 0 {
		return nil
	}
	s.log.Error("station database damaged", "path", s.path, "problems", problems)
	return bill.Errorf(bill.ETampered, "本机数据库文件 %s 已损坏，为防止票据丢失或重复，已停止开票和上传。"+
		"请不要删除或覆盖该文件，联系信息科：从最近的备份恢复（恢复后未上传的票据会从服务器核对），详见《开票点运维手册》“数据库损坏”。", s.path)
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// hotQueries are the statements every issue runs. Preparing SQL is a large
// share of a short transaction's cost, so these are prepared once on the
// write connection and reused by every transaction.
var hotQueries = []string{qStationTx, qTakeNumber, qInsertBill, qSegmentFull}

func (s *Store) prepareHot(ctx context.Context) error {
	s.stmts = make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		st, err := s.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("localstore: prepare %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// wtx is a write transaction; hot statements come from the store's cache,
// any other SQL is prepared as usual.
type wtx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *wtx) stmt(ctx context.Context, q string) *sql.Stmt {
	if st, ok := t.stmts[q]; ok {
		return t.Tx.StmtContext(ctx, st)
	}
	return nil
}

func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies the embedded migrations in order, each in its own
// immediate transaction that first re-reads user_version, so processes
// opening a new file at the same moment cannot apply one twice.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	if err := s.read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("localstore: migrate: %w", err)
	}
	if current > len(names) {
		// An older program must not work on a newer schema: it would
		// write rows without what the newer one relies on.
		s.log.Error("station database is newer than this program", "schema", current, "known", len(names))
		return bill.Errorf(bill.EVersion, "本机数据库由较新版本的程序写入（数据结构第 %d 版，本程序只认识到第 %d 版），"+
			"为防止数据损坏已停止。请安装与此前相同或更新的版本（可在信息科取得），不要用旧版本覆盖安装。", current, len(names))
	}
	applied := false
	for i, name := range names {
		version := i + 1
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(tx *wtx) error {
			var current int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
				return err
			}
			if current >= version {
				return nil
			}
			if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if step := s.migrationSteps()[version]; step != nil {
				if err := step(ctx, tx); err != nil {
					return fmt.Errorf("migration %s: %w", name, err)
				}
			}
			applied = true
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version))
			return err
		})
		if err != nil {
			return fmt.Errorf("localstore: migrate: %w", err)
		}
	}
	if applied {
		// A migration that rewrote bills (sealing their personal numbers)
		// leaves the old images in the -wal: fold it in and empty it.
		if _, err := s.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("localstore: migrate: checkpoint: %w", err)
		}
	}
	return nil
}

// migrationSteps are the Go parts of migrations, run after the SQL of the
// same version in its transaction.
func (s *Store) migrationSteps() map[int]func(context.Context, *wtx) error {
	return map[int]func(context.Context, *wtx) error{7: s.sealLegacyBills}
}

// tx runs fn in one immediate write transaction, retrying a few times if
// another process holds the database past the busy timeout. fn must have no
// effect outside the transaction: it may run more than once.
func (s *Store) tx(ctx context.Context, fn func(*wtx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.txOnce(ctx, fn); !isBusy(err) {
			return translate(err)
		}
		s.log.Warn("database busy, retrying", "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
	}
	return bill.Errorf(bill.EInternal, "数据库繁忙（另一程序长时间占用），请稍后重试。")
}

func (s *Store) txOnce(ctx context.Context, fn func(*wtx) error) (err error) {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &wtx{Tx: sqlTx, stmts: s.stmts}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// translate turns driver errors into our own: a uniqueness or foreign key
// violation is an EConflict; anything else not already an *bill.Error keeps
// its detail for the log and is an internal error.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var be *bill.Error
	if errors.As(err, &be) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return fmt.Errorf("%w: %v", errConflict, err)
	}
	return err
}

// errConflict marks a constraint violation that an operation did not expect.
var errConflict = bill.Errorf(bill.EConflict, "数据与已有记录冲突，操作未执行；请刷新后重试。")

func nowMillis(t time.Time) int64 { return t.UTC().UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Stats are figures of the database file for diagnostics: sizes, pages,
// the integrity check, and the rows of the main tables.
func (s *Store) Stats(ctx context.Context) (map[string]any, error) {
	out := map[string]any{"path": s.path}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.path + suffix); err == nil {
			out["size"+suffix] = fi.Size()
		}
	}
	for _, p := range []string{"page_size", "page_count", "freelist_count", "user_version", "journal_mode"} {
		var v any
		if err := s.read.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			return nil, err
		}
		out[p] = v
	}
	var check string
	if err := s.read.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&check); err != nil {
		check = err.Error()
	}
	out["quick_check"] = check
	rows := map[string]int64{}
	for _, t := range []string{"bills", "outbox", "acks", "segments", "paper_usage", "paper_ranges", "users", "charge_items", "messages"} {
		var n int64
		if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, err
		}
		rows[t] = n
	}
	out["rows"] = rows
	return out, nil
}
