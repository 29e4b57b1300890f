package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// The ledger's answers the HIS interface (server/his) shapes into the
// protocol's: queries of bills, red bills, paper copies and number ranges,
// and the record of batch issues.

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// BillSignature is the signature of a bill the ledger holds.
func (s *Store) BillSignature(ctx context.Context, id string) ([]byte, error) {
	var sig []byte
	err := s.queryRow(ctx, "SELECT signature FROM bills WHERE id = ?", id).Scan(&sig)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "服务器上没有该票据。")
	}
	return sig, err
}

// RedBillOf is the latest red bill of bill id (a deposit voucher may have
// several refunds); ENotFound when none.
func (s *Store) RedBillOf(ctx context.Context, id string) (*LedgerBill, error) {
	var content, sealed []byte
	lb, err := scanLedger(s.queryRow(ctx, ledgerSelect+", content, pii FROM bills WHERE red_of = ? ORDER BY bills.issued_at DESC, bills.bill_no DESC LIMIT 1", id), &content, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "该票据没有红字票据。")
	}
	if err != nil {
		return nil, err
	}
	lb.Bill, err = s.storedBill(lb.ID, content, sealed)
	return lb, err
}

// PaperCopy is the live paper copy of an e-bill.
type PaperCopy struct {
	Code string
	No   int64
	At   time.Time
}

// LivePaper is a bill's live (printed, not voided) paper copy; ENotFound
// when none.
func (s *Store) LivePaper(ctx context.Context, billID string) (*PaperCopy, error) {
	var p PaperCopy
	var at int64
	err := s.queryRow(ctx, "SELECT paper_code, paper_no, used_at FROM paper_usage WHERE bill_id = ? AND status = 'printed'", billID).
		Scan(&p.Code, &p.No, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "该票据没有换开的纸质票据。")
	}
	p.At = time.UnixMilli(at).UTC()
	return &p, err
}

// PaperUse is how a paper number was used, as the bill lists show it.
type PaperUse struct {
	Code     string
	No       int64
	Point    string
	At       time.Time
	Reason   string
	BillCode string // the e-bill it was printed for, "" for a blank void
	BillNo   int64
	Total    bill.Money
}

// PaperUses lists the paper numbers of points used in [from, to) with a
// status (printed, voided, blank_void), paged, and how many there are.
func (s *Store) PaperUses(ctx context.Context, points []string, status string, from, to time.Time, limit, offset int) (int, []PaperUse, error) {
	where := " WHERE u.status = ? AND u.used_at >= ? AND u.used_at < ? AND u.point_code IN (" + placeholders(len(points)) + ")"
	args := []any{status, from.UnixMilli(), to.UnixMilli()}
	for _, p := range points {
		args = append(args, p)
	}
	var total int
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM paper_usage u"+where, args...).Scan(&total); err != nil {
		return 0, nil, err
	}
	rows, err := s.query(ctx, `SELECT u.paper_code, u.paper_no, u.point_code, u.used_at, u.reason, COALESCE(b.bill_code, ''), COALESCE(b.bill_no, 0),
		COALESCE(b.total, 0) FROM paper_usage u LEFT JOIN bills b ON b.id = u.bill_id`+where+
		" ORDER BY u.paper_code, u.paper_no LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var out []PaperUse
	for rows.Next() {
		var u PaperUse
		var used int64
		if err := rows.Scan(&u.Code, &u.No, &u.Point, &used, &u.Reason, &u.BillCode, &u.BillNo, &u.Total); err != nil {
			return 0, nil, err
		}
		u.At = time.UnixMilli(used).UTC()
		out = append(out, u)
	}
	return total, out, rows.Err()
}

// LedgerPage lists the bills f selects with their content, oldest first
// by the time f selects on (business or issue time), f.Limit at a time
// from f.Offset.
func (s *Store) LedgerPage(ctx context.Context, f LedgerFilter) ([]*LedgerBill, error) {
	where, args := f.where()
	order := " ORDER BY issued_at, seq"
	if f.ByBusiness {
		order = " ORDER BY bus_at, seq"
	}
	return s.billsWithContent(ctx, where+order+" LIMIT ? OFFSET ?", append(args, max(f.Limit, 1), max(f.Offset, 0))...)
}

// OpenBills are the blue bills of points issued in [from, to), neither
// reversed nor turned to paper — what a patient may still print — newest
// first, at most 1,000; of one card when cardNo is given.
func (s *Store) OpenBills(ctx context.Context, points []string, from, to time.Time, cardNo string) ([]*LedgerBill, error) {
	where := "WHERE issued_at >= ? AND issued_at < ? AND red_of IS NULL AND point_code IN (" + placeholders(len(points)) + ")"
	args := []any{from.UnixMilli(), to.UnixMilli()}
	for _, p := range points {
		args = append(args, p)
	}
	if cardNo = strings.TrimSpace(cardNo); cardNo != "" {
		where, args = where+" AND card_no = ?", append(args, cardNo)
	}
	where += " AND NOT EXISTS (SELECT 1 FROM bills r WHERE r.red_of = bills.id)" +
		" AND NOT EXISTS (SELECT 1 FROM paper_usage u WHERE u.bill_id = bills.id AND u.status = 'printed')"
	return s.billsWithContent(ctx, where+" ORDER BY issued_at DESC LIMIT 1000", args...)
}

