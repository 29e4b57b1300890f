package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// 查询统计·开票明细: the console's bill query, paged by keyset (issue time,
// then id, newest first) so that a page deep into millions of bills costs
// what the first does, and streamed whole for export.

// Bill states a query selects.
const (
	StateNormal   = "normal"   // blue, not reversed
	StateReversed = "reversed" // blue, reversed by a red bill
	StateRed      = "red"      // red bills
	StatePaper    = "paper"    // blue, with a live paper copy
)

// BillStateNames are the states as users read them.
var BillStateNames = map[string]string{StateNormal: "正常", StateReversed: "已红冲", StateRed: "红票", StatePaper: "已换开纸质"}

// BillQuery selects bills; zero fields select all.
type BillQuery struct {
	From, To       time.Time // issue time, [From, To)
	Point          string
	Kind           bill.Kind
	Payer          string // the payer's full name
	Patient        string // patient number (or id)
	State          string
	Min, Max       bill.Money // total, inclusive, when HasMin / HasMax
	HasMin, HasMax bool
	Code           string // bill code, with NoFrom–NoTo
	NoFrom, NoTo   int64
	After          string // the cursor of the last row of the page before
	Limit          int    // default 50, at most 1000
}

// QueriedBill is one row of the query: the ledger bill, and what became of it.
type QueriedBill struct {
	LedgerBill
	Channel  string `json:"payChannel"`
	Patient  string `json:"patientNo"`
	Reversed bool   `json:"reversed"`
	Paper    string `json:"paper"` // "code number" of the live paper copy
}

// State is the row's state in Chinese.
func (q *QueriedBill) State() string {
	switch {
	case q.RedOf != "":
		return BillStateNames[StateRed]
	case q.Reversed:
		return BillStateNames[StateReversed]
	case q.Paper != "":
		return BillStateNames[StatePaper]
	}
	return BillStateNames[StateNormal]
}

// Cursor is where the page after this row starts.
func (q *QueriedBill) Cursor() string {
	return strconv.FormatInt(q.IssuedAt.UnixMilli(), 10) + "_" + q.ID
}

