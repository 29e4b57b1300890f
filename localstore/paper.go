package localstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
)

// Paper usage states.
const (
	PaperPrinted   = "printed"    // live paper copy of an e-bill
	PaperVoided    = "voided"     // printed, then voided (spoiled, reprinted, reversed)
	PaperBlankVoid = "blank_void" // voided without printing
)

// MaxBlankVoid bounds one blank-void operation.
const MaxBlankVoid = 10000

// IntakePaper records a range of pre-printed paper bills received by this
// point (票源入库). Overlaps with ranges already held are refused.
func (s *Store) IntakePaper(ctx context.Context, r bill.Segment) (string, error) {
	if err := bill.CheckPaperCode(r.Code); err != nil {
		return "", err
	}
	if err := r.Validate(); err != nil {
		return "", err
	}
	allowed, known, err := s.DistributedPaper(ctx)
	if err != nil {
		return "", err
	}
	if known && !slices.ContainsFunc(allowed, func(a bill.Segment) bool { return a.Code == r.Code && a.Start <= r.Start && r.End <= a.End }) {
		return "", bill.Errorf(bill.EForbidden, "纸质票据 %s 没有分发给本开票点，不能入库。请票据管理员在管理端把这段票据分发到本开票点，同步后再入库；%s",
			r, describeDistributed(allowed))
	}
	id := uuid.Must(uuid.NewV7()).String()
	err = s.tx(ctx, func(tx *wtx) error {
		var start, end int64
		err := tx.QueryRowContext(ctx, `SELECT start_no, end_no FROM paper_ranges
			WHERE paper_code = ? AND start_no <= ? AND end_no >= ? LIMIT 1`, r.Code, r.End, r.Start).Scan(&start, &end)
		if err == nil {
			return bill.Errorf(bill.EConflict, "纸质票据 %s 与已入库的 %s 重叠，已拒绝；请核对票据号码。",
				r, bill.Segment{Code: r.Code, Start: start, End: end})
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO paper_ranges (id, paper_code, start_no, end_no, next_no, added_at)
			VALUES (?,?,?,?,?,?)`, id, r.Code, r.Start, r.End, r.Start, nowMillis(s.now()))
		return err
	})
	return id, err
}

func describeDistributed(list []bill.Segment) string {
	if len(list) == 0 {
		return "目前本开票点没有分发中的纸质票据。"
	}
	var parts []string
	for _, r := range list {
		parts = append(parts, r.String())
	}
	return "目前分发给本开票点的是：" + strings.Join(parts, "、") + "。"
}

// PaperPosition is the paper number the software expects next in the
// printer for one paper code, and how many are left.
type PaperPosition struct {
	Code      string
	Next      int64 // 0 when the stock of this code is used up
	Remaining int64
}

// PaperPositions returns the current paper number of every paper code held.
func (s *Store) PaperPositions(ctx context.Context) ([]PaperPosition, error) {
	var out []PaperPosition
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT DISTINCT paper_code FROM paper_ranges ORDER BY paper_code")
		if err != nil {
			return err
		}
		var codes []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			codes = append(codes, c)
		}
		rows.Close()
		for _, c := range codes {
			p, err := paperPosition(ctx, tx, c)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// CurrentPaper returns the paper number expected next for code; code may be
// empty when the point holds only one paper code.
func (s *Store) CurrentPaper(ctx context.Context, code string) (PaperPosition, error) {
	all, err := s.PaperPositions(ctx)
	if err != nil {
		return PaperPosition{}, err
	}
	for _, p := range all {
		if p.Code == code || (code == "" && len(all) == 1) {
			return p, nil
		}
	}
	if code == "" && len(all) > 1 {
		return PaperPosition{}, bill.Errorf(bill.EInvalid, "本机有多种纸质票据代码，请指定纸质票据代码。")
	}
	return PaperPosition{}, bill.Errorf(bill.ENoStock, "本机没有纸质票据 %s 的库存；请先做纸质票据入库。", code)
}

func paperPosition(ctx context.Context, q querier, code string) (PaperPosition, error) {
	p := PaperPosition{Code: code}
	rows, err := q.QueryContext(ctx, `SELECT start_no, end_no, next_no FROM paper_ranges WHERE paper_code = ? ORDER BY start_no`, code)
	if err != nil {
		return p, err
	}
	type rng struct{ start, end, next int64 }
	var rs []rng
	for rows.Next() {
		var r rng
		if err := rows.Scan(&r.start, &r.end, &r.next); err != nil {
			rows.Close()
			return p, err
		}
		rs = append(rs, r)
	}
	rows.Close()
	for _, r := range rs {
		var used int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ?`,
			code, r.next, r.end).Scan(&used); err != nil {
			return p, err
		}
		p.Remaining += r.end - r.next + 1 - used
		if p.Next == 0 {
			if n, ok, err := firstUnused(ctx, q, code, r.next, r.end); err != nil {
				return p, err
			} else if ok {
				p.Next = n
			}
		}
	}
	return p, nil
}

// firstUnused finds the first paper number in [from, to] with no usage row
// (numbers ahead may have been blank-voided).
func firstUnused(ctx context.Context, q querier, code string, from, to int64) (int64, bool, error) {
	for n := from; n <= to; n++ {
		var one int
		err := q.QueryRowContext(ctx, "SELECT 1 FROM paper_usage WHERE paper_code = ? AND paper_no = ?", code, n).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return n, true, nil
		}
		if err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// takePaper consumes the current paper number of code, which must be the
// number the cashier confirmed is in the printer.
func takePaper(ctx context.Context, tx *wtx, code string, confirmed int64) (int64, error) {
	p, err := paperPosition(ctx, tx, code)
	if err != nil {
		return 0, err
	}
	if p.Next == 0 {
		return 0, bill.Errorf(bill.ENoStock, "纸质票据 %s 已用完；请先做纸质票据入库。", code)
	}
	if confirmed != p.Next {
		if confirmed > p.Next {
			return 0, bill.Errorf(bill.EConflict, "打印机中的纸质票据号码 %s 与系统当前号码 %s 不一致；如中间的纸张已损坏或丢失，请先空白作废 %s 至 %s，再打印。",
				bill.FormatBillNo(confirmed), bill.FormatBillNo(p.Next), bill.FormatBillNo(p.Next), bill.FormatBillNo(confirmed-1))
		}
		return 0, bill.Errorf(bill.EConflict, "打印机中的纸质票据号码 %s 与系统当前号码 %s 不一致；请核对打印机中的纸张，按系统号码放纸后再打印。",
			bill.FormatBillNo(confirmed), bill.FormatBillNo(p.Next))
	}
	// Move the range's pointer past everything used up to and including this number.
	_, err = tx.ExecContext(ctx, `UPDATE paper_ranges SET next_no = ? + 1 WHERE paper_code = ? AND start_no <= ? AND end_no >= ?`,
		p.Next, code, p.Next, p.Next)
	return p.Next, err
}

// PaperUse is one paper number's record.
type PaperUse struct {
	Code     string
	No       int64
	Status   string
	BillID   string
	BillCode string
	BillNo   int64
	Reason   string
	Operator string
	UsedAt   time.Time
}

// ConvertToPaper prints the e-bill code+no on the paper number confirmed in
// the printer (换开纸质票据). An e-bill has at most one live paper copy; a
// reversed bill cannot be converted.
func (s *Store) ConvertToPaper(ctx context.Context, billCode string, billNo int64, paperCode string, confirmed int64, operator string) (*PaperUse, error) {
	var use *PaperUse
	err := s.tx(ctx, func(tx *wtx) (err error) {
		use, err = s.convertTx(ctx, tx, billCode, billNo, paperCode, confirmed, operator)
		return err
	})
	return use, err
}

// CheckConvert makes every check of ConvertToPaper and changes nothing:
// a caller prints after it and records with ConvertToPaper, so a print
// that fails leaves nothing recorded and the paper still blank.
func (s *Store) CheckConvert(ctx context.Context, billCode string, billNo int64, paperCode string, confirmed int64) error {
	return s.dryRun(ctx, func(tx *wtx) error {
		_, err := s.convertTx(ctx, tx, billCode, billNo, paperCode, confirmed, "")
		return err
	})
}

func (s *Store) convertTx(ctx context.Context, tx *wtx, billCode string, billNo int64, paperCode string, confirmed int64, operator string) (*PaperUse, error) {
	b, err := s.getBill(ctx, tx, "b.bill_code = ? AND b.bill_no = ?", billCode, billNo)
	if err != nil {
		return nil, err
	}
	if b.RedBy != "" {
		return nil, bill.Errorf(bill.EInvalid, "票据 %s %s 已冲红，不能换开纸质票据。", billCode, b.BillNoText())
	}
	if b.PaperCode != "" {
		return nil, bill.Errorf(bill.EConflict, "票据 %s %s 已换开纸质票据 %s %s；如需重新打印，请使用“作废重打”。",
			billCode, b.BillNoText(), b.PaperCode, bill.FormatBillNo(b.PaperNo))
	}
	return s.printPaper(ctx, tx, b, paperCode, confirmed, operator)
}

// errDryRun rolls back a transaction run only for its checks.
var errDryRun = errors.New("localstore: dry run")

func (s *Store) dryRun(ctx context.Context, fn func(*wtx) error) error {
	err := s.tx(ctx, func(tx *wtx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// Reprint voids the live paper copy of the e-bill code+no with a reason and
// prints it on the paper number confirmed in the printer (作废重打).
func (s *Store) Reprint(ctx context.Context, billCode string, billNo int64, confirmed int64, reason, operator string) (*PaperUse, error) {
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	var use *PaperUse
	err := s.tx(ctx, func(tx *wtx) (err error) {
		use, err = s.reprintTx(ctx, tx, billCode, billNo, confirmed, reason, operator)
		return err
	})
	return use, err
}

// CheckReprint makes every check of Reprint and changes nothing.
func (s *Store) CheckReprint(ctx context.Context, billCode string, billNo int64, confirmed int64, reason string) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	return s.dryRun(ctx, func(tx *wtx) error {
		_, err := s.reprintTx(ctx, tx, billCode, billNo, confirmed, reason, "")
		return err
	})
}

func (s *Store) reprintTx(ctx context.Context, tx *wtx, billCode string, billNo int64, confirmed int64, reason, operator string) (*PaperUse, error) {
	b, err := s.getBill(ctx, tx, "b.bill_code = ? AND b.bill_no = ?", billCode, billNo)
	if err != nil {
		return nil, err
	}
	if b.PaperCode == "" {
		return nil, bill.Errorf(bill.EInvalid, "票据 %s %s 没有已打印的纸质票据，无需重打；请使用“换开纸质票据”。", billCode, b.BillNoText())
	}
	if err := s.voidPrinted(ctx, tx, b.PaperCode, b.PaperNo, "作废重打："+reason, operator); err != nil {
		return nil, err
	}
	return s.printPaper(ctx, tx, b, b.PaperCode, confirmed, operator)
}

func (s *Store) printPaper(ctx context.Context, tx *wtx, b *StoredBill, paperCode string, confirmed int64, operator string) (*PaperUse, error) {
	no, err := takePaper(ctx, tx, paperCode, confirmed)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO paper_usage (paper_code, paper_no, status, bill_id, operator, used_at)
		VALUES (?,?,?,?,?,?)`, paperCode, no, PaperPrinted, b.ID, operator, nowMillis(now)); err != nil {
		return nil, err
	}
	return &PaperUse{Code: paperCode, No: no, Status: PaperPrinted, BillID: b.ID, BillCode: b.BillCode, BillNo: b.BillNo,
		Operator: operator, UsedAt: now.UTC()}, nil
}

// VoidPaper voids a printed paper bill (spoiled or taken back). The e-bill
// stays valid and may be converted again.
func (s *Store) VoidPaper(ctx context.Context, paperCode string, paperNo int64, reason, operator string) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *wtx) error {
		return s.voidPrinted(ctx, tx, paperCode, paperNo, reason, operator)
	})
}

func (s *Store) voidPrinted(ctx context.Context, tx *wtx, code string, no int64, reason, operator string) error {
	res, err := tx.ExecContext(ctx, `UPDATE paper_usage SET status = ?, reason = ?, operator = ?, voided_at = ?
		WHERE paper_code = ? AND paper_no = ? AND status = ?`, PaperVoided, reason, operator, nowMillis(s.now()), code, no, PaperPrinted)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bill.Errorf(bill.ENotFound, "纸质票据 %s %s 不是已打印的有效票据，不能作废；请核对号码。", code, bill.FormatBillNo(no))
	}
	return nil
}

// BlankVoid voids the unused paper numbers [from, to] of code (空白作废):
// spoiled blanks, or numbers skipped to bring the software in line with the
// paper in the printer. Every number must be in stock and unused.
func (s *Store) BlankVoid(ctx context.Context, code string, from, to int64, reason, operator string) (int64, error) {
	if err := checkReason(reason); err != nil {
		return 0, err
	}
	if from < 1 || to < from {
		return 0, bill.Errorf(bill.EInvalid, "空白作废的号码范围不正确：起始号应不大于终止号。")
	}
	if to-from+1 > MaxBlankVoid {
		return 0, bill.Errorf(bill.EInvalid, "一次最多空白作废 %d 张，请分批操作。", MaxBlankVoid)
	}
	err := s.tx(ctx, func(tx *wtx) error {
		var covered int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(MIN(end_no, ?) - MAX(start_no, ?) + 1), 0) FROM paper_ranges
			WHERE paper_code = ? AND start_no <= ? AND end_no >= ?`, to, from, code, to, from).Scan(&covered); err != nil {
			return err
		}
		if covered != to-from+1 {
			return bill.Errorf(bill.EInvalid, "纸质票据 %s %s 至 %s 不全在本机库存中，不能空白作废。", code, bill.FormatBillNo(from), bill.FormatBillNo(to))
		}
		var usedNo sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(paper_no) FROM paper_usage WHERE paper_code = ? AND paper_no BETWEEN ? AND ?`,
			code, from, to).Scan(&usedNo); err != nil {
			return err
		}
		if usedNo.Valid {
			return bill.Errorf(bill.EConflict, "纸质票据 %s %s 已使用，不能空白作废；请缩小范围。", code, bill.FormatBillNo(usedNo.Int64))
		}
		now := nowMillis(s.now())
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO paper_usage (paper_code, paper_no, status, reason, operator, used_at, voided_at)
			VALUES (?,?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for n := from; n <= to; n++ {
			if _, err := stmt.ExecContext(ctx, code, n, PaperBlankVoid, reason, operator, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	return to - from + 1, err
}

// PaperUsage returns the record of one paper number; ENotFound if unused.
func (s *Store) PaperUsage(ctx context.Context, code string, no int64) (*PaperUse, error) {
	var u PaperUse
	var billID, billCode sql.NullString
	var billNo sql.NullInt64
	var used int64
	err := s.read.QueryRowContext(ctx, `SELECT p.paper_code, p.paper_no, p.status, p.bill_id, b.bill_code, b.bill_no,
		p.reason, p.operator, p.used_at FROM paper_usage p LEFT JOIN bills b ON b.id = p.bill_id
		WHERE p.paper_code = ? AND p.paper_no = ?`, code, no).Scan(&u.Code, &u.No, &u.Status, &billID, &billCode, &billNo,
		&u.Reason, &u.Operator, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bill.Errorf(bill.ENotFound, "纸质票据 %s %s 尚未使用。", code, bill.FormatBillNo(no))
	}
	if err != nil {
		return nil, err
	}
	u.BillID, u.BillCode, u.BillNo, u.UsedAt = billID.String, billCode.String, billNo.Int64, fromMillis(used)
	return &u, nil
}

func checkReason(reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return bill.FieldErrorf("reason", "请填写作废原因。")
	}
	if utf8.RuneCountInString(reason) > 200 {
		return bill.FieldErrorf("reason", "原因不能超过200个字符。")
	}
	return nil
}

// readTx runs fn in one read transaction: a consistent snapshot.
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
