package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// Pre-printed paper at server points: ranges given from the paper stock,
// the current number (what must be in the HIS printer), conversion,
// reprint, void (with the e-bill's reversal) and blank void — the paper
// calls of the medical API.

// PaperRange is paper given to a point.
type PaperRange struct {
	Point   string `json:"point"`
	Code    string `json:"pBillBatchCode"`
	Start   int64  `json:"start"`
	End     int64  `json:"end"`
	Current int64  `json:"current"` // 0 when used up
}

// AssignPaper gives count paper numbers of code from the paper stock to a
// server point (the medical API's points, set up from the command line).
func (s *Store) AssignPaper(ctx context.Context, point, code string, count int64) (*PaperRange, error) {
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	if p.Kind != PointServer {
		return nil, bill.Errorf(bill.EInvalid, "开票点 %s 是收费电脑开票点，请用 ebill-server paper distribute 分发纸质票据。", point)
	}
	return s.distributePaper(ctx, point, code, 0, 0, count)
}

// DistributePaper gives paper from the central paper stock to a billing
// point (纸质票据分发): the numbers from–to when from is given (the box
// handed over to the window), else the first count numbers not yet given
// out. A station may take in only what was distributed to its point.
func (s *Store) DistributePaper(ctx context.Context, point, code string, from, to, count int64) (*PaperRange, error) {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return nil, err
	}
	return s.distributePaper(ctx, point, code, from, to, count)
}

