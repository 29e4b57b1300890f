package localstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// ChargeItem is an entry of the charge-item catalogue kept at the station.
type ChargeItem struct {
	Code         string
	Name         string
	Pinyin       string
	CategoryCode string
	Unit         string
	Spec         string
	Price        bill.Money4
	MedicalClass string
	Disabled     bool
}

// PayChannel is a payment channel.
type PayChannel struct {
	Code     string
	Name     string
	Disabled bool
}

// OfflineUser is what the station keeps to sign a user in while offline.
type OfflineUser struct {
	Login        string
	Name         string
	PasswordHash string // bcrypt
	Roles        []string
	Disabled     bool
	MustChange   bool // signs in online only, to change the password
	SecondFactor bool // needs a second factor: works in the console, not at the desk
	Removed      bool // no longer held at this station: deleted
}

// Message is a notice from the centre.
type Message struct {
	ID        string
	Title     string
	Body      string
	CreatedAt time.Time
	Read      bool
}

// MasterData is a batch of master data changes from the server, and the
// version they bring the station to.
type MasterData struct {
	Version     int64
	ChargeItems []ChargeItem
	PayChannels []PayChannel
	Users       []OfflineUser
	Messages    []Message
	UnitSeal    []byte // the hospital's seal image, when it changed
	SealCleared bool   // the seal was removed
	// Paper is the paper distributed to this point, when PaperSent: the
	// whole list, replacing the last.
	Paper     []bill.Segment
	PaperSent bool
}

const masterVersionName = "master"

// ApplyMasterData stores a batch of master data changes and its version, in
// one transaction.
func (s *Store) ApplyMasterData(ctx context.Context, md MasterData) error {
	return s.tx(ctx, func(tx *wtx) error { return s.applyMasterTx(ctx, tx, md) })
}

