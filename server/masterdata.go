package server

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mozillazg/go-pinyin"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/sync/wire"
)

// PinyinInitials returns the initials a cashier types to find an item:
// 青霉素片 → qmsp. Letters and digits are kept (lowercased); other
// characters are dropped.
func PinyinInitials(name string) string {
	args := pinyin.NewArgs()
	args.Style = pinyin.FirstLetter
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Han, r):
			if p := pinyin.SinglePinyin(r, args); len(p) > 0 {
				b.WriteString(p[0])
			}
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// nextMasterVersion takes the next master-data version in the transaction.
func (t *dbtx) nextMasterVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := t.queryRow(ctx, "SELECT version FROM master_seq WHERE id = 1"+t.s.forUpdate()).Scan(&v); err != nil {
		return 0, err
	}
	v++
	_, err := t.exec(ctx, "UPDATE master_seq SET version = ? WHERE id = 1", v)
	return v, err
}

// ImportChargeItems reads the charge-item catalogue from CSV with the header
// code,name,category,unit,spec,price,class (price in yuan, up to 4
// decimals) and adds or replaces each item, computing its pinyin initials.
// Nothing is stored if any row is wrong; the error names the row.
func (s *Store) ImportChargeItems(ctx context.Context, r io.Reader) (int, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return 0, bill.Errorf(bill.EInvalid, "收费项目文件不是合法的 CSV：%v", err)
	}
	return s.ImportChargeItemRows(ctx, rows)
}

// ChargeItemHeader is the first row of a charge-item file, CSV or Excel.
const ChargeItemHeader = "code,name,category,unit,spec,price,class"