func (s *Store) distributePaper(ctx context.Context, point, code string, from, to, count int64) (*PaperRange, error) {
	if from > 0 {
		if to < from {
			return nil, bill.Errorf(bill.EInvalid, "终止号码 %d 小于起始号码 %d。", to, from)
		}
		count = to - from + 1
	}
	if count < 1 || count > 100000 {
		return nil, bill.Errorf(bill.EInvalid, "一次分发 1 至 100000 张纸质票据，收到 %d。", count)
	}
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	if !p.DisabledAt.IsZero() {
		return nil, bill.Errorf(bill.EConflict, "开票点 %s 已停用，不能分发纸质票据。", point)
	}
	var r *PaperRange
	err = s.tx(ctx, func(t *dbtx) error {
		stock, given, err := paperHoldings(ctx, t, s, code)
		if err != nil {
			return err
		}
		if len(stock) == 0 {
			return bill.Errorf(bill.ENoStock, "纸质票据 %s 没有入库，请先办理纸质票据入库并审核。", code)
		}
		var stockID string
		if from > 0 {
			for _, st := range stock {
				if st.Start <= from && to <= st.End {
					stockID = st.ID
				}
			}
			if stockID == "" {
				return bill.Errorf(bill.EConflict, "纸质票据 %s 不在已入库的号段内；请核对号码或先办理入库。", bill.Segment{Code: code, Start: from, End: to})
			}
			for _, g := range given {
				if g.Start <= to && g.End >= from {
					return bill.Errorf(bill.EConflict, "纸质票据 %s 与%s的 %s 重叠，已拒绝。",
						bill.Segment{Code: code, Start: from, End: to}, holderName(g.Point), bill.Segment{Code: code, Start: g.Start, End: g.End})
				}
			}
		} else {
			from, to, stockID = firstFree(stock, given, count)
			if stockID == "" {
				return bill.Errorf(bill.ENoStock, "纸质票据 %s 的库存已全部分发，请先入库。", code)
			}
		}
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE points SET paper_version = ? WHERE code = ?", v, point); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO point_paper (id, point_code, paper_code, start_no, end_no, stock_id, assigned_at, operator)
			VALUES (?,?,?,?,?,?,?,?)`, uuid.Must(uuid.NewV7()).String(), point, code, from, to, stockID, s.millis(), personOf(ctx)); err != nil {
			return err
		}
		r = &PaperRange{Point: point, Code: code, Start: from, End: to}
		return t.audit(ctx, "paper.distribute", point, r)
	})
	return r, err
}

// holding is a range of paper numbers: a stock range or a point's.
type holding struct {
	ID, Point  string
	Start, End int64
}

// paperHoldings are the code's received ranges and the ranges given out
// and not returned, each in number order.
func paperHoldings(ctx context.Context, q querier, s *Store, code string) (stock, given []holding, err error) {
	rows, err := q.query(ctx, "SELECT id, start_no, end_no FROM stock WHERE kind = 'paper' AND code = ? ORDER BY start_no"+s.forUpdateIf(q), code)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var h holding
		if err := rows.Scan(&h.ID, &h.Start, &h.End); err != nil {
			rows.Close()
			return nil, nil, err
		}
		stock = append(stock, h)
	}
	rows.Close()
	// Ranges voided in the store room are held by no one and given to no
	// one: they count as given, with no point.
	if rows, err = q.query(ctx, `SELECT id, point_code, start_no, end_no FROM point_paper WHERE paper_code = ? AND returned_at IS NULL
		UNION ALL SELECT id, '', start_no, end_no FROM paper_store_voids WHERE code = ? AND state = 'approved'
		ORDER BY 3`, code, code); err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h holding
		if err := rows.Scan(&h.ID, &h.Point, &h.Start, &h.End); err != nil {
			return nil, nil, err
		}
		given = append(given, h)
	}
	return stock, given, rows.Err()
}

// firstFree is the first run of count numbers of a stock range that no
// point holds (shorter when the range ends first), and its stock range.
func firstFree(stock, given []holding, count int64) (from, to int64, stockID string) {
	for _, st := range stock {
		next := st.Start
		for _, g := range given {
			if g.End < next || g.Start > st.End {
				continue
			}
			if g.Start > next {
				return next, min(next+count-1, g.Start-1), st.ID
			}
			next = g.End + 1
		}
		if next <= st.End {
			return next, min(next+count-1, st.End), st.ID
		}
	}
	return 0, 0, ""
}

// ReturnPaper takes the unused numbers of a distributed range back into
// the central stock (退回): from the given number (the first unused one
// when 0) to the range's end. Numbers with a recorded use cannot return.
func (s *Store) ReturnPaper(ctx context.Context, rangeID string, from int64) (*PaperRange, error) {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return nil, err
	}
	var r *PaperRange
	err := s.tx(ctx, func(t *dbtx) error {
		var h holding
		var code string
		var returned sql.NullInt64
		err := t.queryRow(ctx, "SELECT point_code, paper_code, start_no, end_no, returned_at FROM point_paper WHERE id = ?"+s.forUpdate(), rangeID).
			Scan(&h.Point, &code, &h.Start, &h.End, &returned)
		if errors.Is(err, sql.ErrNoRows) || returned.Valid {
			return bill.Errorf(bill.ENotFound, "没有这段分发中的纸质票据；请刷新页面。")
		}
		if err != nil {
			return err
		}
		var used sql.NullInt64
		if err := t.queryRow(ctx, "SELECT MAX(paper_no) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ?", code, h.Start, h.End).
			Scan(&used); err != nil {
			return err
		}
		if from == 0 {
			from = h.Start
			if used.Valid {
				from = used.Int64 + 1
			}
		}
		seg := bill.Segment{Code: code, Start: from, End: h.End}
		switch {
		case from < h.Start || from > h.End:
			return bill.Errorf(bill.EInvalid, "退回的起始号码 %d 不在 %s 内。", from, bill.Segment{Code: code, Start: h.Start, End: h.End})
		case used.Valid && used.Int64 >= from:
			return bill.Errorf(bill.EConflict, "纸质票据 %s 已用到 %s，不能从 %s 起退回；请从 %s 起退回。",
				code, bill.FormatBillNo(used.Int64), bill.FormatBillNo(from), bill.FormatBillNo(used.Int64+1))
		}
		now := s.millis()
		if from == h.Start {
			if _, err := t.exec(ctx, "UPDATE point_paper SET returned_at = ? WHERE id = ?", now, rangeID); err != nil {
				return err
			}
		} else {
			if _, err := t.exec(ctx, "UPDATE point_paper SET end_no = ? WHERE id = ?", from-1, rangeID); err != nil {
				return err
			}
			if _, err := t.exec(ctx, `INSERT INTO point_paper (id, point_code, paper_code, start_no, end_no, stock_id, assigned_at, returned_at, operator)
				SELECT ?, point_code, paper_code, ?, ?, stock_id, assigned_at, ?, ? FROM point_paper WHERE id = ?`,
				uuid.Must(uuid.NewV7()).String(), from, h.End, now, personOf(ctx), rangeID); err != nil {
				return err
			}
		}
		v, err := t.nextMasterVersion(ctx)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, "UPDATE points SET paper_version = ? WHERE code = ?", v, h.Point); err != nil {
			return err
		}
		r = &PaperRange{Point: h.Point, Code: code, Start: seg.Start, End: seg.End}
		return t.audit(ctx, "paper.return", h.Point, r)
	})
	return r, err
}

// Distribution is a range given to a point, in the console's list.
type Distribution struct {
	ID         string    `json:"id"`
	Point      string    `json:"point"`
	Code       string    `json:"code"`
	Start      int64     `json:"start"`
	End        int64     `json:"end"`
	Used       int64     `json:"used"` // numbers with a recorded use
	At         time.Time `json:"at"`
	ReturnedAt time.Time `json:"returnedAt"`
	Operator   string    `json:"operator"`
}

// Distributions lists the paper given to points (one point when point is
// not ""), returned ranges included, newest first.
func (s *Store) Distributions(ctx context.Context, point string) ([]Distribution, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT pp.id, pp.point_code, pp.paper_code, pp.start_no, pp.end_no, pp.assigned_at, pp.returned_at, pp.operator,
		(SELECT COUNT(*) FROM paper_usage u WHERE u.paper_code = pp.paper_code AND u.paper_no BETWEEN pp.start_no AND pp.end_no)
		FROM point_paper pp WHERE ? = '' OR pp.point_code = ? ORDER BY pp.assigned_at DESC, pp.start_no DESC LIMIT 1000`, point, point)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Distribution
	for rows.Next() {
		var d Distribution
		var at int64
		var returned sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Point, &d.Code, &d.Start, &d.End, &at, &returned, &d.Operator, &d.Used); err != nil {
			return nil, err
		}
		d.At = time.UnixMilli(at).UTC()
		if returned.Valid {
			d.ReturnedAt = time.UnixMilli(returned.Int64).UTC()
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PaperRanges lists a point's paper with each range's current number.
func (s *Store) PaperRanges(ctx context.Context, point string) ([]PaperRange, error) {
	rows, err := s.query(ctx, "SELECT paper_code, start_no, end_no FROM point_paper WHERE point_code = ? AND returned_at IS NULL ORDER BY paper_code, start_no", point)
	if err != nil {
		return nil, err
	}
	var out []PaperRange
	for rows.Next() {
		r := PaperRange{Point: point}
		if err := rows.Scan(&r.Code, &r.Start, &r.End); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	for i := range out {
		var max sql.NullInt64
		if err := s.queryRow(ctx, "SELECT MAX(paper_no) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ?",
			out[i].Code, out[i].Start, out[i].End).Scan(&max); err != nil {
			return nil, err
		}
		out[i].Current = out[i].Start
		if max.Valid {
			out[i].Current = max.Int64 + 1
		}
		if out[i].Current > out[i].End {
			out[i].Current = 0
		}
	}
	return out, rows.Err()
}

// CurrentPaper is the paper number a point must have in its printer for code.
func (s *Store) CurrentPaper(ctx context.Context, point, code string) (int64, error) {
	ranges, err := s.PaperRanges(ctx, point)
	if err != nil {
		return 0, err
	}
	for _, r := range ranges {
		if r.Code == code && r.Current > 0 {
			return r.Current, nil
		}
	}
	return 0, bill.Errorf(bill.ENoStock, "开票点 %s 没有可用的纸质票据 %s；请票据管理员分配（ebill-server paper assign）。", point, code)
}

// PrintPaper records that bill (at point) was printed on paper number no,
// which must be the point's current number. With reprint, the bill's live
// paper copy is voided first (作废重打); without, it must have none.
func (s *Store) PrintPaper(ctx context.Context, point, billCode string, billNo int64, paperCode string, no int64, operator string, reprint bool) error {
	unlock := s.issueLocks.lock(point)
	defer unlock()
	lb, err := s.LedgerBill(ctx, billCode, billNo)
	if err != nil {
		return err
	}
	if lb.Point != point {
		return bill.Errorf(bill.ENotFound, "开票点 %s 没有票据 %s %s。", point, billCode, lb.BillNo)
	}
	if rev, err := s.IsReversed(ctx, lb.ID); err != nil {
		return err
	} else if rev {
		return bill.Errorf(bill.EAlreadyReversed, "票据 %s %s 已冲销，不能换开纸质票据。", billCode, lb.BillNo)
	}
	current, err := s.CurrentPaper(ctx, point, paperCode)
	if err != nil {
		return err
	}
	if no != current {
		return bill.Errorf(bill.EConflict, "纸质票据号码 %s 与系统当前号码 %s 不一致；请核对打印机中的纸张，必要时先空白作废。",
			bill.FormatBillNo(no), bill.FormatBillNo(current))
	}
	return s.tx(ctx, func(t *dbtx) error {
		var live string
		var liveNo int64
		err := t.queryRow(ctx, "SELECT paper_code, paper_no FROM paper_usage WHERE bill_id = ? AND status = 'printed'", lb.ID).Scan(&live, &liveNo)
		switch {
		case err == nil && !reprint:
			return bill.Errorf(bill.EConflict, "票据 %s %s 已换开纸质票据 %s %s；重新打印请用 reTurnPaper。", billCode, lb.BillNo, live, bill.FormatBillNo(liveNo))
		case errors.Is(err, sql.ErrNoRows) && reprint:
			return bill.Errorf(bill.EInvalid, "票据 %s %s 没有已打印的纸质票据，请用 turnPaper。", billCode, lb.BillNo)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if reprint {
			if _, err := t.exec(ctx, "UPDATE paper_usage SET status = 'voided', voided_at = ?, void_rec_at = ?, reason = ? WHERE paper_code = ? AND paper_no = ?",
				s.millis(), s.millis(), "作废重打", live, liveNo); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, `INSERT INTO paper_usage (paper_code, paper_no, point_code, status, bill_id, operator, used_at, rec_at)
			VALUES (?,?,?,'printed',?,?,?,?)`, paperCode, no, point, lb.ID, operator, s.millis(), s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "paper.print", point, map[string]any{"bill": billCode + " " + lb.BillNo, "paper": paperCode + " " + bill.FormatBillNo(no), "reprint": reprint})
	})
}

// voidLivePaper voids a bill's live paper copy (when the bill is reversed).
func (s *Store) voidLivePaper(ctx context.Context, billID, reason string) error {
	return s.tx(ctx, func(t *dbtx) error {
		_, err := t.exec(ctx, "UPDATE paper_usage SET status = 'voided', voided_at = ?, void_rec_at = ?, reason = ? WHERE bill_id = ? AND status = 'printed'",
			s.millis(), s.millis(), reason, billID)
		return err
	})
}

// PaperBill returns the e-bill printed on a live paper number.
func (s *Store) PaperBill(ctx context.Context, point, paperCode string, no int64) (*LedgerBill, error) {
	var code string
	var billNo int64
	err := s.queryRow(ctx, `SELECT b.bill_code, b.bill_no FROM paper_usage u JOIN bills b ON b.id = u.bill_id
		WHERE u.paper_code = ? AND u.paper_no = ? AND u.point_code = ? AND u.status = 'printed'`, paperCode, no, point).Scan(&code, &billNo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "纸质票据 %s %s 不是开票点 %s 已打印的有效票据。", paperCode, bill.FormatBillNo(no), point)
	}
	if err != nil {
		return nil, err
	}
	return s.LedgerBill(ctx, code, billNo)
}

// BlankVoidPaper voids unused paper numbers from..to at a point; from must
// be the current number (the numbers before it are used already).
func (s *Store) BlankVoidPaper(ctx context.Context, point, code string, from, to int64, reason, operator string) (int64, error) {
	if strings.TrimSpace(reason) == "" {
		return 0, bill.FieldErrorf("reason", "作废原因不能为空。")
	}
	if to < from || to-from >= 10000 {
		return 0, bill.Errorf(bill.EInvalid, "空白作废的号码范围不正确（%d 至 %d，一次最多 10000 张）。", from, to)
	}
	unlock := s.issueLocks.lock(point)
	defer unlock()
	current, err := s.CurrentPaper(ctx, point, code)
	if err != nil {
		return 0, err
	}
	if from != current {
		return 0, bill.Errorf(bill.EConflict, "空白作废须从当前号码 %s 开始，收到 %s。", bill.FormatBillNo(current), bill.FormatBillNo(from))
	}
	ranges, err := s.PaperRanges(ctx, point)
	if err != nil {
		return 0, err
	}
	inRange := false
	for _, r := range ranges {
		inRange = inRange || (r.Code == code && from >= r.Start && to <= r.End)
	}
	if !inRange {
		return 0, bill.Errorf(bill.EInvalid, "纸质票据 %s %s 至 %s 不在开票点 %s 的同一段纸质票据内。", code, bill.FormatBillNo(from), bill.FormatBillNo(to), point)
	}
	err = s.tx(ctx, func(t *dbtx) error {
		for n := from; n <= to; n++ {
			if _, err := t.exec(ctx, `INSERT INTO paper_usage (paper_code, paper_no, point_code, status, reason, operator, used_at, rec_at, void_rec_at)
				VALUES (?,?,?,'blank_void',?,?,?,?,?)`, code, n, point, reason, operator, s.millis(), s.millis(), s.millis()); err != nil {
				return err
			}
		}
		return t.audit(ctx, "paper.blank_void", point, map[string]any{"code": code, "from": from, "to": to, "reason": reason})
	})
	return to - from + 1, err
}
