// Package server is the central ebill server: the ledger of every billing
// point's bills, number stock and its allocation, billing points and their
// enrollment, and the HTTP APIs. It stores on SQLite (the default, one file)
// or PostgreSQL (production), through one code path.
package server

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
	"github.com/ebill/ebill/internal/private"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Sentinel errors of the store boundary: driver errors never travel above it.
var (
	ErrNotFound = bill.Errorf(bill.ENotFound, "未找到记录。")
	ErrConflict = bill.Errorf(bill.EConflict, "数据与已有记录冲突，操作未执行。")
)

// Store is the server's database.
type Store struct {
	db         *sql.DB
	dialect    string
	log        *slog.Logger
	now        func() time.Time
	keyFile    string      // where the key sealing secrets is kept
	aead       cipher.AEAD // seals secrets (secrets.go)
	pii        *pii.Sealer // masks and seals ID and phone numbers in stored bills (same key)
	dsn        string      // the PostgreSQL connection string (pg_dump)
	minVersion minVersionCache
	issueLocks pointLocks
	iss        issuers
	keys       gosync.Map // point → *bill.PrivateKey of server points
	keyMu      gosync.Mutex
	nums       gosync.Map // point → *pointNumbers: a server point's free numbers, kept between batches
	apps       gosync.Map // appid → *cachedApp
	noises     noiseRecorder
	inspectEnv atomic.Pointer[InspectEnv]
	// The audit chain's key and the first record it keys (audit_key.go).
	auditKeyFile string
	auditKey     []byte
	auditFrom    int64
}

// StoreOption changes how OpenStore sets up a Store.
type StoreOption func(*Store)

// WithStoreClock replaces time.Now (tests).
func WithStoreClock(now func() time.Time) StoreOption { return func(s *Store) { s.now = now } }

// WithStoreLogger sets the logger.
func WithStoreLogger(l *slog.Logger) StoreOption { return func(s *Store) { s.log = l } }

// OpenStore opens the database named by dsn — a postgres:// URL, or else
// the SQLite file ledger.db in dataDir — and applies the migrations.
func OpenStore(ctx context.Context, dsn, dataDir string, opts ...StoreOption) (*Store, error) {
	s := &Store{log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.dialect, s.dsn = Postgres, dsn
		var cfg *pgx.ConnConfig
		if cfg, err = pgx.ParseConfig(dsn); err == nil {
			// Batch lookups with hundreds of parameters get a poor generic
			// plan once PostgreSQL caches them; plan each execution instead.
			cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
			s.db = stdlib.OpenDB(*cfg)
			s.db.SetMaxOpenConns(16)
			// Keep them open: database/sql keeps 2 idle connections by
			// default, and a new PostgreSQL connection costs a backend fork.
			s.db.SetMaxIdleConns(16)
			s.db.SetConnMaxIdleTime(5 * time.Minute)
			err = s.db.PingContext(ctx)
		}
	} else {
		s.dialect = SQLite
		if err = private.Dir(dataDir); err != nil {
			return nil, bill.Errorf(bill.EInvalid, "无法创建数据目录 %s：%v", dataDir, err)
		}
		path := filepath.Join(dataDir, "ledger.db")
		if err := private.File(path); err != nil {
			return nil, err
		}
		s.db, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"+
			"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_txlock=immediate")
		if err == nil {
			s.db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
		}
	}
	if err != nil {
		return nil, fmt.Errorf("server: open database: %w", err)
	}
	if err := s.loadSealer(dataDir); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("server: the key sealing secrets: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.loadAuditKey(ctx, dataDir); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("server: the audit chain's key: %w", err)
	}
	return s, nil
}

// Dialect is SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// Close closes the database.
func (s *Store) Close() error {
	s.stopIssuers()
	s.stopNoises()
	return s.db.Close()
}

//go:embed migrations
var migrations embed.FS

// Migrate brings the schema up to date with goose; on PostgreSQL a session
// lock keeps two servers starting at once from migrating twice.
func (s *Store) Migrate(ctx context.Context) error { return s.MigrateTo(ctx, -1) }