func (q BillQuery) where() (string, []any, error) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds, args = append(conds, c), append(args, a...) }
	if !q.From.IsZero() {
		add("issued_at >= ?", q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		add("issued_at < ?", q.To.UnixMilli())
	}
	if q.Point != "" {
		add("point_code = ?", q.Point)
	}
	if q.Kind != "" {
		add("kind = ?", string(q.Kind))
	}
	if q.Payer != "" {
		add("payer = ?", q.Payer)
	}
	if q.Patient != "" {
		add("patient_no = ?", q.Patient)
	}
	if q.HasMin {
		add("total >= ?", int64(q.Min))
	}
	if q.HasMax {
		add("total <= ?", int64(q.Max))
	}
	if q.Code != "" {
		add("bill_code = ?", q.Code)
		if q.NoFrom > 0 {
			add("bill_no >= ?", q.NoFrom)
		}
		if q.NoTo > 0 {
			add("bill_no <= ?", q.NoTo)
		}
	}
	switch q.State {
	case "":
	case StateRed:
		add("red_of IS NOT NULL")
	case StateNormal:
		add("red_of IS NULL AND NOT EXISTS (SELECT 1 FROM bills r WHERE r.red_of = bills.id)")
	case StateReversed:
		add("red_of IS NULL AND EXISTS (SELECT 1 FROM bills r WHERE r.red_of = bills.id)")
	case StatePaper:
		add("red_of IS NULL AND EXISTS (SELECT 1 FROM paper_usage u WHERE u.bill_id = bills.id AND u.status = 'printed')")
	default:
		return "", nil, bill.Errorf(bill.EInvalid, "未知的票据状态 %q。", q.State)
	}
	if q.After != "" {
		ms, id, ok := strings.Cut(q.After, "_")
		at, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || len(id) > 40 {
			return "", nil, bill.Errorf(bill.EInvalid, "翻页位置不正确，请从第一页重新查询。")
		}
		add("(issued_at, id) < (?, ?)", at, id)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

const queriedSelect = ledgerSelect + `, pay_channel, patient_no,
	EXISTS (SELECT 1 FROM bills r WHERE r.red_of = bills.id),
	COALESCE((SELECT u.paper_code FROM paper_usage u WHERE u.bill_id = bills.id AND u.status = 'printed'), ''),
	COALESCE((SELECT u.paper_no FROM paper_usage u WHERE u.bill_id = bills.id AND u.status = 'printed'), 0) FROM bills`

// QueryBills is one page of bills, newest first, and the cursor of the
// next page ("" on the last).
func (s *Store) QueryBills(ctx context.Context, q BillQuery) ([]QueriedBill, string, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, "", err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var out []QueriedBill
	err := s.eachBill(ctx, q, limit+1, func(b *QueriedBill) error {
		out = append(out, *b)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Cursor()
	}
	return out, next, nil
}

// EachBill calls fn for every bill the query selects, newest first, a
// page at a time: an export of the whole filtered set holds one page in
// memory.
func (s *Store) EachBill(ctx context.Context, q BillQuery, fn func(*QueriedBill) error) error {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return err
	}
	const page = 1000
	for {
		n, last := 0, ""
		err := s.eachBill(ctx, q, page, func(b *QueriedBill) error {
			n, last = n+1, b.Cursor()
			return fn(b)
		})
		if err != nil || n < page {
			return err
		}
		q.After = last
	}
}

func (s *Store) eachBill(ctx context.Context, q BillQuery, limit int, fn func(*QueriedBill) error) error {
	where, args, err := q.where()
	if err != nil {
		return err
	}
	rows, err := s.query(ctx, queriedSelect+where+" ORDER BY issued_at DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var qb QueriedBill
		var paperCode string
		var paperNo int64
		lb, err := scanLedger(rows, &qb.Channel, &qb.Patient, &qb.Reversed, &paperCode, &paperNo)
		if err != nil {
			return err
		}
		qb.LedgerBill = *lb
		if paperCode != "" {
			qb.Paper = paperCode + " " + bill.FormatBillNo(paperNo)
		}
		if err := fn(&qb); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Event is one thing that happened to a bill or a number.
type Event struct {
	At     time.Time `json:"at"`
	What   string    `json:"what"`
	Detail string    `json:"detail"`
}

// BillLife is a bill and its whole life: issued, uploaded, paper copies,
// red bill, upload conflicts.
func (s *Store) BillLife(ctx context.Context, code string, no int64) (*LedgerBill, []Event, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, nil, err
	}
	lb, err := s.LedgerBill(ctx, code, no)
	if err != nil {
		return nil, nil, err
	}
	events, err := s.billEvents(ctx, lb)
	return lb, events, err
}

func (s *Store) billEvents(ctx context.Context, lb *LedgerBill) ([]Event, error) {
	op := ""
	if lb.Bill != nil {
		op = string(lb.Bill.Settlement.Payee)
	}
	ev := []Event{{At: lb.IssuedAt, What: "开具", Detail: fmt.Sprintf("开票点 %s，%s，%s 元，收款人 %s", lb.Point, lb.Kind.Name(), lb.Total, op)}}
	if lb.RedOfBill != "" {
		ev[0].What, ev[0].Detail = "开具红票", ev[0].Detail+"，冲销 "+lb.RedOfBill
	}
	ev = append(ev, Event{At: lb.ReceivedAt, What: "上传到服务器", Detail: fmt.Sprintf("开票点 %s 第 %d 张", lb.Point, lb.Seq)})
	rows, err := s.query(ctx, `SELECT paper_code, paper_no, status, used_at, COALESCE(voided_at, 0), reason, operator FROM paper_usage
		WHERE bill_id = ? ORDER BY used_at`, lb.ID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code, status, reason, operator string
		var no, used, voided int64
		if err := rows.Scan(&code, &no, &status, &used, &voided, &reason, &operator); err != nil {
			rows.Close()
			return nil, err
		}
		paper := code + " " + bill.FormatBillNo(no)
		ev = append(ev, Event{At: time.UnixMilli(used).UTC(), What: "换开纸质票据", Detail: paper + "，操作员 " + operator})
		if status == "voided" && voided > 0 {
			ev = append(ev, Event{At: time.UnixMilli(voided).UTC(), What: "纸质票据作废", Detail: paper + "，原因：" + reason})
		}
	}
	rows.Close()
	reds, err := s.query(ctx, "SELECT bill_code, bill_no, issued_at, total FROM bills WHERE red_of = ? ORDER BY issued_at", lb.ID)
	if err != nil {
		return nil, err
	}
	for reds.Next() {
		var code string
		var no, at int64
		var total bill.Money
		if err := reds.Scan(&code, &no, &at, &total); err != nil {
			reds.Close()
			return nil, err
		}
		ev = append(ev, Event{At: time.UnixMilli(at).UTC(), What: "红冲", Detail: fmt.Sprintf("红票 %s %s，%s 元", code, bill.FormatBillNo(no), total)})
	}
	reds.Close()
	conf, err := s.query(ctx, "SELECT received_at, reason FROM conflicts WHERE bill_id = ? ORDER BY received_at", lb.ID)
	if err != nil {
		return nil, err
	}
	defer conf.Close()
	for conf.Next() {
		var at int64
		var reason string
		if err := conf.Scan(&at, &reason); err != nil {
			return nil, err
		}
		ev = append(ev, Event{At: time.UnixMilli(at).UTC(), What: "上传冲突", Detail: reason})
	}
	sortEvents(ev)
	return ev, conf.Err()
}

// sortEvents orders a life by time, events of the same moment as found.
func sortEvents(ev []Event) {
	slices.SortStableFunc(ev, func(a, b Event) int { return a.At.Compare(b.At) })
}

// NumberLife is everything that happened to one number: an e-bill number
// (kind einvoice) from its intake through its allocation to the bill that
// used it, or a paper number from its intake through its distribution to
// its use.
func (s *Store) NumberLife(ctx context.Context, kind, code string, no int64) ([]Event, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	var ev []Event
	num := code + " " + bill.FormatBillNo(no)
	var docMaker, docChecker, cert string
	var received, decided int64
	err := s.queryRow(ctx, `SELECT st.received_at, COALESCE(d.maker, ''), COALESCE(d.checker, ''), COALESCE(d.certificate, ''), COALESCE(d.decided_at, 0)
		FROM stock st LEFT JOIN stock_docs d ON d.stock_id = st.id WHERE st.kind = ? AND st.code = ? AND st.start_no <= ? AND st.end_no >= ?`,
		kind, code, no, no).Scan(&received, &docMaker, &docChecker, &cert, &decided)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, bill.Errorf(bill.ENotFound, "号码 %s 不在已入库的%s内。", num, StockKindName(kind))
	case err != nil:
		return nil, err
	}
	detail := "入库"
	if docMaker != "" {
		detail = fmt.Sprintf("入库单制单 %s，审核 %s", docMaker, docChecker)
		if cert != "" {
			detail += "，领用证 " + cert
		}
	}
	ev = append(ev, Event{At: time.UnixMilli(received).UTC(), What: "入库", Detail: detail})
	if kind == StockEInvoice {
		var point string
		var at int64
		switch err := s.queryRow(ctx, "SELECT point_code, allocated_at FROM segments WHERE bill_code = ? AND start_no <= ? AND end_no >= ?", code, no, no).
			Scan(&point, &at); {
		case err == nil:
			ev = append(ev, Event{At: time.UnixMilli(at).UTC(), What: "分配给开票点", Detail: point})
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		lb, err := s.LedgerBill(ctx, code, no)
		if bill.ErrorCode(err) == bill.ENotFound {
			sortEvents(ev)
			return ev, nil
		}
		if err != nil {
			return nil, err
		}
		more, err := s.billEvents(ctx, lb)
		if err != nil {
			return nil, err
		}
		ev = append(ev, more...)
		sortEvents(ev)
		return ev, nil
	}
	rows, err := s.query(ctx, "SELECT point_code, assigned_at, returned_at, operator FROM point_paper WHERE paper_code = ? AND start_no <= ? AND end_no >= ? ORDER BY assigned_at",
		code, no, no)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var point, operator string
		var at int64
		var returned sql.NullInt64
		if err := rows.Scan(&point, &at, &returned, &operator); err != nil {
			rows.Close()
			return nil, err
		}
		ev = append(ev, Event{At: time.UnixMilli(at).UTC(), What: "分发给开票点", Detail: point + "，经办 " + operator})
		if returned.Valid {
			ev = append(ev, Event{At: time.UnixMilli(returned.Int64).UTC(), What: "退回库存", Detail: point})
		}
	}
	rows.Close()
	var point, status, billID, reason, operator string
	var used, voided int64
	switch err := s.queryRow(ctx, `SELECT point_code, status, COALESCE(bill_id, ''), reason, operator, used_at, COALESCE(voided_at, 0)
		FROM paper_usage WHERE paper_code = ? AND paper_no = ?`, code, no).Scan(&point, &status, &billID, &reason, &operator, &used, &voided); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		switch status {
		case "blank_void":
			ev = append(ev, Event{At: time.UnixMilli(used).UTC(), What: "空白作废", Detail: point + "，原因：" + reason + "，操作员 " + operator})
		default:
			var bc string
			var bn int64
			if err := s.queryRow(ctx, "SELECT bill_code, bill_no FROM bills WHERE id = ?", billID).Scan(&bc, &bn); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			ev = append(ev, Event{At: time.UnixMilli(used).UTC(), What: "打印", Detail: fmt.Sprintf("开票点 %s 打印电子票据 %s %s，操作员 %s", point, bc, bill.FormatBillNo(bn), operator)})
			if status == "voided" {
				ev = append(ev, Event{At: time.UnixMilli(voided).UTC(), What: "作废", Detail: "原因：" + reason})
			}
		}
	}
	conf, err := s.query(ctx, "SELECT point_code, received_at, reason FROM paper_conflicts WHERE paper_code = ? AND paper_no = ? ORDER BY received_at", code, no)
	if err != nil {
		return nil, err
	}
	defer conf.Close()
	for conf.Next() {
		var p, reason string
		var at int64
		if err := conf.Scan(&p, &at, &reason); err != nil {
			return nil, err
		}
		ev = append(ev, Event{At: time.UnixMilli(at).UTC(), What: "上传被拒", Detail: p + "：" + reason})
	}
	sortEvents(ev)
	return ev, conf.Err()
}

// RecordExport audits an export of business data: who took what, how many
// rows, under which filter.
func (s *Store) RecordExport(ctx context.Context, what string, rows int, filter any) error {
	return s.tx(ctx, func(t *dbtx) error {
		return t.audit(ctx, "export", what, map[string]any{"rows": rows, "filter": filter})
	})
}
