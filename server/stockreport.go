package server

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// 库存查询 and 预警设置 (console.md 票源管理): the stock of each code,
// centrally and at each billing point, with the days it lasts at the last
// 30 days' rate, and the thresholds under which it raises an alert.

// StockLine is the stock of one code, centrally (Point "") or at a point.
type StockLine struct {
	Kind      string  `json:"kind"`
	Code      string  `json:"code"`
	Point     string  `json:"point"`     // "" for the whole hospital
	Received  int64   `json:"received"`  // into the central stock (whole hospital only)
	Allocated int64   `json:"allocated"` // given to points (segments, distributed paper)
	Used      int64   `json:"used"`      // numbers used: bills issued, paper printed or voided
	Left      int64   `json:"left"`      // hospital: received − used; point: allocated − used
	PerDay    float64 `json:"perDay"`    // used per day over the last 30 days
	DaysLeft  int64   `json:"daysLeft"`  // Left at that rate; -1 when nothing was used
	Alert     string  `json:"alert"`     // why the line is below its threshold, "" if not
	MinLeft   int64   `json:"minLeft"`   // the threshold set, 0 when none
	MinDays   int64   `json:"minDays"`
}

// KindName is the stock kind in Chinese.
func (l *StockLine) KindName() string { return StockKindName(l.Kind) }

// StockReport is 库存查询: a line per code for the hospital, then a line per
// code and point, with alerts.
func (s *Store) StockReport(ctx context.Context) ([]StockLine, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	since := s.now().Add(-30 * 24 * time.Hour).UTC().UnixMilli()
	lines := map[[3]string]*StockLine{}
	line := func(kind, code, point string) *StockLine {
		k := [3]string{kind, code, point}
		if lines[k] == nil {
			lines[k] = &StockLine{Kind: kind, Code: code, Point: point}
		}
		return lines[k]
	}
	queries := []struct {
		kind, q string
		set     func(l *StockLine, n int64)
	}{
		{StockEInvoice, "SELECT code, '', SUM(end_no - start_no + 1) FROM stock WHERE kind = 'einvoice' GROUP BY code",
			func(l *StockLine, n int64) { l.Received = n }},
		{StockPaper, "SELECT code, '', SUM(end_no - start_no + 1) FROM stock WHERE kind = 'paper' GROUP BY code",
			func(l *StockLine, n int64) { l.Received = n }},
		{StockEInvoice, "SELECT bill_code, point_code, SUM(end_no - start_no + 1) FROM segments GROUP BY bill_code, point_code",
			func(l *StockLine, n int64) { l.Allocated = n }},
		{StockPaper, "SELECT paper_code, point_code, SUM(end_no - start_no + 1) FROM point_paper WHERE returned_at IS NULL GROUP BY paper_code, point_code",
			func(l *StockLine, n int64) { l.Allocated = n }},
		{StockEInvoice, "SELECT bill_code, point_code, COUNT(*) FROM bills GROUP BY bill_code, point_code",
			func(l *StockLine, n int64) { l.Used = n }},
		{StockPaper, "SELECT paper_code, point_code, COUNT(*) FROM paper_usage GROUP BY paper_code, point_code",
			func(l *StockLine, n int64) { l.Used = n }},
		{StockEInvoice, "SELECT bill_code, point_code, COUNT(*) FROM bills WHERE issued_at >= ? GROUP BY bill_code, point_code",
			func(l *StockLine, n int64) { l.PerDay = float64(n) / 30 }},
		{StockPaper, "SELECT paper_code, point_code, COUNT(*) FROM paper_usage WHERE used_at >= ? GROUP BY paper_code, point_code",
			func(l *StockLine, n int64) { l.PerDay = float64(n) / 30 }},
	}
	for _, q := range queries {
		var args []any
		if strings.Contains(q.q, "?") {
			args = append(args, since)
		}
		rows, err := s.query(ctx, q.q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var code, point string
			var n int64
			if err := rows.Scan(&code, &point, &n); err != nil {
				rows.Close()
				return nil, err
			}
			q.set(line(q.kind, code, point), n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// The hospital's line of each code sums its points'.
	for k, l := range lines {
		if k[2] == "" {
			continue
		}
		h := line(k[0], k[1], "")
		h.Allocated += l.Allocated
		h.Used += l.Used
		h.PerDay += l.PerDay
	}
	alerts, err := s.StockAlerts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]StockLine, 0, len(lines))
	for k, l := range lines {
		if k[2] == "" {
			l.Left = l.Received - l.Used
		} else {
			l.Left = l.Allocated - l.Used
		}
		l.DaysLeft = -1
		if l.PerDay > 0 {
			l.DaysLeft = int64(math.Floor(float64(l.Left) / l.PerDay))
		}
		if a, ok := alerts[k]; ok {
			l.MinLeft, l.MinDays = a.MinLeft, a.MinDays
			switch {
			case a.MinLeft > 0 && l.Left < a.MinLeft:
				l.Alert = fmt.Sprintf("余量 %d 低于预警值 %d", l.Left, a.MinLeft)
			case a.MinDays > 0 && l.DaysLeft >= 0 && l.DaysLeft < a.MinDays:
				l.Alert = fmt.Sprintf("按近 30 天用量只够 %d 天，低于预警值 %d 天", l.DaysLeft, a.MinDays)
			}
		}
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Point < b.Point
	})
	return out, nil
}

