package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 查询统计: 开票明细 (with a bill's detail, PDF and life), 票据号码生命周期,
// 开票汇总 and 上传冲突; each list exports its whole filtered set to Excel.

// billsView is 开票明细.
type billsView struct {
	Q      url.Values
	Rows   []server.QueriedBill
	Next   template.URL // the next page's query string (encoded here)
	Export template.URL
	Points []*server.Point
	Kinds  []bill.Kind
	States []stateOption
}

var billStates = []stateOption{{"", "全部"}, {server.StateNormal, "正常"}, {server.StateReversed, "已红冲"},
	{server.StateRed, "红票"}, {server.StatePaper, "已换开纸质"}}

// dayRange reads from/to (yyyy-MM-dd, Beijing; to included).
func dayRange(v url.Values) (time.Time, time.Time, error) {
	var out [2]time.Time
	for i, name := range []string{"from", "to"} {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", s, bill.Beijing)
		if err != nil {
			return out[0], out[1], bill.Errorf(bill.EInvalid, "日期“%s”格式不正确，应为 2026-12-01 这样的年-月-日。", server.Truncate(s, 20))
		}
		out[i] = t
	}
	if !out[1].IsZero() {
		out[1] = out[1].AddDate(0, 0, 1)
	}
	return out[0], out[1], nil
}

// billQuery reads 开票明细's filter.
func billQuery(v url.Values) (server.BillQuery, error) {
	var q server.BillQuery
	var err error
	if q.From, q.To, err = dayRange(v); err != nil {
		return q, err
	}
	q.Point, q.Kind, q.State = v.Get("point"), bill.Kind(v.Get("kind")), v.Get("state")
	q.Payer, q.Patient = strings.TrimSpace(v.Get("payer")), strings.TrimSpace(v.Get("patient"))
	money := func(name, label string, dst *bill.Money, has *bool) error {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return nil
		}
		m, err := bill.ParseMoney(s)
		if err != nil {
			return bill.Errorf(bill.EInvalid, "%s“%s”应为金额，如 100.00。", label, server.Truncate(s, 20))
		}
		*dst, *has = m, true
		return nil
	}
	if err := money("min", "最低金额", &q.Min, &q.HasMin); err != nil {
		return q, err
	}
	if err := money("max", "最高金额", &q.Max, &q.HasMax); err != nil {
		return q, err
	}
	q.Code = strings.TrimSpace(v.Get("code"))
	for _, f := range []struct {
		name, label string
		dst         *int64
	}{{"noFrom", "起始号码", &q.NoFrom}, {"noTo", "终止号码", &q.NoTo}} {
		if s := strings.TrimSpace(v.Get(f.name)); s != "" {
			if *f.dst, err = parseNo(f.label, s); err != nil {
				return q, err
			}
			if q.Code == "" {
				return q, bill.Errorf(bill.EInvalid, "按号码范围查询请同时填写票据代码。")
			}
		}
	}
	q.After = v.Get("after")
	return q, nil
}

// filterOnly is the query string without the page position.
func filterOnly(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "after" {
			out[k] = vs
		}
	}
	return out
}

func (c *Console) billsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := r.URL.Query()
	bv := &billsView{Q: v, Kinds: bill.AllKinds, States: billStates, Export: template.URL(filterOnly(v).Encode())}
	page := c.view(sess, "开票明细", "/admin/bills", bv)
	var err error
	if bv.Points, err = c.store.Points(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	q, err := billQuery(v)
	if err == nil {
		var next string
		bv.Rows, next, err = c.store.QueryBills(ctx, q)
		if next != "" {
			nv := filterOnly(v)
			nv.Set("after", next)
			bv.Next = template.URL(nv.Encode())
		}
	}
	status := http.StatusOK
	if err != nil {
		page.Error, status = bill.ErrorMessage(err), statusOf(err)
	}
	c.render(w, status, "bills", page)
}

// sheet is an Excel file written row by row (excelize's stream writer:
// rows go to a temporary file, not memory).
type sheet struct {
	x   *excelize.File
	sw  *excelize.StreamWriter
	row int
}

func newSheet(header ...any) (*sheet, error) {
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		x.Close()
		return nil, err
	}
	s := &sheet{x: x, sw: sw}
	return s, s.add(header...)
}

func (s *sheet) add(cells ...any) error {
	s.row++
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	return s.sw.SetRow(cell, cells)
}

