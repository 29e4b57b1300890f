package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	Fingerprint    string // pinned TLS certificate fingerprint, for a self-signed server
	PublicKeyPEM   string
	ChainSeq       int64
	ChainHash      string
	UnsyncedCount  int
	UnsyncedAmount bill.Money
	OldestUnsynced time.Time // zero when nothing waits for upload
	ConfigVersion  int64     // changes whenever settings or bill kinds change
	CreatedAt      time.Time
}

// InitParams describe a new station.
type InitParams struct {
	PlaceCode      string
	PlaceName      string
	UnitName       string
	UnitCreditCode string
	ServerURL      string
	Fingerprint    string           // pinned TLS certificate of a self-signed server
	Key            *bill.PrivateKey // nil: a new key pair is generated
	Enrollment     *Enrollment      // what the server gave an enrolling station; nil for demo or manual setup
}

// Enrollment is what a station receives when it enrolls, stored together
// with its identity in one transaction.
type Enrollment struct {
	Limits     bill.Limits
	StockAlert int64
	Refill     int64
	Desk       DeskSettings
	BillKinds  map[bill.Kind]string
	Segments   []bill.Segment
	MasterData MasterData
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
	err = s.tx(ctx, func(tx *wtx) error {
		var existing string
		switch err := tx.QueryRowContext(ctx, "SELECT place_code FROM station").Scan(&existing); {
		case err == nil:
			return bill.Errorf(bill.EConflict, "本机已初始化为开票点 %s，不能重复初始化。", existing)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO station (id, place_code, place_name, unit_name, unit_credit_code,
			server_url, server_fingerprint, private_key, public_key, chain_hash, created_at) VALUES (1,?,?,?,?,?,?,?,?,?,?)`,
			p.PlaceCode, p.PlaceName, p.UnitName, p.UnitCreditCode, p.ServerURL, p.Fingerprint, privPEM, pubPEM,
			bill.GenesisHash, nowMillis(s.now()))
		if err != nil || p.Enrollment == nil {
			return err
		}
		return s.applyEnrollment(ctx, tx, p.Enrollment)
	})
	if err != nil {
		return nil, err
	}
	return s.Station(ctx)
}

func (s *Store) applyEnrollment(ctx context.Context, tx *wtx, e *Enrollment) error {
	if err := s.setSettingTx(ctx, tx, settingLimits, e.Limits, "server"); err != nil {
		return err
	}
	if err := s.setSettingTx(ctx, tx, settingStockAlert, e.StockAlert, "server"); err != nil {
		return err
	}
	if err := s.setSettingTx(ctx, tx, settingRefill, e.Refill, "server"); err != nil {
		return err
	}
	if err := s.setSettingTx(ctx, tx, settingDesk, e.Desk, "server"); err != nil {
		return err
	}
	for k, code := range e.BillKinds {
		if err := setBillKindTx(ctx, tx, k, code); err != nil {
			return err
		}
	}
	for _, seg := range e.Segments {
		if _, err := s.addSegmentTx(ctx, tx, seg, SourceServer); err != nil {
			return err
		}
	}
	return s.applyMasterTx(ctx, tx, e.MasterData)
}

// Station returns this point's identity; ErrNotInitialized before Init.
func (s *Store) Station(ctx context.Context) (*Station, error) {
	return scanStation(s.read.QueryRowContext(ctx, stationCols+" FROM station"))
}

const stationCols = `SELECT place_code, place_name, unit_name, unit_credit_code, server_url, server_fingerprint, public_key,
	chain_seq, chain_hash, unsynced_count, unsynced_amount, oldest_unsynced, config_version, created_at`

type rowScanner interface{ Scan(...any) error }

func scanStation(r rowScanner) (*Station, error) {
	var st Station
	var created int64
	var oldest sql.NullInt64
	err := r.Scan(&st.PlaceCode, &st.PlaceName, &st.UnitName, &st.UnitCreditCode, &st.ServerURL, &st.Fingerprint, &st.PublicKeyPEM,
		&st.ChainSeq, &st.ChainHash, &st.UnsyncedCount, &st.UnsyncedAmount, &oldest, &st.ConfigVersion, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	st.CreatedAt = fromMillis(created)
	if oldest.Valid {
		st.OldestUnsynced = fromMillis(oldest.Int64)
	}
	return &st, nil
}

// keyCache keeps the parsed signing key; the PEM is re-read in every issuing
// transaction, and parsed again only if it changed (re-enrollment).
type keyCache struct {
	mu  sync.Mutex
	pem string
	key *bill.PrivateKey
}

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
	settingRefill     = "refill_threshold"
	settingDesk       = "desk"
	settingIssueBlock = "issue_block" // why issuing is stopped ("" or absent: it is not)
)

// DeskSettings are the billing point's settings for its desk, set centrally.
type DeskSettings struct {
	DefaultPayChannel string `json:"defaultPayChannel,omitempty"` // the pay channel a new bill starts with; cash when empty
	Checker           string `json:"checker,omitempty"`           // 复核人 on the point's bills
}

// CashPayChannel is the pay channel a new bill starts with when the
// billing point has no default of its own.
const CashPayChannel = "02"

// SetDeskSettings stores the desk settings the server set.
func (s *Store) SetDeskSettings(ctx context.Context, d DeskSettings, source string) error {
	return s.setSetting(ctx, settingDesk, d, source)
}

// DeskSettings are the desk settings in force; DefaultPayChannel is cash
// when the point has none.
func (s *Store) DeskSettings(ctx context.Context) (DeskSettings, error) {
	cfg, err := loadConfig(ctx, s.read)
	d := cfg.desk
	if d.DefaultPayChannel == "" {
		d.DefaultPayChannel = CashPayChannel
	}
	return d, err
}

// DefaultRefillThreshold is the remaining count per bill code below which
// the sync service asks for a new segment, until the server sends its own.
const DefaultRefillThreshold = 300

// SetRefillThreshold stores the refill threshold the server set.
func (s *Store) SetRefillThreshold(ctx context.Context, remaining int64, source string) error {
	if remaining < 0 {
		return bill.Errorf(bill.EInvalid, "补号阈值不能为负数")
	}
	return s.setSetting(ctx, settingRefill, remaining, source)
}

// RefillThreshold is the refill threshold in force.
func (s *Store) RefillThreshold(ctx context.Context) (int64, error) {
	cfg, err := loadConfig(ctx, s.read)
	return cfg.refill, err
}

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
	cfg, err := loadConfig(ctx, s.read)
	return cfg.limits, err
}

// BlockIssuing stops issuing and reversing at this station, saying why
// ("" lets it issue again). The sync service sets it when the server holds
// more of this station's chain than the station itself: the database is
// older than what it issued (restored from an old backup, or replaced),
// and issuing on it would reuse numbers.
func (s *Store) BlockIssuing(ctx context.Context, reason string) error {
	return s.setSetting(ctx, settingIssueBlock, reason, "sync")
}

// IssueBlocked is why issuing is stopped, or "".
func (s *Store) IssueBlocked(ctx context.Context) (string, error) {
	cfg, err := loadConfig(ctx, s.read)
	return cfg.blocked, err
}

// SetStockAlert stores the threshold of the stock alert.
func (s *Store) SetStockAlert(ctx context.Context, remaining int64, source string) error {
	if remaining < 0 {
		return bill.Errorf(bill.EInvalid, "库存预警阈值不能为负数")
	}
	return s.setSetting(ctx, settingStockAlert, remaining, source)
}

func (s *Store) setSetting(ctx context.Context, key string, v any, source string) error {
	return s.tx(ctx, func(tx *wtx) error { return s.setSettingTx(ctx, tx, key, v, source) })
}

func (s *Store) setSettingTx(ctx context.Context, tx *wtx, key string, v any, source string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, source, updated_at) VALUES (?,?,?,?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at`,
		key, string(b), source, nowMillis(s.now()))
	if err != nil {
		return err
	}
	return bumpConfig(ctx, tx)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// config is the settings in force, defaults filled in, and the bill code
// of each kind.
type config struct {
	limits     bill.Limits
	stockAlert int64
	refill     int64
	desk       DeskSettings
	billCodes  map[bill.Kind]string
	blocked    string // issuing stopped, and why (BlockIssuing)
}

// issuable says whether bills (and red bills) may be issued now.
func (c config) issuable() error {
	if c.blocked != "" {
		return bill.Errorf(bill.ETampered, "%s", c.blocked)
	}
	return nil
}

// loadConfig reads every setting and bill kind.
func loadConfig(ctx context.Context, q querier) (config, error) {
	cfg := config{limits: bill.DefaultLimits, stockAlert: DefaultStockAlert, refill: DefaultRefillThreshold, billCodes: map[bill.Kind]string{}}
	kinds, err := q.QueryContext(ctx, "SELECT kind, bill_code FROM bill_kinds")
	if err != nil {
		return cfg, err
	}
	for kinds.Next() {
		var k, c string
		if err := kinds.Scan(&k, &c); err != nil {
			kinds.Close()
			return cfg, err
		}
		cfg.billCodes[bill.Kind(k)] = c
	}
	kinds.Close()
	// Only the settings the config holds: others (the seal image, printer
	// settings) are read where they are used.
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM settings WHERE key IN (?, ?, ?, ?, ?)",
		settingLimits, settingStockAlert, settingRefill, settingDesk, settingIssueBlock)
	if err != nil {
		return cfg, err
	}
	defer rows.Close()
	for rows.Next() {
		var key, raw string
		if err := rows.Scan(&key, &raw); err != nil {
			return cfg, err
		}
		switch key {
		case settingLimits:
			err = json.Unmarshal([]byte(raw), &cfg.limits)
		case settingStockAlert:
			err = json.Unmarshal([]byte(raw), &cfg.stockAlert)
		case settingRefill:
			err = json.Unmarshal([]byte(raw), &cfg.refill)
		case settingDesk:
			err = json.Unmarshal([]byte(raw), &cfg.desk)
		case settingIssueBlock:
			err = json.Unmarshal([]byte(raw), &cfg.blocked)
		}
		if err != nil {
			return cfg, fmt.Errorf("localstore: setting %s: %w", key, err)
		}
	}
	return cfg, rows.Err()
}

// SetBillKind says under which bill code bills of a kind are issued here.
func (s *Store) SetBillKind(ctx context.Context, k bill.Kind, billCode string) error {
	return s.tx(ctx, func(tx *wtx) error { return setBillKindTx(ctx, tx, k, billCode) })
}

func setBillKindTx(ctx context.Context, tx *wtx, k bill.Kind, billCode string) error {
	if _, err := bill.ParseKind(string(k)); err != nil {
		return err
	}
	if err := bill.CheckBillCode(billCode); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO bill_kinds (kind, bill_code, name) VALUES (?,?,?)
		ON CONFLICT (kind) DO UPDATE SET bill_code = excluded.bill_code, name = excluded.name`,
		string(k), billCode, k.Name())
	if err != nil {
		return err
	}
	return bumpConfig(ctx, tx)
}

// BillKinds returns the bill code of each configured kind.
func (s *Store) BillKinds(ctx context.Context) (map[bill.Kind]string, error) {
	cfg, err := loadConfig(ctx, s.read)
	return cfg.billCodes, err
}

// bumpConfig tells every process that cached the configuration to reload it.
func bumpConfig(ctx context.Context, tx *wtx) error {
	_, err := tx.ExecContext(ctx, "UPDATE station SET config_version = config_version + 1")
	return err
}

// billCodeFor is the bill code of kind k at this point.
func (c config) billCodeFor(k bill.Kind) (string, error) {
	code, ok := c.billCodes[k]
	if !ok {
		return "", bill.Errorf(bill.ENoStock, "本开票点未配置%s票据的票据代码，无法开具；请联网同步基础数据或联系票据管理员。", k.Name())
	}
	return code, nil
}

// configCache keeps the configuration of one Store between transactions;
// it is reloaded when the station row's config_version moves.
type configCache struct {
	mu      sync.Mutex
	version int64
	valid   bool
	cfg     config
}

// config returns the configuration in force inside tx, given the station's
// config_version read in the same transaction.
func (s *Store) config(ctx context.Context, tx *wtx, version int64) (config, error) {
	s.cfg.mu.Lock()
	defer s.cfg.mu.Unlock()
	if s.cfg.valid && s.cfg.version == version {
		return s.cfg.cfg, nil
	}
	cfg, err := loadConfig(ctx, tx)
	if err != nil {
		return cfg, err
	}
	s.cfg.cfg, s.cfg.version, s.cfg.valid = cfg, version, true
	return cfg, nil
}

// SigningKey returns this station's SM2 private key, for signing requests
// to the server.
func (s *Store) SigningKey(ctx context.Context) (*bill.PrivateKey, error) {
	var pem string
	err := s.read.QueryRowContext(ctx, "SELECT private_key FROM station").Scan(&pem)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	return s.keys.get(pem)
}

// SetServer changes the server address (and pinned certificate) of an
// enrolled station: the server moved to another address.
// InsecureEnv, set to 1, lets a station talk to a server over plain HTTP:
// for test benches that read the traffic, never for a hospital.
const InsecureEnv = "EBILL_INSECURE_HTTP"

func (s *Store) SetServer(ctx context.Context, url, fingerprint string) error {
	if !strings.HasPrefix(url, "https://") && !(strings.HasPrefix(url, "http://") && os.Getenv(InsecureEnv) == "1") {
		return bill.Errorf(bill.EInvalid, "服务器地址必须以 https:// 开头，例如 https://192.168.1.10:8443：票据含身份证号、电话，不能明文传输。")
	}
	return s.tx(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, "UPDATE station SET server_url = ?, server_fingerprint = ?", url, fingerprint)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotInitialized
		}
		return nil
	})
}
