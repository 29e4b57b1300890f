package web

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 查询统计·票据峰值走势: the chart (ECharts, drawn by static/trend.js from
// the figures the page carries), the table of the same figures, Excel.

type trendView struct {
	Q      url.Values
	Trend  *server.Trend
	Chart  string // JSON for the chart
	Points []*server.Point
	Kinds  []bill.Kind
	Export template.URL
}

// trendQuery reads the form: from/to as days (to included), by, point, kind.
// Without dates: the last 30 days by day.
func trendQuery(v url.Values, now time.Time) (server.TrendQuery, error) {
	q := server.TrendQuery{By: v.Get("by"), Point: v.Get("point"), Kind: v.Get("kind")}
	if q.By == "" {
		q.By = server.ByDay
	}
	var err error
	if q.From, q.To, err = dayRange(v); err != nil {
		return q, err
	}
	today := now.In(bill.Beijing)
	if q.To.IsZero() {
		q.To = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, bill.Beijing).AddDate(0, 0, 1)
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	return q, nil
}

func (c *Console) trendPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := r.URL.Query()
	tv := &trendView{Q: v, Kinds: bill.AllKinds, Export: template.URL(v.Encode())}
	page := c.view(sess, "票据峰值走势", "/admin/trend", tv)
	var err error
	if tv.Points, err = c.store.Points(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	q, err := trendQuery(v, c.store.Now())
	if err == nil {
		tv.Q.Set("from", q.From.In(bill.Beijing).Format("2006-01-02"))
		tv.Q.Set("to", q.To.In(bill.Beijing).AddDate(0, 0, -1).Format("2006-01-02"))
		tv.Q.Set("by", q.By)
		tv.Trend, err = c.store.Trend(ctx, q)
	}
	if err != nil {
		page.Error = bill.ErrorMessage(err)
		c.render(w, statusOf(err), "trend", page)
		return
	}
	type pt struct {
		Label  string  `json:"label"`
		Bills  int64   `json:"bills"`
		Amount float64 `json:"amount"`
		Prev   int64   `json:"prev"`
		PrevAm float64 `json:"prevAmount"`
	}
	var series []pt
	for i, p := range tv.Trend.Points {
		s := pt{Label: p.Label, Bills: p.Bills, Amount: yuan(p.Net())}
		if i < len(tv.Trend.Previous) {
			s.Prev, s.PrevAm = tv.Trend.Previous[i].Bills, yuan(tv.Trend.Previous[i].Net())
		}
		series = append(series, s)
	}
	b, _ := json.Marshal(series)
	tv.Chart = string(b)
	c.render(w, http.StatusOK, "trend", page)
}

func (c *Console) trendExport(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	q, err := trendQuery(r.URL.Query(), c.store.Now())
	var t *server.Trend
	if err == nil {
		t, err = c.store.Trend(ctx, q)
	}
	var sh *sheet
	if err == nil {
		sh, err = newSheet("期间", "开票张数", "开票金额（元）", "红票张数", "红冲金额（元）", "净额（元）", "上期期间", "上期张数", "上期净额（元）")
	}
	for i := 0; err == nil && i < len(t.Points); i++ {
		p := t.Points[i]
		var pl string
		var pb int64
		var pn float64
		if i < len(t.Previous) {
			pl, pb, pn = t.Previous[i].Label, t.Previous[i].Bills, yuan(t.Previous[i].Net())
		}
		err = sh.add(p.Label, p.Bills, yuan(p.Amount), p.Reds, yuan(p.RedAmount), yuan(p.Net()), pl, pb, pn)
	}
	if err == nil {
		err = c.store.RecordExport(ctx, "trend", len(t.Points), r.URL.Query())
	}
	if err != nil {
		if sh != nil {
			sh.x.Close()
		}
		c.fail(w, sess, err)
		return
	}
	if err := sh.send(w, "票据峰值走势"); err != nil {
		c.log.Error("trend export", "err", err)
	}
}