// send writes the file as an attachment named name-<now>.xlsx.
func (s *sheet) send(w http.ResponseWriter, name string) error {
	defer s.x.Close()
	if err := s.sw.Flush(); err != nil {
		return err
	}
	file := fmt.Sprintf("%s-%s.xlsx", name, time.Now().In(bill.Beijing).Format("20060102-150405"))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(file))
	return s.x.Write(w)
}

func yuan(m bill.Money) float64 { return float64(m) / 100 }

func (c *Console) billsExport(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	q, err := billQuery(r.URL.Query())
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	q.After = ""
	sh, err := newSheet("票据代码", "票据号码", "校验码", "开票时间（北京时间）", "开票点", "种类", "交款人", "患者编号", "金额（元）",
		"主要支付方式", "状态", "冲销原票", "纸质票据", "业务流水号")
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	n := 0
	err = c.store.EachBill(ctx, q, func(b *server.QueriedBill) error {
		n++
		return sh.add(b.BillCode, b.BillNo, b.CheckCode, b.IssuedAt.In(bill.Beijing).Format("2006-01-02 15:04:05"), b.Point,
			b.Kind.Name(), b.Payer, b.Patient, yuan(b.Total), b.Channel, b.State(), b.RedOfBill, b.Paper, b.BusNo)
	})
	if err == nil {
		err = c.store.RecordExport(ctx, "bills", n, r.URL.Query())
	}
	if err != nil {
		sh.x.Close()
		c.fail(w, sess, err)
		return
	}
	if err := sh.send(w, "开票明细"); err != nil {
		c.log.Error("bills export", "err", err)
	}
}

// billView is one bill with its life.
type billView struct {
	Bill   *server.LedgerBill
	Events []server.Event
	PDF    string
	OFD    string
}

func (c *Console) billPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	no, err := bill.ParseBillNo(r.PathValue("no"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	lb, events, err := c.store.BillLife(ctx, r.PathValue("code"), no)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	base := "/admin/bills/" + lb.BillCode + "/" + lb.BillNo
	c.render(w, http.StatusOK, "bill", c.view(sess, "票据 "+lb.BillCode+" "+lb.BillNo, "/admin/bills",
		&billView{Bill: lb, Events: events, PDF: base + "/pdf", OFD: base + "/ofd"}))
}

// billFile is the bill as the patient receives it: GET …/pdf shows the PDF
// in the browser, GET …/ofd downloads the OFD (GB/T 33190) for archives.
func (c *Console) billFile(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	fileType := server.FilePDF
	if strings.HasSuffix(r.URL.Path, "/ofd") {
		fileType = server.FileOFD
	}
	no, err := bill.ParseBillNo(r.PathValue("no"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	lb, _, err := c.store.BillLife(ctx, r.PathValue("code"), no)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	data, err := c.store.BillFile(ctx, lb, c.PublicURL(), fileType)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	disposition := "inline" // the PDF opens in the browser; no browser shows an OFD
	if fileType == server.FileOFD {
		disposition = "attachment"
	}
	w.Header().Set("Content-Type", server.BillFileContentType(fileType))
	w.Header().Set("Content-Disposition", disposition+`; filename="`+server.BillFileName(lb, fileType)+`"`)
	w.Write(data)
}

// numberView is 票据号码生命周期.
type numberView struct {
	Q      url.Values
	Events []server.Event
	Asked  bool
}

func (c *Console) numberPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := r.URL.Query()
	nv := &numberView{Q: v}
	page := c.view(sess, "票据号码生命周期", "/admin/numbers", nv)
	status := http.StatusOK
	if code := strings.TrimSpace(v.Get("code")); code != "" {
		nv.Asked = true
		kind := server.StockEInvoice
		if v.Get("kind") == server.StockPaper {
			kind = server.StockPaper
		}
		no, err := parseNo("号码", v.Get("no"))
		if err == nil {
			nv.Events, err = c.store.NumberLife(ctx, kind, code, no)
		}
		if err != nil {
			page.Error, status = bill.ErrorMessage(err), statusOf(err)
		}
	}
	c.render(w, status, "numbers", page)
}

// summaryView is 开票汇总.
type summaryView struct {
	Q      url.Values
	Rows   []server.SummaryRow
	Total  server.SummaryRow
	Points []*server.Point
	Export template.URL
	Names  map[string]string // pay channel names
}

func summaryQuery(v url.Values, now time.Time) (server.SummaryQuery, error) {
	q := server.SummaryQuery{ByMonth: v.Get("by") == "month", ByPoint: v.Get("point-split") != "",
		ByKind: v.Get("kind-split") != "", ByChannel: v.Get("channel-split") != "", Point: v.Get("point")}
	var err error
	if q.From, q.To, err = dayRange(v); err != nil {
		return q, err
	}
	if q.From.IsZero() {
		d := now.In(bill.Beijing)
		q.From = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, bill.Beijing)
	}
	if q.To.IsZero() {
		d := now.In(bill.Beijing)
		q.To = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, bill.Beijing).AddDate(0, 0, 1)
	}
	return q, nil
}