func (s *Store) applyMasterTx(ctx context.Context, tx *wtx, md MasterData) error {
	if md.UnitSeal != nil || md.SealCleared {
		if err := s.setSettingTx(ctx, tx, settingUnitSeal, md.UnitSeal, "server"); err != nil {
			return err
		}
	}
	for _, it := range md.ChargeItems {
		if _, err := tx.ExecContext(ctx, `INSERT INTO charge_items (code, name, pinyin, category_code, unit, spec, price, medical_class, disabled, version)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, pinyin = excluded.pinyin,
			category_code = excluded.category_code, unit = excluded.unit, spec = excluded.spec, price = excluded.price,
			medical_class = excluded.medical_class, disabled = excluded.disabled, version = excluded.version`,
			it.Code, it.Name, it.Pinyin, it.CategoryCode, it.Unit, it.Spec, int64(it.Price), it.MedicalClass, it.Disabled, md.Version); err != nil {
			return err
		}
	}
	for _, pc := range md.PayChannels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pay_channels (code, name, disabled, version) VALUES (?,?,?,?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, disabled = excluded.disabled, version = excluded.version`,
			pc.Code, pc.Name, pc.Disabled, md.Version); err != nil {
			return err
		}
	}
	for _, u := range md.Users {
		if u.Removed {
			if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE login = ?", u.Login); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (login, name, password_hash, roles, disabled, must_change, second_factor, version)
			VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT (login) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash, roles = excluded.roles,
			disabled = excluded.disabled, must_change = excluded.must_change, second_factor = excluded.second_factor, version = excluded.version`,
			u.Login, u.Name, u.PasswordHash, strings.Join(u.Roles, ","), u.Disabled, u.MustChange, u.SecondFactor, md.Version); err != nil {
			return err
		}
	}
	for _, m := range md.Messages {
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages (id, title, body, created_at, version) VALUES (?,?,?,?,?)
			ON CONFLICT (id) DO NOTHING`, m.ID, m.Title, m.Body, nowMillis(m.CreatedAt), md.Version); err != nil {
			return err
		}
	}
	if md.PaperSent {
		if _, err := tx.ExecContext(ctx, "DELETE FROM paper_distributed"); err != nil {
			return err
		}
		for _, r := range md.Paper {
			if _, err := tx.ExecContext(ctx, "INSERT INTO paper_distributed (paper_code, start_no, end_no) VALUES (?,?,?)", r.Code, r.Start, r.End); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO master_versions (name, version) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET version = excluded.version`, paperVersionName, md.Version); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO master_versions (name, version) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version`, masterVersionName, md.Version)
	return err
}

// paperVersionName marks that the server has sent the point's distributed
// paper: from then on intake is limited to it.
const paperVersionName = "paper"

// DistributedPaper is the paper the server distributed to this point, and
// whether it has said (a station of an older server, or one never synced,
// has no list).
func (s *Store) DistributedPaper(ctx context.Context) ([]bill.Segment, bool, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, "SELECT version FROM master_versions WHERE name = ?", paperVersionName).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rows, err := s.read.QueryContext(ctx, "SELECT paper_code, start_no, end_no FROM paper_distributed ORDER BY paper_code, start_no")
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []bill.Segment
	for rows.Next() {
		var r bill.Segment
		if err := rows.Scan(&r.Code, &r.Start, &r.End); err != nil {
			return nil, false, err
		}
		out = append(out, r)
	}
	return out, true, rows.Err()
}

// MasterVersion is the master data version the station holds (0: none).
func (s *Store) MasterVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, "SELECT version FROM master_versions WHERE name = ?", masterVersionName).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// SearchChargeItems finds enabled items by code prefix, pinyin initials
// prefix ("qmsp" finds 青霉素片) or part of the name, best matches first.
func (s *Store) SearchChargeItems(ctx context.Context, q string, limit int) ([]ChargeItem, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 20
	}
	like := escapeLike(strings.ToLower(q))
	rows, err := s.read.QueryContext(ctx, `SELECT code, name, pinyin, category_code, unit, spec, price, medical_class FROM charge_items
		WHERE disabled = 0 AND (code LIKE ?1 || '%' ESCAPE '\' OR pinyin LIKE ?1 || '%' ESCAPE '\' OR name LIKE '%' || ?2 || '%' ESCAPE '\')
		ORDER BY (code = ?3) DESC, (pinyin = ?1) DESC, length(pinyin), code LIMIT ?4`, like, escapeLike(q), q, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChargeItem
	for rows.Next() {
		var it ChargeItem
		if err := rows.Scan(&it.Code, &it.Name, &it.Pinyin, &it.CategoryCode, &it.Unit, &it.Spec, &it.Price, &it.MedicalClass); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// PayChannels lists the enabled pay channels.
func (s *Store) PayChannels(ctx context.Context) ([]PayChannel, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT code, name FROM pay_channels WHERE disabled = 0 ORDER BY code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PayChannel
	for rows.Next() {
		var pc PayChannel
		if err := rows.Scan(&pc.Code, &pc.Name); err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, rows.Err()
}

// OfflineUserByLogin returns the cached user for an offline sign-in.
func (s *Store) OfflineUserByLogin(ctx context.Context, login string) (*OfflineUser, error) {
	var u OfflineUser
	var roles string
	err := s.read.QueryRowContext(ctx, "SELECT login, name, password_hash, roles, disabled, must_change, second_factor FROM users WHERE login = ?", login).
		Scan(&u.Login, &u.Name, &u.PasswordHash, &roles, &u.Disabled, &u.MustChange, &u.SecondFactor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "本机没有用户 %s 的登录信息；请联网登录一次。", login)
	}
	if err != nil {
		return nil, err
	}
	u.Roles = strings.Split(roles, ",")
	return &u, nil
}

// Messages lists the messages from the centre, newest first.
func (s *Store) Messages(ctx context.Context) ([]Message, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT id, title, body, created_at, read_at IS NOT NULL FROM messages ORDER BY created_at DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at int64
		if err := rows.Scan(&m.ID, &m.Title, &m.Body, &at, &m.Read); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMillis(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

const settingUnitSeal = "unit_seal"

// UnitSeal is the hospital's seal image (PNG) the bills print, nil when the
// server has none.
func (s *Store) UnitSeal(ctx context.Context) ([]byte, error) {
	var seal []byte
	_, err := s.readSetting(ctx, settingUnitSeal, &seal)
	return seal, err
}
