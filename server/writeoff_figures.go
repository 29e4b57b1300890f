package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// The figures of a write-off declaration (console.md 核销), computed from
// the ledger, never typed. Events belong to a declaration by their own time
// (a bill's issue, a sheet's use) and by when the server recorded them:
// what was recorded after the previous declaration's cut, though its time
// lies before this period, is late (补记) and counted here, visibly.
//
// The numbers held at a moment (期初, 期末) are computed as sets — the
// ranges received up to then less the numbers used — and the numbers used
// in the period as a count of events, so the identity
// 期初 + 领入 − 退回 − 已用 = 期末 checks one against the other.

// Span is a run of numbers, both ends included.
type Span struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Len is how many numbers the run holds.
func (r Span) Len() int64 { return r.End - r.Start + 1 }

func (r Span) String() string {
	if r.Start == r.End {
		return bill.FormatBillNo(r.Start)
	}
	return bill.FormatBillNo(r.Start) + "–" + bill.FormatBillNo(r.End)
}

// Held is a count of numbers and their ranges.
type Held struct {
	Count  int64  `json:"count"`
	Ranges []Span `json:"ranges,omitempty"`
}

// RangesText is the ranges as people read them, the first n and a tail.
func (h Held) RangesText(n int) string {
	var parts []string
	for i, r := range h.Ranges {
		if i == n {
			parts = append(parts, fmt.Sprintf("等 %d 段", len(h.Ranges)))
			break
		}
		parts = append(parts, r.String())
	}
	return strings.Join(parts, "，")
}

// Tally is a count of bills or sheets and their amount.
type Tally struct {
	Count  int64      `json:"count"`
	Amount bill.Money `json:"amount"`
}

// CategoryLine is the income of one charge category in the period.
type CategoryLine struct {
	Name   string     `json:"name"`
	Amount bill.Money `json:"amount"`
}

// HISCross is what the HIS reconciliation service (checkTotalDataByIvcDate:
// bills by issue day) answers for the declaration's dates and code, and
// how many of those bills reached the server after the cut.
type HISCross struct {
	Count    int64      `json:"count"`
	Amount   bill.Money `json:"amount"`
	AfterCut int64      `json:"afterCut"`
}

// WriteOffFigures are a declaration's figures. For e-bills Normal and Red
// are 正常开具 and 红冲; for paper they are 换开纸质 and 纸质红票, with
// Voided (作废) and BlankVoided (空白作废) beside them.
type WriteOffFigures struct {
	Opening     Held           `json:"opening"`
	Received    Held           `json:"received"`
	Returned    Held           `json:"returned"` // paper returned by a point (a point's paper declaration)
	Used        int64          `json:"used"`     // numbers used in the period
	Normal      Tally          `json:"normal"`
	Red         Tally          `json:"red"` // amounts negative, as the red bills carry them
	Net         bill.Money     `json:"net"`
	Voided      Held           `json:"voided"`
	BlankVoided Held           `json:"blankVoided"`
	StoreVoided int64          `json:"storeVoided"` // of BlankVoided, voided in the store room
	Late        Tally          `json:"late"`        // of the used, late (补记)
	LateVoids   Held           `json:"lateVoids"`   // sheets used in a closed period, voided in this one
	Closing     Held           `json:"closing"`
	Categories  []CategoryLine `json:"categories,omitempty"`
	HIS         *HISCross      `json:"his,omitempty"`
	Problems    []string       `json:"problems,omitempty"` // a declaration with any cannot be sent
	Warnings    []string       `json:"warnings,omitempty"`
	Cut         time.Time      `json:"cut"`
}

// Balanced reports whether 期初 + 领入 − 退回 − 已用 = 期末.
func (f *WriteOffFigures) Balanced() bool {
	return f.Opening.Count+f.Received.Count-f.Returned.Count-f.Used == f.Closing.Count
}

// scope selects a declaration's events: its kind, code and point, its
// period and the cuts.
type scope struct {
	kind, code, point string
	from, to          int64 // [from, to), ms
	prevCut           int64 // the previous declaration's cut; 0 when there is none
	cut               int64
	prevClosing       *Held          // the previous declaration's 期末 when it is closed and adjoins this one
	categories        []CategoryLine // already computed at this cut (approval recomputes all else)
}

