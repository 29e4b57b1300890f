package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ebill/ebill/bill"
)

// FigureLine is one line of a declaration as the form prints it: the
// console page, the PDF and the Excel file read the same lines.
type FigureLine struct {
	Key    string // a stable name, for drill-down links and tests
	Label  string
	Count  string
	Amount string
	Ranges string
	Detail string // the drill-down category, "" when none
}

// CheckLine is one check of a declaration and whether it holds.
type CheckLine struct {
	Name string
	OK   bool
	Text string
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// Lines are the declaration's figures in the order of the form.
func (w *WriteOff) Lines() []FigureLine {
	f := w.Figures
	held := func(key, label string, h Held) FigureLine {
		return FigureLine{Key: key, Label: label, Count: count(h.Count), Ranges: h.RangesText(3)}
	}
	tally := func(key, label string, t Tally, detail string) FigureLine {
		return FigureLine{Key: key, Label: label, Count: count(t.Count), Amount: t.Amount.String(), Detail: detail}
	}
	lines := []FigureLine{held("opening", "期初结存", f.Opening), held("received", "本期领入", f.Received)}
	if w.Kind == StockPaper && w.Point != "" {
		lines = append(lines, held("returned", "本期退回", f.Returned))
	}
	lines = append(lines, FigureLine{Key: "used", Label: "本期使用（号数）", Count: count(f.Used), Detail: "used"})
	if w.Kind == StockPaper {
		lines = append(lines,
			tally("normal", "　换开纸质", f.Normal, "printed"),
			tally("red", "　纸质红票", f.Red, "red"),
			FigureLine{Key: "voided", Label: "　作废", Count: count(f.Voided.Count), Ranges: f.Voided.RangesText(3), Detail: "voided"},
			FigureLine{Key: "blank", Label: "　空白作废", Count: count(f.BlankVoided.Count), Ranges: f.BlankVoided.RangesText(3), Detail: "blank"})
		if f.StoreVoided > 0 {
			lines = append(lines, FigureLine{Key: "store", Label: "　　其中库房空白作废", Count: count(f.StoreVoided)})
		}
	} else {
		lines = append(lines, tally("normal", "　正常开具", f.Normal, "normal"), tally("red", "　红冲", f.Red, "red"),
			FigureLine{Key: "net", Label: "　净额", Amount: f.Net.String()})
	}
	if f.Late.Count > 0 {
		lines = append(lines, tally("late", "　其中补记上期", f.Late, "late"))
	}
	if f.LateVoids.Count > 0 {
		lines = append(lines, FigureLine{Key: "lateVoids", Label: "上期已核销、本期作废（补记）", Count: count(f.LateVoids.Count), Ranges: f.LateVoids.RangesText(3)})
	}
	return append(lines, held("closing", "期末结存", f.Closing))
}

// Checks are the declaration's checks, each with what was compared.
func (w *WriteOff) Checks() []CheckLine {
	f := w.Figures
	out := []CheckLine{{Name: "期初 + 领入 − 退回 − 已用 = 期末", OK: f.Balanced(),
		Text: fmt.Sprintf("%d + %d − %d − %d = %d，期末 %d", f.Opening.Count, f.Received.Count, f.Returned.Count, f.Used,
			f.Opening.Count+f.Received.Count-f.Returned.Count-f.Used, f.Closing.Count)}}
	if w.Kind == StockEInvoice {
		out = append(out, CheckLine{Name: "净额 = 正常金额 − 红冲金额", OK: f.Net == f.Normal.Amount+f.Red.Amount,
			Text: fmt.Sprintf("%s = %s − %s", f.Net, f.Normal.Amount, -f.Red.Amount)})
		if h := f.HIS; h != nil {
			own := f.Used - f.Late.Count
			out = append(out, CheckLine{Name: "与 HIS 对账服务（checkTotalDataByIvcDate）一致", OK: h.Count == own+h.AfterCut,
				Text: fmt.Sprintf("HIS 答 %d 张、%s 元；本期开具 %d 张、%s 元，送审后补传 %d 张", h.Count, h.Amount, own, f.Net-f.Late.Amount, h.AfterCut)})
		}
	}
	var problems bool
	for _, p := range f.Problems {
		problems = problems || p != ""
	}
	out = append(out, CheckLine{Name: "每个已用号码只记一次、都在领入的号段内", OK: !problems, Text: problemText(f.Problems)})
	return out
}

func problemText(ps []string) string {
	if len(ps) == 0 {
		return "通过"
	}
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += "；"
		}
		s += p
	}
	return s
}