// ImportChargeItemRows imports rows read from a CSV or Excel file, the
// first being ChargeItemHeader (or its Chinese names).
func (s *Store) ImportChargeItemRows(ctx context.Context, rows [][]string) (int, error) {
	if _, err := s.authorize(ctx, PermUnitManage); err != nil {
		return 0, err
	}
	var err error
	if len(rows) > 0 && strings.Join(rows[0], ",") == "编码,名称,类别,单位,规格,单价,医保类别" {
		rows[0] = strings.Split(ChargeItemHeader, ",")
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != ChargeItemHeader {
		return 0, bill.Errorf(bill.EInvalid, "收费项目文件第一行应为 code,name,category,unit,spec,price,class（或 编码,名称,类别,单位,规格,单价,医保类别），其后每行一个项目。")
	}
	if len(rows) > 100_001 {
		return 0, bill.Errorf(bill.EInvalid, "一次最多导入 10 万个收费项目。")
	}
	for i, row := range rows {
		for len(row) < 7 {
			row = append(row, "")
		}
		rows[i] = row
	}
	items := make([]wire.ChargeItem, 0, len(rows)-1)
	for i, row := range rows[1:] {
		it := wire.ChargeItem{Code: strings.TrimSpace(row[0]), Name: strings.TrimSpace(row[1]), CategoryCode: strings.TrimSpace(row[2]),
			Unit: row[3], Spec: row[4], MedicalClass: row[6]}
		if it.Code == "" || it.Name == "" || it.CategoryCode == "" {
			return 0, bill.Errorf(bill.EInvalid, "第 %d 行：编码、名称、类别不能为空。", i+2)
		}
		if it.Price, err = bill.ParseMoney4(row[5]); err != nil {
			return 0, bill.Errorf(bill.EInvalid, "第 %d 行价格：%s", i+2, bill.ErrorMessage(err))
		}
		it.Pinyin = PinyinInitials(it.Name)
		items = append(items, it)
	}
	err = s.tx(ctx, func(t *dbtx) error {
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		for _, it := range items {
			if _, err := t.exec(ctx, `INSERT INTO charge_items (code, name, pinyin, category_code, unit, spec, price, medical_class, disabled, version)
				VALUES (?,?,?,?,?,?,?,?,0,?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, pinyin = excluded.pinyin,
				category_code = excluded.category_code, unit = excluded.unit, spec = excluded.spec, price = excluded.price,
				medical_class = excluded.medical_class, disabled = 0, version = excluded.version`,
				it.Code, it.Name, it.Pinyin, it.CategoryCode, it.Unit, it.Spec, int64(it.Price), it.MedicalClass, v); err != nil {
				return err
			}
		}
		return t.audit(ctx, "items.import", fmt.Sprintf("%d", len(items)), map[string]any{"version": v})
	})
	return len(items), err
}

// SetPayChannel adds or renames a pay channel code.
func (s *Store) SetPayChannel(ctx context.Context, code, name string, disabled bool) error {
	if strings.TrimSpace(code) == "" || strings.TrimSpace(name) == "" {
		return bill.Errorf(bill.EInvalid, "交费渠道的编码和名称不能为空。")
	}
	return s.tx(ctx, func(t *dbtx) error {
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO pay_channels (code, name, disabled, version) VALUES (?,?,?,?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, disabled = excluded.disabled, version = excluded.version`,
			code, name, boolInt(disabled), v); err != nil {
			return err
		}
		return t.audit(ctx, "paychannel.set", code, map[string]any{"name": name, "disabled": disabled})
	})
}

// CheckPayChannel says whether code is a pay channel in use: a billing
// point's default must be one the desk can offer.
func (s *Store) CheckPayChannel(ctx context.Context, code string) error {
	var disabled int
	err := s.queryRow(ctx, "SELECT disabled FROM pay_channels WHERE code = ?", code).Scan(&disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return bill.Errorf(bill.EInvalid, "没有编码为 %s 的交费渠道；请先用 paychannel set 添加。", code)
	case err != nil:
		return err
	case disabled != 0:
		return bill.Errorf(bill.EInvalid, "交费渠道 %s 已停用，不能作为默认支付方式。", code)
	}
	return nil
}

// PayChannelNames names the pay channel codes (disabled ones too: old
// bills were paid through them), for printing a bill.
func (s *Store) PayChannelNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.query(ctx, "SELECT code, name FROM pay_channels")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, err
		}
		names[code] = name
	}
	return names, rows.Err()
}

// PostMessage sends a notice to one point's station, or to all ("").
func (s *Store) PostMessage(ctx context.Context, point, title, body string) error {
	if strings.TrimSpace(title) == "" {
		return bill.Errorf(bill.EInvalid, "请填写消息标题。")
	}
	return s.tx(ctx, func(t *dbtx) error {
		_, err := s.insertMessage(ctx, t, Message{Point: point, Title: title, Body: body, Author: personOf(ctx)}, "")
		return err
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MasterDataSince returns the master data changed after version since, for
// a point (its messages and those for every point).
func (s *Store) MasterDataSince(ctx context.Context, point string, since int64) (wire.MasterData, error) {
	return masterData(ctx, s, point, since)
}

func (s *Store) masterDataTx(ctx context.Context, t *dbtx, point string) (wire.MasterData, error) {
	return masterData(ctx, t, point, 0)
}

// querier is a Store or a transaction.
type querier interface {
	query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// stationAccount reports whether a station of point may hold an account:
// a cashier's or exam nurse's, allowed at that point (points ” is any).
// Administrators and the finance office never sign in at a desk, so no
// station holds their password hashes (security.md, secrets at rest).
func stationAccount(roles []string, points, point string) bool {
	if !slices.Contains(roles, RoleCashier) && !slices.Contains(roles, RoleExamNurse) {
		return false
	}
	return points == "" || slices.Contains(strings.Split(points, ","), point)
}

func masterData(ctx context.Context, s querier, point string, since int64) (wire.MasterData, error) {
	md := wire.MasterData{ChargeItems: []wire.ChargeItem{}, PayChannels: []wire.PayChannel{}, Users: []wire.User{}, Messages: []wire.Message{}}
	if err := s.queryRow(ctx, "SELECT version FROM master_seq WHERE id = 1").Scan(&md.Version); err != nil {
		return md, err
	}
	// The seal image only when it changed since the station's version (a
	// pull runs every few seconds; the image is up to 256 KB).
	var seal []byte
	switch err := s.queryRow(ctx, "SELECT seal FROM unit WHERE id = 1 AND seal_version > ?", since).Scan(&seal); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return md, err
	case len(seal) > 0:
		md.UnitSeal = seal
	case since > 0:
		md.UnitSealCleared = true
	}
	var paperVersion int64
	switch err := s.queryRow(ctx, "SELECT paper_version FROM points WHERE code = ?", point).Scan(&paperVersion); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return md, err
	case since == 0 || paperVersion > since:
		if md.Paper, err = distributedPaper(ctx, s, point); err != nil {
			return md, err
		}
		md.PaperSent = true
	}
	rows, err := s.query(ctx, `SELECT code, name, pinyin, category_code, unit, spec, price, medical_class, disabled, version
		FROM charge_items WHERE version > ? ORDER BY code`, since)
	if err != nil {
		return md, err
	}
	for rows.Next() {
		var it wire.ChargeItem
		var disabled int
		if err := rows.Scan(&it.Code, &it.Name, &it.Pinyin, &it.CategoryCode, &it.Unit, &it.Spec, &it.Price, &it.MedicalClass, &disabled, &it.Version); err != nil {
			rows.Close()
			return md, err
		}
		it.Disabled = disabled != 0
		md.ChargeItems = append(md.ChargeItems, it)
	}
	rows.Close()
	if rows, err = s.query(ctx, "SELECT code, name, disabled, version FROM pay_channels WHERE version > ? OR ? = 0 ORDER BY code", since, since); err != nil {
		return md, err
	}
	for rows.Next() {
		var pc wire.PayChannel
		var disabled int
		if err := rows.Scan(&pc.Code, &pc.Name, &disabled, &pc.Version); err != nil {
			rows.Close()
			return md, err
		}
		pc.Disabled = disabled != 0
		md.PayChannels = append(md.PayChannels, pc)
	}
	rows.Close()
	policy, err := policyOf(ctx, s)
	if err != nil {
		return md, err
	}
	if rows, err = s.query(ctx, "SELECT login, name, password_hash, roles, disabled, must_change, version, points FROM users WHERE version > ? ORDER BY login", since); err != nil {
		return md, err
	}
	for rows.Next() {
		var u wire.User
		var roles, points string
		var disabled, mustChange int
		if err := rows.Scan(&u.Login, &u.Name, &u.PasswordHash, &roles, &disabled, &mustChange, &u.Version, &points); err != nil {
			rows.Close()
			return md, err
		}
		u.Roles, u.Disabled, u.MustChange = strings.Split(roles, ","), disabled != 0, mustChange != 0
		u.SecondFactor = policy.NeedsMFA(u.Roles)
		if !stationAccount(u.Roles, points, point) {
			// Not this desk's: the station drops what it held of it.
			u = wire.User{Login: u.Login, Disabled: true, Removed: true, Version: u.Version}
		}
		md.Users = append(md.Users, u)
	}
	rows.Close()
	if rows, err = s.query(ctx, `SELECT id, title, body, created_at, version FROM messages
		WHERE version > ? AND (point_code = '' OR point_code = ?) AND role IN ('', 'cashier', 'exam_nurse') ORDER BY version`, since, point); err != nil {
		return md, err
	}
	defer rows.Close()
	for rows.Next() {
		var m wire.Message
		var at int64
		if err := rows.Scan(&m.ID, &m.Title, &m.Body, &at, &m.Version); err != nil {
			return md, err
		}
		m.CreatedAt = time.UnixMilli(at).UTC()
		md.Messages = append(md.Messages, m)
	}
	return md, rows.Err()
}

// distributedPaper is the paper a point holds: distributed, not returned.
func distributedPaper(ctx context.Context, s querier, point string) ([]wire.PaperRange, error) {
	rows, err := s.query(ctx, `SELECT paper_code, start_no, end_no FROM point_paper WHERE point_code = ? AND returned_at IS NULL
		ORDER BY paper_code, start_no`, point)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []wire.PaperRange{}
	for rows.Next() {
		var r wire.PaperRange
		if err := rows.Scan(&r.Code, &r.Start, &r.End); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PayChannelInfo is a payment channel as the console lists it.
type PayChannelInfo struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled"`
}

// PayChannels lists the payment channels.
func (s *Store) PayChannels(ctx context.Context) ([]PayChannelInfo, error) {
	rows, err := s.query(ctx, "SELECT code, name, disabled FROM pay_channels ORDER BY code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PayChannelInfo
	for rows.Next() {
		var pc PayChannelInfo
		var disabled int
		if err := rows.Scan(&pc.Code, &pc.Name, &disabled); err != nil {
			return nil, err
		}
		pc.Disabled = disabled != 0
		out = append(out, pc)
	}
	return out, rows.Err()
}

// ChargeItemInfo is a charge item as the console lists it.
type ChargeItemInfo = wire.ChargeItem

// ChargeItems finds items by code prefix, pinyin initials prefix or part
// of the name ("" lists all), at most limit, disabled ones included.
func (s *Store) ChargeItems(ctx context.Context, q string, limit int) ([]ChargeItemInfo, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q))
	rows, err := s.query(ctx, `SELECT code, name, pinyin, category_code, unit, spec, price, medical_class, disabled, version FROM charge_items
		WHERE ? = '' OR lower(code) LIKE ? ESCAPE '\' OR pinyin LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\'
		ORDER BY code LIMIT ?`, q, like+"%", like+"%", "%"+like+"%", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChargeItemInfo
	for rows.Next() {
		var it ChargeItemInfo
		var disabled int
		if err := rows.Scan(&it.Code, &it.Name, &it.Pinyin, &it.CategoryCode, &it.Unit, &it.Spec, &it.Price, &it.MedicalClass, &disabled, &it.Version); err != nil {
			return nil, err
		}
		it.Disabled = disabled != 0
		out = append(out, it)
	}
	return out, rows.Err()
}

// SetChargeItem edits one item (or disables it); stations receive it at
// their next pull.
func (s *Store) SetChargeItem(ctx context.Context, it ChargeItemInfo) error {
	if _, err := s.authorize(ctx, PermUnitManage); err != nil {
		return err
	}
	it.Code, it.Name, it.CategoryCode = strings.TrimSpace(it.Code), strings.TrimSpace(it.Name), strings.TrimSpace(it.CategoryCode)
	if it.Code == "" || it.Name == "" || it.CategoryCode == "" {
		return bill.Errorf(bill.EInvalid, "收费项目的编码、名称、类别不能为空。")
	}
	if it.Price < 0 {
		return bill.Errorf(bill.EInvalid, "单价不能为负数。")
	}
	it.Pinyin = PinyinInitials(it.Name)
	return s.tx(ctx, func(t *dbtx) error {
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO charge_items (code, name, pinyin, category_code, unit, spec, price, medical_class, disabled, version)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, pinyin = excluded.pinyin,
			category_code = excluded.category_code, unit = excluded.unit, spec = excluded.spec, price = excluded.price,
			medical_class = excluded.medical_class, disabled = excluded.disabled, version = excluded.version`,
			it.Code, it.Name, it.Pinyin, it.CategoryCode, it.Unit, it.Spec, int64(it.Price), it.MedicalClass, boolInt(it.Disabled), v); err != nil {
			return err
		}
		return t.audit(ctx, "item.set", it.Code, it)
	})
}
