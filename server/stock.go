package server

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"image/png"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// Stock kinds.
const (
	StockEInvoice = "einvoice" // e-bill numbers, allocated to points in segments
	StockPaper    = "paper"    // pre-printed paper bills
)

// Unit is the hospital that issues the bills.
type Unit struct {
	Name       string `json:"name"`
	CreditCode string `json:"creditCode"`
	// Seal is the hospital's registered seal (票据专用章) as a PNG, for
	// SetUnit (Unit leaves it out; UnitSeal reads it): nil keeps the one
	// set before, ClearSeal removes it.
	Seal      []byte `json:"-"`
	ClearSeal bool   `json:"-"`
}

// MaxSealBytes bounds the seal image (it rides with master data to every station).
const MaxSealBytes = 256 << 10

// SetUnit records the unit's name and unified social credit code.
func (s *Store) SetUnit(ctx context.Context, u Unit) error {
	if u.Name == "" {
		return bill.Errorf(bill.EInvalid, "请填写单位名称。")
	}
	if u.CreditCode != "" {
		if err := bill.CheckCreditCode(u.CreditCode); err != nil {
			return err
		}
	}
	if u.Seal != nil {
		if len(u.Seal) > MaxSealBytes {
			return bill.Errorf(bill.EInvalid, "票据专用章图片 %d KB，超过上限 %d KB；请缩小后再设置。", len(u.Seal)>>10, MaxSealBytes>>10)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(u.Seal)); err != nil {
			return bill.Errorf(bill.EInvalid, "票据专用章图片不是 PNG 文件：%v", err)
		}
	}
	return s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, `INSERT INTO unit (id, name, credit_code) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, credit_code = excluded.credit_code`, u.Name, u.CreditCode); err != nil {
			return err
		}
		if u.Seal != nil || u.ClearSeal {
			v, err := t.nextMasterVersion(ctx)
			if err != nil {
				return err
			}
			var seal any
			if !u.ClearSeal {
				seal = u.Seal
			}
			if _, err := t.exec(ctx, "UPDATE unit SET seal = ?, seal_version = ? WHERE id = 1", seal, v); err != nil {
				return err
			}
		}
		return t.audit(ctx, "unit.set", u.Name, map[string]any{"name": u.Name, "creditCode": u.CreditCode,
			"sealBytes": len(u.Seal), "clearSeal": u.ClearSeal})
	})
}

// Unit returns the unit's name and credit code (not its seal: every batch
// of bills reads the unit, see UnitSeal); an empty Unit before SetUnit.
func (s *Store) Unit(ctx context.Context) (Unit, error) {
	var u Unit
	err := s.queryRow(ctx, "SELECT name, credit_code FROM unit WHERE id = 1").Scan(&u.Name, &u.CreditCode)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, nil
	}
	return u, err
}

// UnitSeal is the hospital's seal image (PNG) printed on its bills, nil
// when none is set.
func (s *Store) UnitSeal(ctx context.Context) ([]byte, error) {
	var seal []byte
	err := s.queryRow(ctx, "SELECT seal FROM unit WHERE id = 1").Scan(&seal)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return seal, err
}

// SetBillKind says under which bill code a kind of bill is issued.
func (s *Store) SetBillKind(ctx context.Context, k bill.Kind, code string) error {
	if _, err := bill.ParseAnyKind(string(k)); err != nil {
		return err
	}
	if err := bill.CheckBillCode(code); err != nil {
		return err
	}
	return s.tx(ctx, func(t *dbtx) error {
		// A code may serve several medical kinds, but a server kind
		// (deposit vouchers, general bills) has a code of its own:
		// stations are given segments of the medical codes only.
		rows, err := t.query(ctx, "SELECT kind FROM bill_kinds WHERE bill_code = ? AND kind <> ?", code, string(k))
		if err != nil {
			return err
		}
		var others []bill.Kind
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return err
			}
			others = append(others, bill.Kind(o))
		}
		rows.Close()
		for _, o := range others {
			if !o.Medical() || !k.Medical() {
				return bill.Errorf(bill.EInvalid, "票据代码 %s 已用于%s票据；预交金凭证、往来、捐赠、非税通用票据须各用自己的票据代码，不能与其他票据共用。", code, o.Name())
			}
		}
		if _, err := t.exec(ctx, `INSERT INTO bill_kinds (kind, bill_code) VALUES (?, ?)
			ON CONFLICT (kind) DO UPDATE SET bill_code = excluded.bill_code`, string(k), code); err != nil {
			return err
		}
		return t.audit(ctx, "kind.set", string(k), map[string]string{"billCode": code})
	})
}

// BillKinds returns the bill code of each configured kind.
func (s *Store) BillKinds(ctx context.Context) (map[bill.Kind]string, error) {
	rows, err := s.query(ctx, "SELECT kind, bill_code FROM bill_kinds ORDER BY kind")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[bill.Kind]string{}
	for rows.Next() {
		var k, c string
		if err := rows.Scan(&k, &c); err != nil {
			return nil, err
		}
		out[bill.Kind(k)] = c
	}
	return out, rows.Err()
}

