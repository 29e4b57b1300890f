package localstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// StoredBill is a bill as the station holds it, with its current state.
type StoredBill struct {
	ID        string
	Seq       int64
	Kind      bill.Kind
	BillCode  string
	BillNo    int64
	CheckCode string
	BusNo     string // empty on red bills
	Payer     string
	PatientNo string
	Total     bill.Money
	IssuedAt  time.Time
	Payee     string
	RedOf     string // id of the original, on a red bill
	RedBy     string // "code number" of the red bill that reversed this one
	PaperCode string // live paper copy, if any
	PaperNo   int64
	Synced    bool       // acknowledged by the server
	Bill      *bill.Bill // the signed content; nil in lists
	Signature []byte     // SM2 signature of the content; nil in lists
}

// VerifyRef is the reference the bill's QR code carries.
func (b *StoredBill) VerifyRef() bill.VerifyRef {
	return bill.NewVerifyRef(b.Bill, b.CheckCode, b.Signature)
}

// BillNoText is the bill number with its 10 digits.
func (b *StoredBill) BillNoText() string { return bill.FormatBillNo(b.BillNo) }

// State is the bill's state in Chinese: 正常, 已冲红, 红字.
func (b *StoredBill) State() string {
	switch {
	case b.RedOf != "":
		return "红字"
	case b.RedBy != "":
		return "已冲红"
	}
	return "正常"
}

const billCols = `SELECT b.id, b.seq, b.kind, b.bill_code, b.bill_no, b.check_code, COALESCE(b.bus_no, ''), b.payer,
	b.patient_no, b.total, b.issued_at, b.payee, COALESCE(b.red_of, ''),
	COALESCE((SELECT r.bill_code || ' ' || printf('%010d', r.bill_no) FROM bills r WHERE r.red_of = b.id), ''),
	COALESCE((SELECT p.paper_code FROM paper_usage p WHERE p.bill_id = b.id AND p.status = 'printed'), ''),
	COALESCE((SELECT p.paper_no FROM paper_usage p WHERE p.bill_id = b.id AND p.status = 'printed'), 0),
	EXISTS (SELECT 1 FROM acks a WHERE a.seq = b.seq)`

func scanBill(r rowScanner, extra ...any) (*StoredBill, error) {
	var b StoredBill
	var kind string
	var issued int64
	dest := append([]any{&b.ID, &b.Seq, &kind, &b.BillCode, &b.BillNo, &b.CheckCode, &b.BusNo, &b.Payer,
		&b.PatientNo, &b.Total, &issued, &b.Payee, &b.RedOf, &b.RedBy, &b.PaperCode, &b.PaperNo, &b.Synced}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	b.Kind, b.IssuedAt = bill.Kind(kind), fromMillis(issued)
	return &b, nil
}

// getBill loads one bill with its decoded content; ENotFound if none matches.
func (s *Store) getBill(ctx context.Context, q querier, where string, args ...any) (*StoredBill, error) {
	var content, sealed, sig []byte
	b, err := scanBill(q.QueryRowContext(ctx, billCols+", b.content, b.pii, b.signature FROM bills b WHERE "+where, args...), &content, &sealed, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "未找到票据（%s）；请核对票据代码和号码。", describeArgs(args))
	}
	if err != nil {
		return nil, err
	}
	b.Bill, b.Signature = new(bill.Bill), sig
	if content, err = s.openContent(b.ID, content, sealed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(content, b.Bill); err != nil {
		return nil, fmt.Errorf("localstore: decode bill %s: %w", b.ID, err)
	}
	return b, nil
}

func describeArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if n, ok := a.(int64); ok {
			parts[i] = bill.FormatBillNo(n)
		} else {
			parts[i] = fmt.Sprint(a)
		}
	}
	return strings.Join(parts, " ")
}

// Bill returns the bill code+no with its content; ENotFound if absent.
func (s *Store) Bill(ctx context.Context, code string, no int64) (*StoredBill, error) {
	return s.getBill(ctx, s.read, "b.bill_code = ? AND b.bill_no = ?", code, no)
}

// BillByBusNo returns the bill issued for a BusNo; ENotFound if none.
func (s *Store) BillByBusNo(ctx context.Context, busNo string) (*StoredBill, error) {
	return s.getBill(ctx, s.read, "b.bus_no = ?", busNo)
}

// Filter selects bills in ListBills. Zero fields select everything.
type Filter struct {
	From, To  time.Time // issue time, [From, To)
	Kind      bill.Kind
	BillCode  string
	BusNo     string
	Payer     string // part of the payer's name
	PatientNo string
	Payee     string // the cashier who issued
	State     string // "", "normal", "reversed", "red", "paper"
	Limit     int    // default 50, at most 1000
	Offset    int
}

