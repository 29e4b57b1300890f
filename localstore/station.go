package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ebill/ebill/bill"
)

// Station is this billing point's identity and chain head.
type Station struct {
	PlaceCode      string
	PlaceName      string
	UnitName       string
	UnitCreditCode string
	ServerURL      string
	PublicKeyPEM   string
	ChainSeq       int64
	ChainHash      string
	UnsyncedCount  int
	UnsyncedAmount bill.Money
	CreatedAt      time.Time
}

// InitParams describe a new station.
type InitParams struct {
	PlaceCode      string
	PlaceName      string
	UnitName       string
	UnitCreditCode string
	ServerURL      string
	Key            *bill.PrivateKey // nil: a new key pair is generated
}

// ErrNotInitialized is returned by operations on a store that has no station yet.
var ErrNotInitialized = bill.Errorf(bill.ENotFound, "本机尚未初始化为开票点；请先执行 ebill init（或在桌面程序中完成首次注册）。")

// Init makes this database a billing point's station: its code, names and
// SM2 key pair. It fails if the database already belongs to a point.
func (s *Store) Init(ctx context.Context, p InitParams) (*Station, error) {
	p.PlaceCode = strings.TrimSpace(p.PlaceCode)
	if p.PlaceCode == "" || len(p.PlaceCode) > 50 || strings.ContainsAny(p.PlaceCode, " \t\r\n") {
		return nil, bill.Errorf(bill.EInvalid, "开票点编码 %q 不正确：不能为空、不能含空格、不超过50个字符。", p.PlaceCode)
	}
	key := p.Key
	if key == nil {
		var err error
		if key, err = bill.GenerateKey(); err != nil {
			return nil, err
		}
	}
	privPEM, err := key.PEM()
	if err != nil {
		return nil, err
	}
	pubPEM, err := key.Public().PEM()
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var existing string
		switch err := tx.QueryRowContext(ctx, "SELECT place_code FROM station").Scan(&existing); {
		case err == nil:
			return bill.Errorf(bill.EConflict, "本机已初始化为开票点 %s，不能重复初始化。", existing)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO station (id, place_code, place_name, unit_name, unit_credit_code,
			server_url, private_key, public_key, chain_hash, created_at) VALUES (1,?,?,?,?,?,?,?,?,?)`,
			p.PlaceCode, p.PlaceName, p.UnitName, p.UnitCreditCode, p.ServerURL, privPEM, pubPEM,
			bill.GenesisHash, nowMillis(s.now()))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Station(ctx)
}

// Station returns this point's identity; ErrNotInitialized before Init.
func (s *Store) Station(ctx context.Context) (*Station, error) {
	return scanStation(s.read.QueryRowContext(ctx, stationCols+" FROM station"))
}

const stationCols = `SELECT place_code, place_name, unit_name, unit_credit_code, server_url, public_key,
	chain_seq, chain_hash, unsynced_count, unsynced_amount, created_at`

type rowScanner interface{ Scan(...any) error }

func scanStation(r rowScanner) (*Station, error) {
	var st Station
	var created int64
	err := r.Scan(&st.PlaceCode, &st.PlaceName, &st.UnitName, &st.UnitCreditCode, &st.ServerURL, &st.PublicKeyPEM,
		&st.ChainSeq, &st.ChainHash, &st.UnsyncedCount, &st.UnsyncedAmount, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	st.CreatedAt = fromMillis(created)
	return &st, nil
}

// keyCache keeps the parsed signing key; the PEM is re-read in every issuing
// transaction, and parsed again only if it changed (re-enrollment).
type keyCache struct {
	mu  sync.Mutex
	pem string
	key *bill.PrivateKey
}

var signingKeys keyCache

func (c *keyCache) get(pem string) (*bill.PrivateKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != nil && c.pem == pem {
		return c.key, nil
	}
	k, err := bill.ParsePrivateKeyPEM(pem)
	if err != nil {
		return nil, err
	}
	c.pem, c.key = pem, k
	return k, nil
}

// Setting keys.
const (
	settingLimits     = "offline_limits"
	settingStockAlert = "stock_alert"
)

// DefaultStockAlert is the remaining count per bill code below which the
// station warns, until the server sends its own threshold.
const DefaultStockAlert = 200

// SetLimits stores the offline limits; source says who set them
// ("server" or "default").
func (s *Store) SetLimits(ctx context.Context, l bill.Limits, source string) error {
	return s.setSetting(ctx, settingLimits, l, source)
}

// Limits returns the offline limits in force: the server's, or the defaults.
func (s *Store) Limits(ctx context.Context) (bill.Limits, error) {
	return readLimits(ctx, s.read)
}

// SetStockAlert stores the threshold of the stock alert.
func (s *Store) SetStockAlert(ctx context.Context, remaining int64, source string) error {
	if remaining < 0 {
		return bill.Errorf(bill.EInvalid, "库存预警阈值不能为负数")
	}
	return s.setSetting(ctx, settingStockAlert, remaining, source)
}

func (s *Store) setSetting(ctx context.Context, key string, v any, source string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, source, updated_at) VALUES (?,?,?,?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at`,
			key, string(b), source, nowMillis(s.now()))
		return err
	})
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readSetting(ctx context.Context, q querier, key string, v any) (bool, error) {
	var raw string
	err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal([]byte(raw), v)
}

func readLimits(ctx context.Context, q querier) (bill.Limits, error) {
	l := bill.DefaultLimits
	_, err := readSetting(ctx, q, settingLimits, &l)
	return l, err
}

func readStockAlert(ctx context.Context, q querier) (int64, error) {
	n := int64(DefaultStockAlert)
	_, err := readSetting(ctx, q, settingStockAlert, &n)
	return n, err
}

// SetBillKind says under which bill code bills of a kind are issued here.
func (s *Store) SetBillKind(ctx context.Context, k bill.Kind, billCode string) error {
	if _, err := bill.ParseKind(string(k)); err != nil {
		return err
	}
	if err := bill.CheckBillCode(billCode); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO bill_kinds (kind, bill_code, name) VALUES (?,?,?)
			ON CONFLICT (kind) DO UPDATE SET bill_code = excluded.bill_code, name = excluded.name`,
			string(k), billCode, k.Name())
		return err
	})
}

// BillKinds returns the bill code of each configured kind.
func (s *Store) BillKinds(ctx context.Context) (map[bill.Kind]string, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT kind, bill_code FROM bill_kinds")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[bill.Kind]string{}
	for rows.Next() {
		var k, c string
		if err := rows.Scan(&k, &c); err != nil {
			return nil, err
		}
		m[bill.Kind(k)] = c
	}
	return m, rows.Err()
}

func billCodeFor(ctx context.Context, tx *sql.Tx, k bill.Kind) (string, error) {
	var code string
	err := tx.QueryRowContext(ctx, "SELECT bill_code FROM bill_kinds WHERE kind = ?", string(k)).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", bill.Errorf(bill.ENoStock, "本开票点未配置%s票据的票据代码，无法开具；请联网同步基础数据或联系票据管理员。", k.Name())
	}
	return code, err
}