// StockAlert is a threshold: an alert when fewer than MinLeft numbers or
// MinDays days are left (0: not checked).
type StockAlert struct {
	Kind    string `json:"kind"`
	Code    string `json:"code"`
	Point   string `json:"point"`
	MinLeft int64  `json:"minLeft"`
	MinDays int64  `json:"minDays"`
}

// StockAlerts are the thresholds set, by kind, code and point.
func (s *Store) StockAlerts(ctx context.Context) (map[[3]string]StockAlert, error) {
	rows, err := s.query(ctx, "SELECT kind, code, point_code, min_left, min_days FROM stock_alerts")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[3]string]StockAlert{}
	for rows.Next() {
		var a StockAlert
		if err := rows.Scan(&a.Kind, &a.Code, &a.Point, &a.MinLeft, &a.MinDays); err != nil {
			return nil, err
		}
		out[[3]string{a.Kind, a.Code, a.Point}] = a
	}
	return out, rows.Err()
}

// SetStockAlert sets (or, with both figures 0, removes) a threshold.
func (s *Store) SetStockAlert(ctx context.Context, a StockAlert) error {
	if _, err := s.authorize(ctx, PermStockReceive); err != nil {
		return err
	}
	if a.Kind != StockEInvoice && a.Kind != StockPaper {
		return bill.Errorf(bill.EInvalid, "未知的票源种类 %q。", a.Kind)
	}
	if a.MinLeft < 0 || a.MinDays < 0 || a.MinLeft > 100_000_000 || a.MinDays > 3650 {
		return bill.Errorf(bill.EInvalid, "预警值应为 0 至 1 亿张、0 至 3650 天（0 表示不预警）。")
	}
	if a.Point != "" {
		if _, err := s.Point(ctx, a.Point); err != nil {
			return err
		}
	}
	return s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, "DELETE FROM stock_alerts WHERE kind = ? AND code = ? AND point_code = ?", a.Kind, a.Code, a.Point); err != nil {
			return err
		}
		if a.MinLeft > 0 || a.MinDays > 0 {
			if _, err := t.exec(ctx, "INSERT INTO stock_alerts (kind, code, point_code, min_left, min_days) VALUES (?,?,?,?,?)",
				a.Kind, a.Code, a.Point, a.MinLeft, a.MinDays); err != nil {
				return err
			}
		}
		return t.audit(ctx, "stock.alert", a.Code, a)
	})
}