// usedBefore is the condition on (time, recorded) of events counted before
// the period: by the previous declaration, or all earlier when none.
func (c scope) usedBefore(at, rec string) (string, []any) {
	if c.prevCut > 0 {
		return at + " < ? AND " + rec + " <= ?", []any{c.from, c.prevCut}
	}
	return at + " < ? AND " + rec + " <= ?", []any{c.from, c.cut}
}

// usedIn is the condition of events counted in the period: in it, or late.
func (c scope) usedIn(at, rec string) (string, []any) {
	q, args := "(("+at+" >= ? AND "+at+" < ? AND "+rec+" <= ?)", []any{c.from, c.to, c.cut}
	if c.prevCut > 0 {
		q, args = q+" OR ("+at+" < ? AND "+rec+" > ? AND "+rec+" <= ?)", append(args, c.from, c.prevCut, c.cut)
	}
	return q + ")", args
}

// usedUpTo is the condition of events counted up to the period's end.
func (c scope) usedUpTo(at, rec string) (string, []any) {
	return at + " < ? AND " + rec + " <= ?", []any{c.to, c.cut}
}

// late is the condition of the late events among usedIn.
func (c scope) late(at, rec string) (string, []any) {
	if c.prevCut == 0 {
		return "1 = 0", nil
	}
	return at + " < ? AND " + rec + " > ? AND " + rec + " <= ?", []any{c.from, c.prevCut, c.cut}
}

// billsIn is a table of the bills the period counts, with cols: those
// issued in it, and those issued before it but received since the
// previous declaration's cut — two index ranges (bill_code, issued_at and
// received_at) rather than one scan of the code's every bill.
func (c scope) billsIn(cols string) (string, []any) {
	sc, sargs := c.where("bill_code", "point_code")
	q := "(SELECT " + cols + " FROM bills WHERE " + sc + " AND issued_at >= ? AND issued_at < ? AND received_at <= ?"
	args := append(slices.Clone(sargs), c.from, c.to, c.cut)
	if c.prevCut > 0 {
		q += " UNION ALL SELECT " + cols + " FROM bills WHERE " + sc + " AND received_at > ? AND received_at <= ? AND issued_at < ?"
		args = append(append(args, sargs...), c.prevCut, c.cut, c.from)
	}
	return q + ") b", args
}

// where is the scope's own condition on a table with the code and point
// columns named.
func (c scope) where(codeCol, pointCol string) (string, []any) {
	q, args := codeCol+" = ?", []any{c.code}
	if c.point != "" {
		q, args = q+" AND "+pointCol+" = ?", append(args, c.point)
	}
	return q, args
}

func (s *Store) writeOffFigures(ctx context.Context, q querier, c scope) (*WriteOffFigures, error) {
	f := &WriteOffFigures{Cut: time.UnixMilli(c.cut).UTC()}
	var err error
	if c.kind == StockPaper {
		err = s.paperFigures(ctx, q, c, f)
	} else {
		err = s.billFigures(ctx, q, c, f)
	}
	if err != nil {
		return nil, err
	}
	if !f.Balanced() {
		f.Problems = append(f.Problems, fmt.Sprintf("期初 %d + 领入 %d − 退回 %d − 已用 %d = %d，与期末结存 %d 不符",
			f.Opening.Count, f.Received.Count, f.Returned.Count, f.Used, f.Opening.Count+f.Received.Count-f.Returned.Count-f.Used, f.Closing.Count))
	}
	return f, nil
}

