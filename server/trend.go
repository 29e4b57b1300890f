package server

import (
	"context"
	"time"

	"github.com/ebill/ebill/bill"
)

// 票据峰值走势: bills and amounts by hour, day or month over a range, for one
// point and kind or all, beside the period just before; the peak and the
// average. Read from bill_trend, one row per hour whatever the filter.

// Trend units.
const (
	ByHour  = "hour"
	ByDay   = "day"
	ByMonth = "month"
)

// TrendQuery selects a trend: [From, To) in whole units of By.
type TrendQuery struct {
	From, To    time.Time
	By          string
	Point, Kind string // "" for all
}

// TrendPoint is one period's figures.
type TrendPoint struct {
	Label     string     `json:"label"`
	Bills     int64      `json:"bills"`
	Amount    bill.Money `json:"amount"`
	Reds      int64      `json:"reds"`
	RedAmount bill.Money `json:"redAmount"`
}

// Net is the amount after reversals.
func (p *TrendPoint) Net() bill.Money { return p.Amount + p.RedAmount }

// Trend is the series, the previous period's beside it, and the marks.
type Trend struct {
	Query     TrendQuery   `json:"-"`
	Points    []TrendPoint `json:"points"`
	Previous  []TrendPoint `json:"previous"` // the same number of periods just before
	Peak      int          `json:"peak"`     // index of the period with most bills (-1 when none)
	Average   float64      `json:"average"`  // bills per period
	Total     TrendPoint   `json:"total"`
	PrevTotal TrendPoint   `json:"prevTotal"`
}

// MaxTrendPoints bounds a trend: 92 days by hour, ten years by day.
const MaxTrendPoints = 3660

// periods lists the starts of the periods of [from, to), in Beijing time,
// and the start of the period after the last.
func periods(from, to time.Time, by string) []time.Time {
	var out []time.Time
	for t := from; t.Before(to) && len(out) <= MaxTrendPoints; {
		out = append(out, t)
		switch by {
		case ByHour:
			t = t.Add(time.Hour)
		case ByDay:
			t = t.AddDate(0, 0, 1)
		default:
			t = t.AddDate(0, 1, 0)
		}
	}
	return out
}

func periodLabel(t time.Time, by string) string {
	switch by {
	case ByHour:
		return t.Format("01-02 15:00")
	case ByDay:
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01")
}

// Trend reads the figures.
func (s *Store) Trend(ctx context.Context, q TrendQuery) (*Trend, error) {
	if _, err := s.authorize(ctx, PermReportView); err != nil {
		return nil, err
	}
	if q.By != ByHour && q.By != ByDay && q.By != ByMonth {
		return nil, bill.Errorf(bill.EInvalid, "请选择按小时、按日或按月。")
	}
	from, to := q.From.In(bill.Beijing), q.To.In(bill.Beijing)
	if q.By == ByMonth {
		from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, bill.Beijing)
		if to.Day() != 1 || to.Hour() != 0 {
			to = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, bill.Beijing).AddDate(0, 1, 0)
		}
	}
	if !to.After(from) {
		return nil, bill.Errorf(bill.EInvalid, "截止日期不能早于起始日期。")
	}
	cur := periods(from, to, q.By)
	if len(cur) > MaxTrendPoints || q.By == ByHour && len(cur) > 92*24 {
		return nil, bill.Errorf(bill.EInvalid, "时间范围太长：按小时最多 92 天，按日最多 10 年。")
	}
	// The previous period: as many units just before.
	var prevFrom time.Time
	switch q.By {
	case ByHour:
		prevFrom = from.Add(-time.Duration(len(cur)) * time.Hour)
	case ByDay:
		prevFrom = from.AddDate(0, 0, -len(cur))
	default:
		prevFrom = from.AddDate(0, -len(cur), 0)
	}
	prev := periods(prevFrom, from, q.By)
	point, kind := q.Point, q.Kind
	if point == "" {
		point = "*"
	}
	if kind == "" {
		kind = "*"
	}
	rows, err := s.query(ctx, `SELECT hour, bills, amount, reds, red_amount FROM bill_trend
		WHERE point_code = ? AND kind = ? AND hour >= ? AND hour < ?`, point, kind, prevFrom.UnixMilli()/3_600_000, to.UnixMilli()/3_600_000)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := &Trend{Query: q, Points: make([]TrendPoint, len(cur)), Previous: make([]TrendPoint, len(prev)), Peak: -1}
	for i, p := range cur {
		t.Points[i].Label = periodLabel(p, q.By)
	}
	for i, p := range prev {
		t.Previous[i].Label = periodLabel(p, q.By)
	}
	index := func(list []time.Time, at time.Time) int {
		// the last period starting at or before at
		lo, hi := 0, len(list)-1
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if list[mid].After(at) {
				hi = mid - 1
			} else {
				lo = mid
			}
		}
		return lo
	}
	for rows.Next() {
		var hour, bills, amount, reds, redAmount int64
		if err := rows.Scan(&hour, &bills, &amount, &reds, &redAmount); err != nil {
			return nil, err
		}
		at := time.UnixMilli(hour * 3_600_000).In(bill.Beijing)
		var p *TrendPoint
		if at.Before(from) {
			if len(prev) == 0 {
				continue
			}
			p = &t.Previous[index(prev, at)]
		} else {
			p = &t.Points[index(cur, at)]
		}
		p.Bills += bills
		p.Amount += bill.Money(amount)
		p.Reds += reds
		p.RedAmount += bill.Money(redAmount)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, p := range t.Points {
		addPoint(&t.Total, p)
		if p.Bills > 0 && (t.Peak < 0 || p.Bills > t.Points[t.Peak].Bills) {
			t.Peak = i
		}
	}
	for _, p := range t.Previous {
		addPoint(&t.PrevTotal, p)
	}
	if len(t.Points) > 0 {
		t.Average = float64(t.Total.Bills) / float64(len(t.Points))
	}
	t.Total.Label, t.PrevTotal.Label = "合计", "上期合计"
	return t, nil
}

func addPoint(sum *TrendPoint, p TrendPoint) {
	sum.Bills += p.Bills
	sum.Amount += p.Amount
	sum.Reds += p.Reds
	sum.RedAmount += p.RedAmount
}
