package server

import (
	"context"
	"database/sql"
	"errors"
	"strings"

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
// server point.
func (s *Store) AssignPaper(ctx context.Context, point, code string, count int64) (*PaperRange, error) {
	if count < 1 || count > 100000 {
		return nil, bill.Errorf(bill.EInvalid, "一次分配 1 至 100000 张纸质票据，收到 %d。", count)
	}
	p, err := s.Point(ctx, point)
	if err != nil {
		return nil, err
	}
	if p.Kind != PointServer {
		return nil, bill.Errorf(bill.EInvalid, "开票点 %s 是收费电脑开票点，纸质票据由收费电脑入库（ebill paper intake）。", point)
	}
	var r *PaperRange
	err = s.tx(ctx, func(t *dbtx) error {
		var stockID string
		var next, end int64
		err := t.queryRow(ctx, `SELECT id, next_no, end_no FROM stock WHERE kind = 'paper' AND code = ? AND next_no <= end_no
			ORDER BY start_no LIMIT 1`+s.forUpdate(), code).Scan(&stockID, &next, &end)
		if errors.Is(err, sql.ErrNoRows) {
			return bill.Errorf(bill.ENoStock, "纸质票据 %s 没有可分配的库存，请先入库（ebill-server stock receive --kind paper）。", code)
		}
		if err != nil {
			return err
		}
		last := min(next+count-1, end)
		if _, err := t.exec(ctx, "UPDATE stock SET next_no = ? WHERE id = ?", last+1, stockID); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO point_paper (id, point_code, paper_code, start_no, end_no, stock_id, assigned_at)
			VALUES (?,?,?,?,?,?,?)`, uuid.Must(uuid.NewV7()).String(), point, code, next, last, stockID, s.millis()); err != nil {
			return err
		}
		r = &PaperRange{Point: point, Code: code, Start: next, End: last}
		return t.audit(ctx, "paper.assign", point, r)
	})
	return r, err
}

// PaperRanges lists a point's paper with each range's current number.
func (s *Store) PaperRanges(ctx context.Context, point string) ([]PaperRange, error) {
	rows, err := s.query(ctx, "SELECT paper_code, start_no, end_no FROM point_paper WHERE point_code = ? ORDER BY paper_code, start_no", point)
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
			if _, err := t.exec(ctx, "UPDATE paper_usage SET status = 'voided', voided_at = ?, reason = ? WHERE paper_code = ? AND paper_no = ?",
				s.millis(), "作废重打", live, liveNo); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, `INSERT INTO paper_usage (paper_code, paper_no, point_code, status, bill_id, operator, used_at)
			VALUES (?,?,?,'printed',?,?,?)`, paperCode, no, point, lb.ID, operator, s.millis()); err != nil {
			return err
		}
		return t.audit(ctx, "paper.print", point, map[string]any{"bill": billCode + " " + lb.BillNo, "paper": paperCode + " " + bill.FormatBillNo(no), "reprint": reprint})
	})
}

// voidLivePaper voids a bill's live paper copy (when the bill is reversed).
func (s *Store) voidLivePaper(ctx context.Context, billID, reason string) error {
	return s.tx(ctx, func(t *dbtx) error {
		_, err := t.exec(ctx, "UPDATE paper_usage SET status = 'voided', voided_at = ?, reason = ? WHERE bill_id = ? AND status = 'printed'",
			s.millis(), reason, billID)
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
			if _, err := t.exec(ctx, `INSERT INTO paper_usage (paper_code, paper_no, point_code, status, reason, operator, used_at)
				VALUES (?,?,?,'blank_void',?,?,?)`, code, n, point, reason, operator, s.millis()); err != nil {
				return err
			}
		}
		return t.audit(ctx, "paper.blank_void", point, map[string]any{"code": code, "from": from, "to": to, "reason": reason})
	})
	return to - from + 1, err
}