func (c *Console) summaryPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := r.URL.Query()
	if len(v) == 0 {
		v = url.Values{"point-split": {"1"}, "kind-split": {"1"}}
	}
	sv := &summaryView{Q: v, Export: template.URL(v.Encode()), Names: map[string]string{"": "未注明"}}
	page := c.view(sess, "开票汇总", "/admin/summary", sv)
	var err error
	if sv.Points, err = c.store.Points(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	channels, err := c.store.PayChannels(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, ch := range channels {
		sv.Names[ch.Code] = ch.Name
	}
	q, err := summaryQuery(v, c.store.Now())
	if err == nil {
		sv.Q.Set("from", q.From.Format("2006-01-02"))
		sv.Q.Set("to", q.To.AddDate(0, 0, -1).Format("2006-01-02"))
		sv.Rows, sv.Total, err = c.store.Summary(ctx, q)
	}
	status := http.StatusOK
	if err != nil {
		page.Error, status = bill.ErrorMessage(err), statusOf(err)
	}
	c.render(w, status, "summary", page)
}

func (c *Console) summaryExport(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	q, err := summaryQuery(r.URL.Query(), c.store.Now())
	var rows []server.SummaryRow
	var total server.SummaryRow
	if err == nil {
		rows, total, err = c.store.Summary(ctx, q)
	}
	var sh *sheet
	if err == nil {
		sh, err = newSheet("期间", "开票点", "种类", "支付方式", "开票张数", "开票金额（元）", "红票张数", "红冲金额（元）", "净额（元）")
	}
	if err == nil {
		for _, row := range append(rows, total) {
			kind := ""
			if row.Kind != "" {
				kind = row.Kind.Name()
			}
			if err = sh.add(row.Period, row.Point, kind, row.Channel, row.Bills, yuan(row.Amount), row.Reds, yuan(row.RedAmount), yuan(row.Net())); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = c.store.RecordExport(ctx, "summary", len(rows), r.URL.Query())
	}
	if err != nil {
		if sh != nil {
			sh.x.Close()
		}
		c.fail(w, sess, err)
		return
	}
	if err := sh.send(w, "开票汇总"); err != nil {
		c.log.Error("summary export", "err", err)
	}
}

// conflictsView is 上传冲突.
type conflictsView struct {
	Bills []server.Conflict
	Paper []server.PaperConflict
}

func (c *Console) conflictsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	cv := &conflictsView{}
	var err error
	if cv.Bills, err = c.store.Conflicts(ctx, r.URL.Query().Get("point")); err == nil {
		cv.Paper, err = c.store.PaperConflicts(ctx, r.URL.Query().Get("point"))
	}
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	c.render(w, http.StatusOK, "conflicts", c.view(sess, "上传冲突", "/admin/conflicts", cv))
}

func (c *Console) conflictsExport(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	point := r.URL.Query().Get("point")
	bills, err := c.store.Conflicts(ctx, point)
	var paper []server.PaperConflict
	if err == nil {
		paper, err = c.store.PaperConflicts(ctx, point)
	}
	var sh *sheet
	if err == nil {
		sh, err = newSheet("类别", "收到时间（北京时间）", "开票点", "票据代码", "号码", "原因")
	}
	for _, b := range bills {
		if err == nil {
			err = sh.add("电子票据", b.ReceivedAt.In(bill.Beijing).Format("2006-01-02 15:04:05"), b.Point, b.BillCode, strconv.FormatInt(b.BillNo, 10), b.Reason)
		}
	}
	for _, p := range paper {
		if err == nil {
			err = sh.add("纸质票据", p.At.In(bill.Beijing).Format("2006-01-02 15:04:05"), p.Point, p.Code, strconv.FormatInt(p.No, 10), p.Reason)
		}
	}
	if err == nil {
		err = c.store.RecordExport(ctx, "conflicts", len(bills)+len(paper), r.URL.Query())
	}
	if err != nil {
		if sh != nil {
			sh.x.Close()
		}
		c.fail(w, sess, err)
		return
	}
	if err := sh.send(w, "上传冲突"); err != nil {
		c.log.Error("conflicts export", "err", err)
	}
}