// holdings are the ranges received (a point's: given to it) before at, or
// in [from, to) when from > 0; returned, a point's paper returned then.
func (s *Store) holdings(ctx context.Context, q querier, c scope, from, to int64, returned bool) ([]Span, error) {
	var sqlText string
	var args []any
	switch {
	case c.kind == StockEInvoice && c.point == "":
		sqlText, args = "SELECT start_no, end_no FROM stock WHERE kind = 'einvoice' AND code = ? AND received_at >= ? AND received_at < ?", []any{c.code, from, to}
	case c.kind == StockEInvoice:
		sqlText, args = "SELECT start_no, end_no FROM segments WHERE bill_code = ? AND point_code = ? AND allocated_at >= ? AND allocated_at < ?",
			[]any{c.code, c.point, from, to}
	case c.point == "":
		sqlText, args = "SELECT start_no, end_no FROM stock WHERE kind = 'paper' AND code = ? AND received_at >= ? AND received_at < ?", []any{c.code, from, to}
	case returned:
		sqlText, args = "SELECT start_no, end_no FROM point_paper WHERE paper_code = ? AND point_code = ? AND returned_at >= ? AND returned_at < ?",
			[]any{c.code, c.point, from, to}
	case from == 0: // held at to: given before and not returned by then
		sqlText, args = `SELECT start_no, end_no FROM point_paper WHERE paper_code = ? AND point_code = ? AND assigned_at < ?
			AND (returned_at IS NULL OR returned_at >= ?)`, []any{c.code, c.point, to, to}
	default:
		sqlText, args = "SELECT start_no, end_no FROM point_paper WHERE paper_code = ? AND point_code = ? AND assigned_at >= ? AND assigned_at < ?",
			[]any{c.code, c.point, from, to}
	}
	return spans(ctx, q, sqlText+" ORDER BY start_no", args...)
}