// Heading is the declaration's heading lines: who, what and when.
func (w *WriteOff) Heading(unit string) []string {
	lines := []string{
		"单位：" + unit,
		"票据种类：" + w.KindName() + "　　票据代码：" + w.Code + "　　范围：" + w.ScopeText(),
		"核销期间：" + w.PeriodText() + "　　状态：" + w.StateName(),
		"编制人：" + w.Maker + "　　编制日期：" + w.CreatedAt.In(bill.Beijing).Format("2006-01-02"),
	}
	if !w.CutAt.IsZero() {
		lines = append(lines, "数据截至："+w.CutAt.In(bill.Beijing).Format("2006-01-02 15:04:05"))
	}
	if w.Checker != "" {
		lines = append(lines, "审核人："+w.Checker+"　　审核意见："+w.Opinion)
	}
	return lines
}

// NumberRow is one used number of a declaration's drill-down.
type NumberRow struct {
	No     int64
	State  string
	Bill   string // the e-bill: code and number
	Amount bill.Money
	Point  string
	At     time.Time
	Late   bool
}

// NoText is the number as printed.
func (r NumberRow) NoText() string { return bill.FormatBillNo(r.No) }

// WriteOffNumbers lists the numbers behind one line of a declaration
// (detail: used, normal, red, late; for paper printed, red, voided,
// blank), in number order after the given number, at most limit.
func (s *Store) WriteOffNumbers(ctx context.Context, id, detail string, after int64, limit int) ([]NumberRow, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	w, err := s.writeOff(ctx, s, id)
	if err != nil {
		return nil, err
	}
	cut := s.millis()
	if !w.CutAt.IsZero() {
		cut = w.CutAt.UnixMilli()
	}
	c, _, err := s.scopeOf(ctx, w, cut)
	if err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), 1000)
	var q string
	var args []any
	if w.Kind == StockEInvoice {
		in, inArgs := c.billsIn("bill_no, red_of, bill_code, total, point_code, issued_at")
		cond := "1 = 1"
		switch detail {
		case "normal":
			cond = "red_of IS NULL"
		case "red":
			cond = "red_of IS NOT NULL"
		case "late":
			cond = "issued_at < " + strconv.FormatInt(c.from, 10)
		}
		q = `SELECT bill_no, CASE WHEN red_of IS NULL THEN '正常' ELSE '红票' END, bill_code, bill_no, total, point_code, issued_at,
			CASE WHEN issued_at < ? THEN 1 ELSE 0 END FROM ` + in + " WHERE " + cond + " AND bill_no > ? ORDER BY bill_no LIMIT ?"
		args = append(append([]any{c.from}, inArgs...), after, limit)
	} else {
		sc, sargs := c.where("u.paper_code", "u.point_code")
		cond, cargs := c.usedIn("u.used_at", "u.rec_at")
		state := "CASE WHEN u.status <> 'printed' AND u.void_rec_at <= ? THEN u.status ELSE 'printed' END"
		switch detail {
		case "printed":
			cond += " AND " + state + " = 'printed' AND b.red_of IS NULL"
			cargs = append(cargs, cut)
		case "red":
			cond += " AND " + state + " = 'printed' AND b.red_of IS NOT NULL"
			cargs = append(cargs, cut)
		case "voided", "blank":
			cond += " AND " + state + " = ?"
			cargs = append(cargs, cut, map[string]string{"voided": "voided", "blank": "blank_void"}[detail])
		case "late":
			cond, cargs = c.late("u.used_at", "u.rec_at")
		}
		q = `SELECT u.paper_no, ` + state + `, COALESCE(b.bill_code, ''), COALESCE(b.bill_no, 0), COALESCE(b.total, 0), u.point_code, u.used_at,
			CASE WHEN u.used_at < ? THEN 1 ELSE 0 END FROM paper_usage u LEFT JOIN bills b ON b.id = u.bill_id WHERE ` + sc + " AND " + cond +
			" AND u.paper_no > ? ORDER BY u.paper_no LIMIT ?"
		args = append(append(append([]any{cut, c.from}, sargs...), cargs...), after, limit)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NumberRow
	for rows.Next() {
		var r NumberRow
		var at int64
		var late int
		var billNo int64
		if err := rows.Scan(&r.No, &r.State, &r.Bill, &billNo, &r.Amount, &r.Point, &at, &late); err != nil {
			return nil, err
		}
		r.At, r.Late = time.UnixMilli(at).UTC(), late == 1
		if r.Bill != "" {
			r.Bill += " " + bill.FormatBillNo(billNo)
		}
		if w.Kind == StockPaper {
			r.State = map[string]string{"printed": "已打印", "voided": "作废", "blank_void": "空白作废"}[r.State]
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