// ReceiveStock records numbers received from the finance bureau (票源入库):
// an e-bill range under a bill code, or a pre-printed paper range. A range
// overlapping stock already received under that code is refused. The
// console and the command line receive through documents (stockdocs.go),
// which call this on approval; the server's own set-up and tests call it
// directly.
func (s *Store) ReceiveStock(ctx context.Context, kind string, r bill.Segment) (string, error) {
	if err := checkStockRange(kind, r); err != nil {
		return "", err
	}
	var id string
	err := s.tx(ctx, func(t *dbtx) error {
		var err error
		id, err = s.receiveStockTx(ctx, t, kind, r, "")
		return err
	})
	return id, err
}

// checkStockRange checks a range's kind, code and numbers.
func checkStockRange(kind string, r bill.Segment) error {
	switch kind {
	case StockEInvoice:
		if err := bill.CheckBillCode(r.Code); err != nil {
			return err
		}
	case StockPaper:
		if err := bill.CheckPaperCode(r.Code); err != nil {
			return err
		}
	default:
		return bill.Errorf(bill.EInvalid, "未知的票源种类 %q，可选 einvoice（电子票据）或 paper（纸质票据）", kind)
	}
	return r.Validate()
}

// stockOverlap is the received range of kind that r overlaps, if any.
func (s *Store) stockOverlap(ctx context.Context, q querier, kind string, r bill.Segment) error {
	var start, end int64
	err := q.queryRow(ctx, `SELECT start_no, end_no FROM stock WHERE kind = ? AND code = ? AND start_no <= ? AND end_no >= ?
		ORDER BY start_no LIMIT 1`, kind, r.Code, r.End, r.Start).Scan(&start, &end)
	if err == nil {
		return bill.Errorf(bill.EConflict, "入库号段 %s 与已入库的 %s 重叠，已拒绝；请核对财政部门下发的号码。",
			r, bill.Segment{Code: r.Code, Start: start, End: end})
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

func (s *Store) receiveStockTx(ctx context.Context, t *dbtx, kind string, r bill.Segment, doc string) (string, error) {
	// Serialise intakes of one code: the overlap check and the insert are
	// one step (PostgreSQL locks the code's rows; SQLite has one writer).
	rows, err := t.query(ctx, "SELECT id FROM stock WHERE kind = ? AND code = ?"+s.forUpdate(), kind, r.Code)
	if err != nil {
		return "", err
	}
	rows.Close()
	if err := s.stockOverlap(ctx, t, kind, r); err != nil {
		return "", err
	}
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := t.exec(ctx, `INSERT INTO stock (id, kind, code, start_no, end_no, next_no, received_at) VALUES (?,?,?,?,?,?,?)`,
		id, kind, r.Code, r.Start, r.End, r.Start, s.millis()); err != nil {
		return "", err
	}
	if kind == StockEInvoice {
		if err := defaultBillKinds(ctx, t, r.Code); err != nil {
			return "", err
		}
	}
	detail := map[string]any{"kind": kind, "from": r.Start, "to": r.End}
	if doc != "" {
		detail["doc"] = doc
	}
	return id, t.audit(ctx, "stock.receive", r.Code, detail)
}

// CodeStock is the stock of one code: received, allocated to points, left.
type CodeStock struct {
	Kind      string `json:"kind"`
	Code      string `json:"code"`
	Received  int64  `json:"received"`
	Allocated int64  `json:"allocated"`
	Remaining int64  `json:"remaining"`
}

// Stock sums the stock per kind and code.
func (s *Store) Stock(ctx context.Context) ([]CodeStock, error) {
	// E-bill numbers leave the stock through next_no (segments); paper
	// through the ranges distributed to points and not returned.
	rows, err := s.query(ctx, `SELECT kind, code, SUM(end_no - start_no + 1),
		CASE WHEN kind = 'paper' THEN (SELECT COALESCE(SUM(pp.end_no - pp.start_no + 1), 0) FROM point_paper pp
			WHERE pp.paper_code = stock.code AND pp.returned_at IS NULL) ELSE SUM(next_no - start_no) END
		FROM stock GROUP BY kind, code ORDER BY kind, code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CodeStock
	for rows.Next() {
		var c CodeStock
		if err := rows.Scan(&c.Kind, &c.Code, &c.Received, &c.Allocated); err != nil {
			return nil, err
		}
		c.Remaining = c.Received - c.Allocated
		out = append(out, c)
	}
	return out, rows.Err()
}

// DefaultKindsFor says which kinds of bill a bill code serves when the
// administrator has not said: the code's kind digits (positions 5–6), 01
// for outpatient bills (also used for registration and exam bills, as most
// hospitals do) and 02 for inpatient bills. `kind set` overrides it.
func DefaultKindsFor(code string) []bill.Kind {
	if len(code) != 8 {
		return nil
	}
	switch code[4:6] {
	case "01":
		return []bill.Kind{bill.Outpatient, bill.Registration, bill.Exam}
	case "02":
		return []bill.Kind{bill.Inpatient}
	}
	return nil
}

// defaultBillKinds maps the kinds a newly received code serves by default,
// leaving every kind the administrator already mapped alone.
func defaultBillKinds(ctx context.Context, t *dbtx, code string) error {
	for _, k := range DefaultKindsFor(code) {
		res, err := t.exec(ctx, "INSERT INTO bill_kinds (kind, bill_code) VALUES (?, ?) ON CONFLICT (kind) DO NOTHING", string(k), code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := t.audit(ctx, "kind.default", string(k), map[string]string{"billCode": code}); err != nil {
				return err
			}
		}
	}
	return nil
}
