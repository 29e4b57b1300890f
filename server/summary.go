package server

import (
	"context"
	"sort"
	"time"

	"github.com/ebill/ebill/bill"
)

// 查询统计·开票汇总: bills and amounts by day or month (Beijing time), by
// billing point, kind and pay channel, read from the hourly figures.

// SummaryQuery selects a summary.
type SummaryQuery struct {
	From, To time.Time // [From, To), whole Beijing days
	ByMonth  bool
	// Which of point, kind and channel the rows are split by.
	ByPoint, ByKind, ByChannel bool
	Point                      string // only this point, when set
}

// SummaryRow is one row: a period and (as split) a point, kind, channel.
type SummaryRow struct {
	Period    string     `json:"period"` // 2026-12-01 or 2026-12
	Point     string     `json:"point"`
	Kind      bill.Kind  `json:"kind"`
	Channel   string     `json:"channel"`
	Bills     int64      `json:"bills"`     // blue bills
	Amount    bill.Money `json:"amount"`    // their amount
	Reds      int64      `json:"reds"`      // red bills
	RedAmount bill.Money `json:"redAmount"` // their amount (negative)
}

// Net is the amount after reversals.
func (r *SummaryRow) Net() bill.Money { return r.Amount + r.RedAmount }

// Summary is 开票汇总, rows in period order, then point, kind, channel, and
// the total row.
func (s *Store) Summary(ctx context.Context, q SummaryQuery) ([]SummaryRow, SummaryRow, error) {
	var total SummaryRow
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, total, err
	}
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return nil, total, bill.Errorf(bill.EInvalid, "请选择起止日期，截止日期不能早于起始日期。")
	}
	if q.To.Sub(q.From) > 5*366*24*time.Hour {
		return nil, total, bill.Errorf(bill.EInvalid, "一次最多汇总 5 年。")
	}
	// Read by Beijing day (bill_daily: (UTC hour + 8) / 24 is the Beijing
	// day number); months are summed here. From and To are Beijing
	// midnights, so whole days.
	day := func(t time.Time) int64 { return (t.UnixMilli()/3_600_000 + 8) / 24 }
	where := " WHERE day >= ? AND day < ?"
	args := []any{day(q.From), day(q.To)}
	if q.Point != "" {
		where, args = where+" AND point_code = ?", append(args, q.Point)
	}
	rows, err := s.query(ctx, `SELECT day, point_code, kind, channel, red, bills, amount FROM bill_daily`+where, args...)
	if err != nil {
		return nil, total, err
	}
	defer rows.Close()
	type key struct {
		period, point, kind, channel string
	}
	sums := map[key]*SummaryRow{}
	for rows.Next() {
		var day, red, bills, amount int64
		var point, kind, channel string
		if err := rows.Scan(&day, &point, &kind, &channel, &red, &bills, &amount); err != nil {
			return nil, total, err
		}
		date := time.Unix(day*86400, 0).UTC() // the Beijing date, as a UTC midnight
		k := key{period: date.Format("2006-01-02")}
		if q.ByMonth {
			k.period = date.Format("2006-01")
		}
		if q.ByPoint {
			k.point = point
		}
		if q.ByKind {
			k.kind = kind
		}
		if q.ByChannel {
			k.channel = channel
		}
		r := sums[k]
		if r == nil {
			r = &SummaryRow{Period: k.period, Point: k.point, Kind: bill.Kind(k.kind), Channel: k.channel}
			sums[k] = r
		}
		for _, t := range []*SummaryRow{r, &total} {
			if red == 1 {
				t.Reds += bills
				t.RedAmount += bill.Money(amount)
			} else {
				t.Bills += bills
				t.Amount += bill.Money(amount)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, total, err
	}
	out := make([]SummaryRow, 0, len(sums))
	for _, r := range sums {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Period != b.Period {
			return a.Period < b.Period
		}
		if a.Point != b.Point {
			return a.Point < b.Point
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Channel < b.Channel
	})
	total.Period = "合计"
	return out, total, nil
}

// HourlyTotals are the last hours' bills and amounts for the dashboard:
// one entry per hour, oldest first, ending with the hour now in.
func (s *Store) HourlyTotals(ctx context.Context, hours int) ([]SummaryRow, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	now := s.now().UnixMilli() / 3_600_000
	first := now - int64(hours) + 1
	rows, err := s.query(ctx, "SELECT hour, red, SUM(bills), SUM(amount) FROM bill_stats WHERE hour >= ? GROUP BY hour, red", first)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]SummaryRow, hours)
	for i := range out {
		out[i].Period = time.UnixMilli((first + int64(i)) * 3_600_000).In(bill.Beijing).Format("15:00")
	}
	for rows.Next() {
		var hour, red, bills, amount int64
		if err := rows.Scan(&hour, &red, &bills, &amount); err != nil {
			return nil, err
		}
		i := hour - first
		if i < 0 || i >= int64(hours) {
			continue
		}
		if red == 1 {
			out[i].Reds += bills
			out[i].RedAmount += bill.Money(amount)
		} else {
			out[i].Bills += bills
			out[i].Amount += bill.Money(amount)
		}
	}
	return out, rows.Err()
}