// MigrateTo moves the schema up or down to version (-1: the latest).
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	dir, err := fs.Sub(migrations, "migrations/"+s.dialect)
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithGoMigrations(busDateMigration(s.dialect), statsMigration(s.dialect), piiMigration(s.dialect, s.pii, s.sealText, s.openText))}
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db, dir, opts...)
	if err != nil {
		return fmt.Errorf("server: migrations: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("server: migrate: %w", err)
	}
	if known := SchemaVersion(p); current > known {
		s.log.Error("database is newer than this program", "schema", current, "known", known)
		return bill.Errorf(bill.EVersion, "数据库由较新版本的 ebill-server 写入（数据结构第 %d 版，本程序只认识到第 %d 版），"+
			"为防止数据损坏已停止。请运行与数据库相同或更新的版本；降级请从升级前的备份恢复。", current, known)
	}
	var done []*goose.MigrationResult
	switch {
	case version < 0:
		done, err = p.Up(ctx)
	case version > current:
		done, err = p.UpTo(ctx, version)
	case version < current:
		done, err = p.DownTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("server: migrate: %w", err)
	}
	if len(done) > 0 && s.dialect == SQLite {
		// A migration that rewrote rows (sealing personal numbers, say)
		// leaves their old images in the -wal: fold it in and empty it.
		// (secure_delete zeroes what the rewrite freed.)
		if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("server: migrate: checkpoint: %w", err)
		}
	}
	return nil
}

// SchemaVersion is the newest migration p knows.
func SchemaVersion(p *goose.Provider) int64 {
	var v int64
	for _, src := range p.ListSources() {
		v = max(v, src.Version)
	}
	return v
}

// tx runs fn in one transaction, retried when the database reports a
// serialization failure, deadlock or busy file. fn may run more than once.
func (s *Store) tx(ctx context.Context, fn func(*dbtx) error) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		err = s.txOnce(ctx, fn)
		if !retryable(err) {
			return translate(err)
		}
		s.log.Warn("transaction retried", "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond):
		}
	}
	return translate(err)
}

func (s *Store) txOnce(ctx context.Context, fn func(*dbtx) error) (err error) {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			t.Rollback()
		}
	}()
	if err = fn(&dbtx{t: t, s: s}); err != nil {
		return err
	}
	return t.Commit()
}

// dbtx is a transaction that writes its queries with ? placeholders for
// both dialects.
type dbtx struct {
	t *sql.Tx
	s *Store
}

func (t *dbtx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.t.ExecContext(ctx, t.s.rebind(q), args...)
}

func (t *dbtx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.t.QueryRowContext(ctx, t.s.rebind(q), args...)
}

func (t *dbtx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.t.QueryContext(ctx, t.s.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.rebind(q), args...)
}

// rebind turns ? placeholders into $1, $2… for PostgreSQL. Queries here
// never contain a literal question mark.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// forUpdate locks the selected rows until the transaction ends (PostgreSQL);
// on SQLite the immediate transaction already holds the write lock.
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// forUpdateIf locks the row read when q is a transaction.
func (s *Store) forUpdateIf(q querier) string {
	if _, ok := q.(*dbtx); ok {
		return s.forUpdate()
	}
	return ""
}

func retryable(err error) bool {
	if errors.Is(err, errStockMoved) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// translate maps driver errors to the store's sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var be *bill.Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("%w (%v)", ErrConflict, err)
	}
	return AsUnavailable(err)
}

// AsUnavailable turns a database that cannot be reached, is shutting down
// or is read-only (a standby not yet promoted) into EUnavailable with a
// message that says to try again: nothing was done, and a retry with the
// same business number is safe. Other errors pass through.
func AsUnavailable(err error) error {
	if err == nil {
		return nil
	}
	var be *bill.Error
	if errors.As(err, &be) {
		return err
	}
	unavailable := errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", pe.Code == "25006":
			unavailable = true
		}
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) {
		unavailable = true
	}
	if !unavailable {
		return err
	}
	return fmt.Errorf("%w (%v)", bill.Errorf(bill.EUnavailable, "数据库暂时无法访问（可能正在主备切换），本次未办理；请稍后重试（开票请用相同的业务流水号）。"), err)
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (s *Store) millis() int64 { return s.now().UTC().UnixMilli() }

// DB is the underlying database, for benchmarks that compare the store
// with raw SQL on the same database.
func (s *Store) DB() *sql.DB { return s.db }

// Backup writes a consistent copy of an SQLite ledger to path (VACUUM INTO)
// while the server runs. PostgreSQL is backed up with its own tools.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := s.authorize(ctx, PermBackup); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return bill.Errorf(bill.EInvalid, "备份文件 %s 已存在，请换一个文件名。", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return bill.Errorf(bill.EInvalid, "无法创建备份目录：%v", err)
	}
	if err := private.File(path); err != nil { // created private, then filled
		return bill.Errorf(bill.EInvalid, "无法写入备份文件 %s：%v", path, err)
	}
	var err error
	if s.dialect == SQLite {
		_, err = s.db.ExecContext(ctx, "VACUUM INTO ?", path)
	} else {
		err = s.pgDump(ctx, path)
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	// Recorded for the inspection report's backup age.
	_, err = s.db.ExecContext(ctx, s.rebind("INSERT INTO backup_log (at, path, size) VALUES (?, ?, ?)"), s.millis(), path, size)
	return err
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// collect reads every row of a query with scan, closing the rows.
func collect[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (*T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}