// ListBills returns bills matching f, newest first, and the total count.
func (s *Store) ListBills(ctx context.Context, f Filter) ([]*StoredBill, int, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if !f.From.IsZero() {
		add("b.issued_at >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("b.issued_at < ?", f.To.UnixMilli())
	}
	if f.Kind != "" {
		add("b.kind = ?", string(f.Kind))
	}
	if f.BillCode != "" {
		add("b.bill_code = ?", f.BillCode)
	}
	if f.BusNo != "" {
		add("b.bus_no = ?", f.BusNo)
	}
	if f.Payer != "" {
		add("b.payer LIKE ? ESCAPE '\\'", "%"+escapeLike(f.Payer)+"%")
	}
	if f.PatientNo != "" {
		add("b.patient_no = ?", f.PatientNo)
	}
	if f.Payee != "" {
		add("b.payee = ?", f.Payee)
	}
	switch f.State {
	case "":
	case "normal":
		add("b.red_of IS NULL AND NOT EXISTS (SELECT 1 FROM bills r WHERE r.red_of = b.id)")
	case "reversed":
		add("EXISTS (SELECT 1 FROM bills r WHERE r.red_of = b.id)")
	case "red":
		add("b.red_of IS NOT NULL")
	case "paper":
		add("EXISTS (SELECT 1 FROM paper_usage p WHERE p.bill_id = b.id AND p.status = 'printed')")
	default:
		return nil, 0, bill.Errorf(bill.EInvalid, "未知的票据状态 %q，可选：normal、reversed、red、paper", f.State)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM bills b"+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	rows, err := s.read.QueryContext(ctx, billCols+" FROM bills b"+cond+" ORDER BY b.seq DESC LIMIT ? OFFSET ?",
		append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*StoredBill
	for rows.Next() {
		b, err := scanBill(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, b)
	}
	return out, total, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// OutboxItem is one bill waiting for (or refused by) the server.
type OutboxItem struct {
	BillID    string
	Seq       int64
	BillCode  string
	BillNo    int64
	Total     bill.Money
	CreatedAt time.Time
	State     string
	Attempts  int
	LastError string
}

// Outbox lists bills not yet acknowledged by the server, oldest first.
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `SELECT b.id, o.seq, b.bill_code, b.bill_no, b.total, o.created_at,
		o.state, o.attempts, o.last_error FROM outbox o JOIN bills b ON b.seq = o.seq ORDER BY o.seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var created int64
		if err := rows.Scan(&it.BillID, &it.Seq, &it.BillCode, &it.BillNo, &it.Total, &created, &it.State,
			&it.Attempts, &it.LastError); err != nil {
			return nil, err
		}
		it.CreatedAt = fromMillis(created)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Status is what `ebill status` and the GUI's status bar show.
type Status struct {
	Station       *Station
	Limits        bill.Limits
	Usage         []bill.Usage
	Pending       int
	PendingAmount bill.Money
	OldestPending time.Time     // zero when nothing is pending
	Rejected      int           // bills the server refused; they need the administrator
	PaperRefused  int           // paper uses the server did not accept (see the warning for why)
	TimeLeft      time.Duration // until the offline time limit stops issuing; 0 when nothing is pending or no limit
	Stock         []CodeStock
	Paper         []PaperPosition
	Warnings      []string
}

// Status gathers the station's state: offline-limit use, pending uploads,
// stock per bill code with alerts, current paper numbers.
func (s *Store) Status(ctx context.Context) (*Status, error) {
	st, err := s.Station(ctx)
	if err != nil {
		return nil, err
	}
	out := &Status{Station: st, Pending: st.UnsyncedCount, PendingAmount: st.UnsyncedAmount, OldestPending: st.OldestUnsynced}
	if out.Limits, err = s.Limits(ctx); err != nil {
		return nil, err
	}
	now := s.now()
	if !out.OldestPending.IsZero() && out.Limits.MaxHours > 0 {
		out.TimeLeft = max(out.OldestPending.Add(time.Duration(out.Limits.MaxHours)*time.Hour).Sub(now), 0)
	}
	out.Usage = out.Limits.Usages(bill.OfflineState{Count: out.Pending, Amount: out.PendingAmount, Oldest: out.OldestPending}, now)
	for _, u := range out.Usage {
		if u.Ratio >= 1 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s已达上限（%s / %s），已停止开票，请联网上传票据。", u.Name, u.Used, u.Limit))
		} else if u.Ratio >= bill.WarnRatio {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s已达上限的 %.0f%%（%s / %s），请尽快联网上传票据。", u.Name, u.Ratio*100, u.Used, u.Limit))
		}
	}
	if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE state = 'rejected'").Scan(&out.Rejected); err != nil {
		return nil, err
	}
	if out.Rejected > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("有 %d 张票据被服务器拒收，请联系票据管理员处理。", out.Rejected))
	}
	var why sql.NullString
	if err := s.read.QueryRowContext(ctx, "SELECT COUNT(*), MIN(sync_error) FROM paper_usage WHERE sync_error != ''").Scan(&out.PaperRefused, &why); err != nil {
		return nil, err
	}
	if out.PaperRefused > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("有 %d 条纸质票据记录未被服务器接受（如：%s），请联系票据管理员处理。", out.PaperRefused, why.String))
	}
	if out.Stock, err = s.Stock(ctx); err != nil {
		return nil, err
	}
	for _, cs := range out.Stock {
		if cs.Alert {
			out.Warnings = append(out.Warnings, stockAlertText(cs.BillCode, cs.Remaining))
		}
	}
	if out.Paper, err = s.PaperPositions(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

func hexString(b []byte) string { return hex.EncodeToString(b) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
