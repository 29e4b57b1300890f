package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// storedBill decodes a bill as stored: its personal numbers, masked in
// the content column, are put back from the sealed pii column.
func (s *Store) storedBill(id string, content, sealed []byte) (*bill.Bill, error) {
	plain, err := s.pii.Open(content, sealed, []byte(id))
	if err != nil {
		return nil, fmt.Errorf("server: bill %s: open its personal data: %w", id, err)
	}
	return decodeBill(plain)
}

func decodeBill(content []byte) (*bill.Bill, error) {
	var b bill.Bill
	if err := json.Unmarshal(content, &b); err != nil {
		return nil, fmt.Errorf("server: decode stored bill: %w", err)
	}
	return &b, nil
}

// LedgerBill is a bill the centre holds.
type LedgerBill struct {
	ID         string     `json:"id"`
	Point      string     `json:"point"`
	Seq        int64      `json:"seq"`
	BillCode   string     `json:"billCode"`
	BillNo     string     `json:"billNo"`
	CheckCode  string     `json:"checkCode"`
	Kind       bill.Kind  `json:"kind"`
	BusNo      string     `json:"busNo,omitempty"`
	Payer      string     `json:"payer"`
	Total      bill.Money `json:"total"`
	IssuedAt   time.Time  `json:"issuedAt"`
	ReceivedAt time.Time  `json:"receivedAt"`
	RedOf      string     `json:"redOf,omitempty"`     // id of the original, on a red bill
	RedOfBill  string     `json:"redOfBill,omitempty"` // "code number" of the original
	Bill       *bill.Bill `json:"bill,omitempty"`      // the signed content, in Bill only
}

// LedgerFilter selects bills for LedgerBills; zero fields select all.
type LedgerFilter struct {
	Point    string
	Points   []string  // any of these points (with Point, both apply)
	From, To time.Time // issue time (business time with ByBusiness), [From, To)
	// ByBusiness makes From and To select by business time: a blue bill's
	// busDateTime, a red bill's issue time (see BusinessTime).
	ByBusiness bool
	BusType    string // only bills of this business type (busType), when set
	Red        string // "": all; "blue": bills that are not red; "red": red bills only
	// NoVouchers leaves out deposit vouchers: HIS reconciles its bills
	// and its deposits apart.
	NoVouchers bool
	Limit      int // default 100, at most 1000
	Offset     int
}

func (f LedgerFilter) where() (string, []any) {
	q, args := " WHERE 1 = 1", []any{}
	if f.Point != "" {
		q, args = q+" AND point_code = ?", append(args, f.Point)
	}
	if len(f.Points) > 0 {
		q += " AND point_code IN (" + strings.TrimSuffix(strings.Repeat("?,", len(f.Points)), ",") + ")"
		for _, p := range f.Points {
			args = append(args, p)
		}
	}
	at := "issued_at"
	if f.ByBusiness {
		at = "bus_at"
	}
	if !f.From.IsZero() {
		q, args = q+" AND "+at+" >= ?", append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q, args = q+" AND "+at+" < ?", append(args, f.To.UnixMilli())
	}
	if f.BusType != "" {
		q, args = q+" AND bus_type = ?", append(args, f.BusType)
	}
	if f.NoVouchers {
		q += " AND kind <> 'deposit'"
	}
	switch f.Red {
	case "blue":
		q += " AND red_of IS NULL"
	case "red":
		q += " AND red_of IS NOT NULL"
	}
	return q, args
}

// CountLedger counts the bills matching f and adds up their totals.
func (s *Store) CountLedger(ctx context.Context, f LedgerFilter) (int, bill.Money, error) {
	q, args := f.where()
	var n int
	var sum sql.NullInt64
	err := s.queryRow(ctx, "SELECT COUNT(*), SUM(total) FROM bills"+q, args...).Scan(&n, &sum)
	return n, bill.Money(sum.Int64), err
}

const (
	ledgerSelect = `SELECT id, point_code, seq, bill_code, bill_no, check_code, kind, COALESCE(bus_no, ''), payer, total,
	issued_at, received_at, COALESCE(red_of, ''), (SELECT o.bill_code FROM bills o WHERE o.id = bills.red_of),
	(SELECT o.bill_no FROM bills o WHERE o.id = bills.red_of)`
	ledgerCols = ledgerSelect + " FROM bills"
)

func scanLedger(r interface{ Scan(...any) error }, extra ...any) (*LedgerBill, error) {
	var b LedgerBill
	var no, issued, received int64
	var kind string
	var origCode sql.NullString
	var origNo sql.NullInt64
	if err := r.Scan(append([]any{&b.ID, &b.Point, &b.Seq, &b.BillCode, &no, &b.CheckCode, &kind, &b.BusNo, &b.Payer,
		&b.Total, &issued, &received, &b.RedOf, &origCode, &origNo}, extra...)...); err != nil {
		return nil, err
	}
	if origCode.Valid {
		b.RedOfBill = origCode.String + " " + bill.FormatBillNo(origNo.Int64)
	}
	b.BillNo, b.Kind = bill.FormatBillNo(no), bill.Kind(kind)
	b.IssuedAt, b.ReceivedAt = time.UnixMilli(issued).UTC(), time.UnixMilli(received).UTC()
	return &b, nil
}

// billsWithContent runs ledgerSelect + ", content, pii FROM bills " + rest
// and returns the bills with their signed content decoded.
func (s *Store) billsWithContent(ctx context.Context, rest string, args ...any) ([]*LedgerBill, error) {
	rows, err := s.query(ctx, ledgerSelect+", content, pii FROM bills "+rest, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*LedgerBill
	for rows.Next() {
		var content, sealed []byte
		lb, err := scanLedger(rows, &content, &sealed)
		if err != nil {
			return nil, err
		}
		if lb.Bill, err = s.storedBill(lb.ID, content, sealed); err != nil {
			return nil, err
		}
		out = append(out, lb)
	}
	return out, rows.Err()
}

// LedgerBills lists the bills the centre holds, newest first.
func (s *Store) LedgerBills(ctx context.Context, f LedgerFilter) ([]*LedgerBill, error) {
	where, args := f.where()
	q := ledgerCols + where
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, q+" ORDER BY issued_at DESC, seq DESC LIMIT ? OFFSET ?", append(args, min(limit, 1000), max(f.Offset, 0))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*LedgerBill
	for rows.Next() {
		b, err := scanLedger(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// LedgerBill returns one bill with its signed content; ENotFound if absent.
func (s *Store) LedgerBill(ctx context.Context, code string, no int64) (*LedgerBill, error) {
	var content, sealed []byte
	b, err := scanLedger(s.queryRow(ctx, ledgerSelect+", content, pii FROM bills WHERE bill_code = ? AND bill_no = ?", code, no), &content, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "服务器上没有票据 %s %s。", code, bill.FormatBillNo(no))
	}
	if err != nil {
		return nil, err
	}
	b.Bill, err = s.storedBill(b.ID, content, sealed)
	return b, err
}