// NumberRange is one run of the bills a filter selects: of one point,
// business type, kind and bill code, its first and last number, how many
// and their amount.
type NumberRange struct {
	Point    string
	BusType  string
	Kind     bill.Kind
	BillCode string
	From, To int64
	Count    int
	Total    bill.Money
}

// NumberRanges groups the bills f selects into NumberRanges.
func (s *Store) NumberRanges(ctx context.Context, f LedgerFilter) ([]NumberRange, error) {
	q, args := f.where()
	rows, err := s.query(ctx, `SELECT point_code, COALESCE(bus_type, ''), kind, bill_code, MIN(bill_no), MAX(bill_no), COUNT(*), SUM(total)
		FROM bills`+q+` GROUP BY point_code, bus_type, kind, bill_code ORDER BY point_code, bus_type, bill_code, kind`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NumberRange
	for rows.Next() {
		var r NumberRange
		var kind string
		var sum sql.NullInt64
		if err := rows.Scan(&r.Point, &r.BusType, &kind, &r.BillCode, &r.From, &r.To, &r.Count, &sum); err != nil {
			return nil, err
		}
		r.Kind, r.Total = bill.Kind(kind), bill.Money(sum.Int64)
		out = append(out, r)
	}
	return out, rows.Err()
}

// BatchItem is one settlement of a HIS app's batch issue: 1 issued (with
// its bill), 2 failed (with the reason).
type BatchItem struct {
	BusNo    string
	Status   int
	ErrMsg   string
	BillCode string
	BillNo   int64
}

// BatchSeen reports whether an app's batch was already issued.
func (s *Store) BatchSeen(ctx context.Context, appID, batchNo string) (bool, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM his_batch_items WHERE app_id = ? AND batch_no = ?", appID, batchNo).Scan(&n)
	return n > 0, err
}

// SaveBatch records the outcome of an app's batch issue.
func (s *Store) SaveBatch(ctx context.Context, appID, batchNo string, items []BatchItem) error {
	return s.tx(ctx, func(t *dbtx) error {
		for i, it := range items {
			if _, err := t.exec(ctx, `INSERT INTO his_batch_items (app_id, batch_no, seq, bus_no, status, err_msg, bill_code, bill_no, created_at)
				VALUES (?,?,?,?,?,?,?,?,?)`, appID, batchNo, i+1, it.BusNo, it.Status, it.ErrMsg, it.BillCode, it.BillNo, s.millis()); err != nil {
				return err
			}
		}
		return nil
	})
}

// BatchItems is the outcome of an app's batch issue, in its order.
func (s *Store) BatchItems(ctx context.Context, appID, batchNo string) ([]BatchItem, error) {
	rows, err := s.query(ctx, `SELECT bus_no, status, err_msg, bill_code, bill_no FROM his_batch_items
		WHERE app_id = ? AND batch_no = ? ORDER BY seq`, appID, batchNo)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BatchItem
	for rows.Next() {
		var it BatchItem
		if err := rows.Scan(&it.BusNo, &it.Status, &it.ErrMsg, &it.BillCode, &it.BillNo); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// IsReversed: a bill has been reversed by its red bill; a deposit voucher
// has been refunded in full.
func (s *Store) IsReversed(ctx context.Context, id string) (bool, error) {
	n, refunded, err := redsOf(ctx, s, id)
	if err != nil || n == 0 {
		return false, err
	}
	var kind string
	var total int64
	if err := s.queryRow(ctx, "SELECT kind, total FROM bills WHERE id = ?", id).Scan(&kind, &total); err != nil {
		return false, err
	}
	return bill.Kind(kind) != bill.Deposit || bill.Money(total)+refunded <= 0, nil
}

// RecordArrearsFeedback keeps the day HIS said a bill may circulate; a
// bill keeps the first day said.
func (s *Store) RecordArrearsFeedback(ctx context.Context, billID, day, appID string) error {
	return s.tx(ctx, func(t *dbtx) error {
		res, err := t.exec(ctx, `INSERT INTO bill_feedback (bill_id, feedback_date, app_id, received_at) VALUES (?,?,?,?)
			ON CONFLICT (bill_id) DO NOTHING`, billID, day, appID, s.millis())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return t.audit(ctx, "bill.arrears_feedback", billID, map[string]string{"feedbackDate": day, "app": appID})
	})
}

// ArrearsFeedback is the day HIS said a bill may circulate; "" if never.
func (s *Store) ArrearsFeedback(ctx context.Context, billID string) (string, error) {
	var day string
	err := s.queryRow(ctx, "SELECT feedback_date FROM bill_feedback WHERE bill_id = ?", billID).Scan(&day)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return day, err
}

// CardBills are the blue bills of a card at points, by business time in
// [from, to), newest first, at most 1,000.
func (s *Store) CardBills(ctx context.Context, points []string, cardNo string, from, to time.Time) ([]*LedgerBill, error) {
	args := []any{cardNo, from.UnixMilli(), to.UnixMilli()}
	for _, p := range points {
		args = append(args, p)
	}
	return s.billsWithContent(ctx, "WHERE card_no = ? AND bus_at >= ? AND bus_at < ? AND red_of IS NULL AND point_code IN ("+
		placeholders(len(points))+") ORDER BY bus_at DESC LIMIT 1000", args...)
}