func spans(ctx context.Context, q querier, sqlText string, args ...any) ([]Span, error) {
	rows, err := q.query(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Span
	for rows.Next() {
		var r Span
		if err := rows.Scan(&r.Start, &r.End); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// islands are the runs of consecutive numbers of a column, with a
// condition (gaps and islands: a number less its rank is constant along
// a run).
func islands(ctx context.Context, q querier, table, col, cond string, args ...any) ([]Span, error) {
	return spans(ctx, q, `SELECT MIN(n), MAX(n) FROM (SELECT `+col+` AS n, `+col+` - ROW_NUMBER() OVER (ORDER BY `+col+`) AS g
		FROM `+table+` WHERE `+cond+`) x GROUP BY g ORDER BY 1`, args...)
}

// normalize sorts runs and joins those that touch or overlap.
func normalize(rs []Span) []Span {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Span) int { return int(min(max(a.Start-b.Start, -1), 1)) })
	var out []Span
	for _, r := range rs {
		if n := len(out); n > 0 && r.Start <= out[n-1].End+1 {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtract is have less used, and how many used numbers lay outside have.
func subtract(have, used []Span) (left []Span, outside int64) {
	have, used = normalize(have), normalize(used)
	var inside int64
	j := 0
	for _, h := range have {
		next := h.Start
		for j < len(used) && used[j].End < h.Start {
			j++
		}
		for k := j; k < len(used) && used[k].Start <= h.End; k++ {
			u := used[k]
			if u.Start > next {
				left = append(left, Span{next, u.Start - 1})
			}
			lo, hi := max(u.Start, h.Start), min(u.End, h.End)
			inside += hi - lo + 1
			next = max(next, hi+1)
		}
		if next <= h.End {
			left = append(left, Span{next, h.End})
		}
	}
	var total int64
	for _, u := range used {
		total += u.Len()
	}
	return left, total - inside
}

func held(rs []Span) Held {
	rs = normalize(rs)
	h := Held{Ranges: rs}
	for _, r := range rs {
		h.Count += r.Len()
	}
	return h
}

// heldAt is what was held at the end of the used events' condition: the
// holdings before at less the used numbers; numbers used outside what was
// held become a problem.
func (s *Store) heldAt(ctx context.Context, q querier, c scope, at int64, used []Span, f *WriteOffFigures, label string) (Held, error) {
	have, err := s.holdings(ctx, q, c, 0, at, false)
	if err != nil {
		return Held{}, err
	}
	left, outside := subtract(have, used)
	if outside > 0 {
		f.Problems = append(f.Problems, fmt.Sprintf("%s有 %d 个已用号码不在已领入的号段内", label, outside))
	}
	return held(left), nil
}

func (s *Store) billFigures(ctx context.Context, q querier, c scope, f *WriteOffFigures) error {
	in, inArgs := c.billsIn("red_of, total")
	rows, err := q.query(ctx, `SELECT CASE WHEN red_of IS NULL THEN 0 ELSE 1 END, COUNT(*), COALESCE(SUM(total), 0) FROM `+in+
		` GROUP BY CASE WHEN red_of IS NULL THEN 0 ELSE 1 END`, inArgs...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var red int
		var t Tally
		if err := rows.Scan(&red, &t.Count, &t.Amount); err != nil {
			rows.Close()
			return err
		}
		if red == 1 {
			f.Red = t
		} else {
			f.Normal = t
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	f.Used = f.Normal.Count + f.Red.Count
	var net, n int64
	if err := q.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM "+in, inArgs...).Scan(&n, &net); err != nil {
		return err
	}
	f.Net = bill.Money(net)
	if f.Net != f.Normal.Amount+f.Red.Amount || n != f.Used {
		f.Problems = append(f.Problems, fmt.Sprintf("净额 %s 元与正常开具 %s 元减红冲 %s 元不符", f.Net, f.Normal.Amount, -f.Red.Amount))
	}
	sc, sargs := c.where("bill_code", "point_code")
	lt, ltArgs := c.late("issued_at", "received_at")
	if err := q.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM bills WHERE "+sc+" AND "+lt, append(sargs, ltArgs...)...).
		Scan(&f.Late.Count, &f.Late.Amount); err != nil {
		return err
	}
	// Every used number once, within a segment its point was given.
	nums, numArgs := c.billsIn("point_code, bill_code, bill_no")
	var stray int64
	// A point's segments of a code do not overlap: the one that could hold a
	// number is the last to start at or before it — one index seek.
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM `+nums+` WHERE COALESCE((SELECT g.end_no FROM segments g
		WHERE g.point_code = b.point_code AND g.bill_code = b.bill_code AND g.start_no <= b.bill_no ORDER BY g.start_no DESC LIMIT 1), 0) < b.bill_no`,
		numArgs...).Scan(&stray); err != nil {
		return err
	}
	if stray > 0 {
		f.Problems = append(f.Problems, fmt.Sprintf("%d 张票据的号码不在其开票点领用的号段内", stray))
	}
	used := func() ([]Span, error) {
		t, args := c.billsIn("bill_no")
		return islands(ctx, q, t, "bill_no", "1 = 1", args...)
	}
	if err := s.openClose(ctx, q, c, f, "bills", "bill_no", "issued_at", "received_at", sc, sargs, used, nil, nil, nil); err != nil {
		return err
	}
	if c.categories != nil {
		f.Categories = c.categories // computed at the same cut before
	} else if err := s.categories(ctx, q, c, f); err != nil {
		return err
	}
	return s.hisCross(ctx, q, c, f)
}

// openClose fills 期初, 领入, 退回 and 期末. With the previous declaration
// closed and adjoining, 期初 is its 期末 and 期末 is 期初 with what was
// received, less what was returned and the numbers used in the period
// (islands of table's col, plus extraIn): a month's work, however long
// the ledger. Otherwise both ends are computed from the whole ledger: what
// was received up to then less the numbers used before (extraBefore and
// extraUpTo are the store room's blank voids).
func (s *Store) openClose(ctx context.Context, q querier, c scope, f *WriteOffFigures, table, col, at, rec, sc string, sargs []any,
	usedInPeriod func() ([]Span, error), extraBefore, extraUpTo, extraIn []Span) error {
	recv, err := s.holdings(ctx, q, c, c.from, c.to, false)
	if err != nil {
		return err
	}
	f.Received = held(recv)
	var ret []Span
	if c.kind == StockPaper && c.point != "" {
		if ret, err = s.holdings(ctx, q, c, c.from, c.to, true); err != nil {
			return err
		}
		f.Returned = held(ret)
	}
	if c.prevClosing != nil {
		f.Opening = *c.prevClosing
		var usedIn []Span
		if usedInPeriod != nil {
			usedIn, err = usedInPeriod()
		} else {
			in, inArgs := c.usedIn(at, rec)
			usedIn, err = islands(ctx, q, table, col, sc+" AND "+in, append(slices.Clone(sargs), inArgs...)...)
		}
		if err != nil {
			return err
		}
		have, _ := subtract(append(slices.Clone(f.Opening.Ranges), recv...), ret)
		left, outside := subtract(have, append(usedIn, extraIn...))
		if outside > 0 {
			f.Problems = append(f.Problems, fmt.Sprintf("本期有 %d 个已用号码不在期初结存或本期领入的号段内", outside))
		}
		f.Closing = held(left)
		return nil
	}
	before, bArgs := c.usedBefore(at, rec)
	usedBefore, err := islands(ctx, q, table, col, sc+" AND "+before, append(slices.Clone(sargs), bArgs...)...)
	if err != nil {
		return err
	}
	upTo, uArgs := c.usedUpTo(at, rec)
	usedUpTo, err := islands(ctx, q, table, col, sc+" AND "+upTo, append(slices.Clone(sargs), uArgs...)...)
	if err != nil {
		return err
	}
	if f.Opening, err = s.heldAt(ctx, q, c, c.from, append(usedBefore, extraBefore...), f, "期初"); err != nil {
		return err
	}
	f.Closing, err = s.heldAt(ctx, q, c, c.to, append(usedUpTo, extraUpTo...), f, "期末")
	return err
}

// categories is the period's income by charge category, from the signed
// content of its bills, read in one pass.
func (s *Store) categories(ctx context.Context, q querier, c scope, f *WriteOffFigures) error {
	sums := map[string]bill.Money{}
	in, args := c.billsIn("content")
	rows, err := q.query(ctx, "SELECT content FROM "+in, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var content []byte
		if err := rows.Scan(&content); err != nil {
			return err
		}
		b, err := decodeBill(content)
		if err != nil {
			return err
		}
		for _, l := range b.Settlement.ChargeDetail {
			sums[strings.TrimSpace(string(l.ChargeName))] += l.Amt // a red bill's lines are negative
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for name, amt := range sums {
		f.Categories = append(f.Categories, CategoryLine{Name: name, Amount: amt})
	}
	slices.SortFunc(f.Categories, func(a, b CategoryLine) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// hisCross asks what the HIS reconciliation service answers for the
// period — the same NumberRanges that checkTotalDataByIvcDate sums — and
// compares: it must equal the period's own bills (late ones aside) plus
// those received after the cut.
func (s *Store) hisCross(ctx context.Context, q querier, c scope, f *WriteOffFigures) error {
	runs, err := s.NumberRanges(ctx, LedgerFilter{Point: c.point, From: time.UnixMilli(c.from), To: time.UnixMilli(c.to)})
	if err != nil {
		return err
	}
	h := &HISCross{}
	for _, r := range runs {
		if r.BillCode == c.code {
			h.Count, h.Amount = h.Count+int64(r.Count), h.Amount+r.Total
		}
	}
	sc, sargs := c.where("bill_code", "point_code")
	if err := q.queryRow(ctx, "SELECT COUNT(*) FROM bills WHERE "+sc+" AND issued_at >= ? AND issued_at < ? AND received_at > ?",
		append(sargs, c.from, c.to, c.cut)...).Scan(&h.AfterCut); err != nil {
		return err
	}
	f.HIS = h
	own := f.Used - f.Late.Count
	if h.Count != own+h.AfterCut {
		f.Problems = append(f.Problems, fmt.Sprintf("HIS 对账服务（checkTotalDataByIvcDate）同期答 %d 张、%s 元，与本期 %d 张（另有送审后上传 %d 张）不符",
			h.Count, h.Amount, own, h.AfterCut))
	} else if h.AfterCut == 0 && h.Amount != f.Net-f.Late.Amount {
		f.Problems = append(f.Problems, fmt.Sprintf("HIS 对账服务同期金额 %s 元与本期 %s 元不符", h.Amount, f.Net-f.Late.Amount))
	}
	if h.AfterCut > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("送审后又上传了本期开具的 %d 张票据，将计入下一期（补记）", h.AfterCut))
	}
	return nil
}

func (s *Store) paperFigures(ctx context.Context, q querier, c scope, f *WriteOffFigures) error {
	sc, sargs := c.where("u.paper_code", "u.point_code")
	in, inArgs := c.usedIn("u.used_at", "u.rec_at")
	// A sheet's state as of the cut: a void recorded after it is not yet.
	state := "CASE WHEN u.status <> 'printed' AND u.void_rec_at <= ? THEN u.status ELSE 'printed' END"
	rows, err := q.query(ctx, `SELECT `+state+`, CASE WHEN b.red_of IS NULL THEN 0 ELSE 1 END, COUNT(*), COALESCE(SUM(b.total), 0)
		FROM paper_usage u LEFT JOIN bills b ON b.id = u.bill_id WHERE `+sc+` AND `+in+` GROUP BY 1, 2`,
		append(append([]any{c.cut}, sargs...), inArgs...)...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var st string
		var red int
		var t Tally
		if err := rows.Scan(&st, &red, &t.Count, &t.Amount); err != nil {
			rows.Close()
			return err
		}
		switch {
		case st == "printed" && red == 1:
			f.Red.Count, f.Red.Amount = f.Red.Count+t.Count, f.Red.Amount+t.Amount
		case st == "printed":
			f.Normal.Count, f.Normal.Amount = f.Normal.Count+t.Count, f.Normal.Amount+t.Amount
		}
		f.Used += t.Count
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	f.Net = f.Normal.Amount + f.Red.Amount
	us, uargs := c.where("paper_code", "point_code")
	inU, inUArgs := c.usedIn("used_at", "rec_at")
	st := "CASE WHEN status <> 'printed' AND void_rec_at <= ? THEN status ELSE 'printed' END"
	voided, err := islands(ctx, q, "paper_usage", "paper_no", us+" AND "+inU+" AND "+st+" = 'voided'", append(append(slices.Clone(uargs), inUArgs...), c.cut)...)
	if err != nil {
		return err
	}
	f.Voided = held(voided)
	blank, err := islands(ctx, q, "paper_usage", "paper_no", us+" AND "+inU+" AND "+st+" = 'blank_void'", append(append(slices.Clone(uargs), inUArgs...), c.cut)...)
	if err != nil {
		return err
	}
	var storeBefore, storeUpTo, storeIn []Span
	if c.point == "" {
		if storeBefore, err = spans(ctx, q, "SELECT start_no, end_no FROM paper_store_voids WHERE code = ? AND state = 'approved' AND decided_at < ?", c.code, c.from); err != nil {
			return err
		}
		if storeUpTo, err = spans(ctx, q, "SELECT start_no, end_no FROM paper_store_voids WHERE code = ? AND state = 'approved' AND decided_at < ? AND decided_at <= ?",
			c.code, c.to, c.cut); err != nil {
			return err
		}
		if storeIn, err = spans(ctx, q, `SELECT start_no, end_no FROM paper_store_voids WHERE code = ? AND state = 'approved' AND decided_at >= ? AND decided_at < ?
			AND decided_at <= ?`, c.code, c.from, c.to, c.cut); err != nil {
			return err
		}
	}
	for _, r := range storeIn {
		f.StoreVoided += r.Len()
	}
	f.Used += f.StoreVoided
	f.BlankVoided = held(append(blank, storeIn...))
	// Sheets used before the period, their void recorded in it: late voids.
	before, bArgs := c.usedBefore("used_at", "rec_at")
	lateVoid := "status <> 'printed' AND void_rec_at <= ?"
	lvArgs := []any{c.cut}
	if c.prevCut > 0 {
		lateVoid += " AND void_rec_at > ?"
		lvArgs = append(lvArgs, c.prevCut)
	} else {
		lateVoid += " AND 1 = 0"
	}
	lateVoids, err := islands(ctx, q, "paper_usage", "paper_no", us+" AND "+before+" AND "+lateVoid, append(append(slices.Clone(uargs), bArgs...), lvArgs...)...)
	if err != nil {
		return err
	}
	f.LateVoids = held(lateVoids)
	lt, ltArgs := c.late("u.used_at", "u.rec_at")
	if err := q.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(b.total), 0) FROM paper_usage u LEFT JOIN bills b ON b.id = u.bill_id WHERE "+sc+" AND "+lt,
		append(slices.Clone(sargs), ltArgs...)...).Scan(&f.Late.Count, &f.Late.Amount); err != nil {
		return err
	}
	// Every used sheet once: no store-room void over a recorded use.
	var clash int64
	if c.point == "" {
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM paper_usage u JOIN paper_store_voids v ON v.code = u.paper_code AND u.paper_no BETWEEN v.start_no AND v.end_no
			WHERE v.state = 'approved' AND u.paper_code = ?`, c.code).Scan(&clash); err != nil {
			return err
		}
	}
	if clash > 0 {
		f.Problems = append(f.Problems, fmt.Sprintf("%d 张纸质票据既有使用记录又在库房空白作废中", clash))
	}
	return s.openClose(ctx, q, c, f, "paper_usage", "paper_no", "used_at", "rec_at", us, uargs, nil, storeBefore, storeUpTo, storeIn)
}
