package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/ebill/ebill/bill"
)

// The daily report to the health commission (卫健委, domain.md §7): counts
// and amounts of bills and red bills and the insurance split, per billing
// point and bill kind, in a documented, versioned JSON format.

// HealthFormat and HealthVersion name the report format.
const (
	HealthFormat  = "ebill-health-daily"
	HealthVersion = 1
)

// HealthReport is one day's report.
type HealthReport struct {
	Format      string      `json:"format"`
	Version     int         `json:"version"`
	Date        string      `json:"date"` // yyyy-MM-dd, Beijing
	Unit        Unit        `json:"unit"`
	GeneratedAt time.Time   `json:"generatedAt"`
	Rows        []HealthRow `json:"rows"`
	Totals      HealthRow   `json:"totals"`
}

// HealthRow is one billing point and kind (or the totals). Amounts are
// yuan with 2 decimals; red amounts are negative.
type HealthRow struct {
	Point        string     `json:"point,omitempty"`
	PointName    string     `json:"pointName,omitempty"`
	Kind         string     `json:"kind,omitempty"`
	Bills        int        `json:"bills"`
	Amount       bill.Money `json:"amount"`
	RedBills     int        `json:"redBills"`
	RedAmount    bill.Money `json:"redAmount"`
	FundPay      bill.Money `json:"fundPay"`
	AccountPay   bill.Money `json:"accountPay"`
	OtherFundPay bill.Money `json:"otherFundPay"`
	SelfCashPay  bill.Money `json:"selfCashPay"`
	SelfPay      bill.Money `json:"selfPayAmt"`
	OwnPay       bill.Money `json:"ownPay"`
}

func (r *HealthRow) add(b *bill.Bill) {
	st := &b.Settlement
	if b.Red != nil {
		r.RedBills++
		r.RedAmount += st.TotalAmt
	} else {
		r.Bills++
		r.Amount += st.TotalAmt
	}
	r.FundPay += st.FundPay
	r.AccountPay += st.AccountPay
	r.OtherFundPay += st.OtherFundPay
	r.SelfCashPay += st.SelfCashPay
	r.SelfPay += st.SelfPayAmt
	r.OwnPay += st.OwnPay
}

// BuildHealthReport adds up the bills issued on day (Beijing).
func (s *Store) BuildHealthReport(ctx context.Context, day time.Time) (*HealthReport, error) {
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, bill.Beijing)
	unit, err := s.Unit(ctx)
	if err != nil {
		return nil, err
	}
	rep := &HealthReport{Format: HealthFormat, Version: HealthVersion, Date: day.Format("2006-01-02"), Unit: unit,
		GeneratedAt: s.now().UTC().Truncate(time.Second)}
	rows, err := s.query(ctx, `SELECT b.point_code, p.name, b.content FROM bills b JOIN points p ON p.code = b.point_code
		WHERE b.issued_at >= ? AND b.issued_at < ?`, day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byKey := map[string]*HealthRow{}
	for rows.Next() {
		var point, name string
		var content []byte
		if err := rows.Scan(&point, &name, &content); err != nil {
			return nil, err
		}
		b, err := decodeBill(content)
		if err != nil {
			return nil, err
		}
		key := point + "|" + string(b.Kind)
		r := byKey[key]
		if r == nil {
			r = &HealthRow{Point: point, PointName: name, Kind: string(b.Kind)}
			byKey[key] = r
		}
		r.add(b)
		rep.Totals.add(b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, r := range byKey {
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		return rep.Rows[i].Point+rep.Rows[i].Kind < rep.Rows[j].Point+rep.Rows[j].Kind
	})
	if rep.Rows == nil {
		rep.Rows = []HealthRow{}
	}
	return rep, nil
}

// PushHealthReport sends a day's report to url (POST, JSON), retrying a
// few times, and records the attempt and, once accepted (2xx), the time
// it was sent. A day already sent is not sent again.
func (s *Store) PushHealthReport(ctx context.Context, client *http.Client, url string, day time.Time) (bool, error) {
	date := day.In(bill.Beijing).Format("2006-01-02")
	var sent sql.NullInt64
	err := s.queryRow(ctx, "SELECT sent_at FROM health_reports WHERE report_date = ?", date).Scan(&sent)
	if err == nil && sent.Valid {
		return false, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	rep, err := s.BuildHealthReport(ctx, day)
	if err != nil {
		return false, err
	}
	body, _ := json.Marshal(rep)
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(time.Duration(attempt) * 2 * time.Second):
			}
		}
		last = postJSON(ctx, client, url, body)
		if err := s.recordHealthPush(ctx, date, url, last); err != nil {
			return false, err
		}
		if last == nil {
			return true, nil
		}
	}
	return false, bill.Errorf(bill.EUnavailable, "卫健委报送 %s 失败：%v；稍后会再次尝试。", date, last)
}

func postJSON(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}

func (s *Store) recordHealthPush(ctx context.Context, date, url string, pushErr error) error {
	var sentAt any
	msg := ""
	if pushErr == nil {
		sentAt = s.millis()
	} else {
		msg = pushErr.Error()
	}
	return s.tx(ctx, func(t *dbtx) error {
		if _, err := t.exec(ctx, `INSERT INTO health_reports (report_date, url, attempts, sent_at, last_error) VALUES (?,?,1,?,?)
			ON CONFLICT (report_date) DO UPDATE SET url = excluded.url, attempts = health_reports.attempts + 1,
			sent_at = excluded.sent_at, last_error = excluded.last_error`, date, url, sentAt, msg); err != nil {
			return err
		}
		if pushErr == nil {
			return t.audit(ctx, "health.sent", date, map[string]string{"url": url})
		}
		return nil
	})
}

// runHealthPush pushes yesterday's report after 01:00, every `every`
// (each day's report is sent until accepted), until ctx ends.
func (s *Store) runHealthPush(ctx context.Context, client *http.Client, url string, every time.Duration) {
	for {
		now := s.now().In(bill.Beijing)
		if now.Hour() >= 1 {
			if _, err := s.PushHealthReport(ctx, client, url, now.AddDate(0, 0, -1)); err != nil {
				s.log.Warn("health report", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
