package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
)

// 核销管理: write-off declarations (制单 → 送审 → 审核 or 退回, 反审核,
// 已上报), their form as PDF and Excel, the drill-down to the numbers, and
// 空白票据作废 in the store room.

// writeOffsView is the list with its filter and the form for a new one.
type writeOffsView struct {
	Q        url.Values
	List     []server.WriteOff
	Codes    []string
	Points   []*server.Point
	CanMake  bool
	States   []stateOption
	Month    string // the form's default month: the last one
	Waiting  int
	Reported string
}

var writeOffStates = append(append([]stateOption{}, docStates...), stateOption{server.DocReported, "已上报"})

func (c *Console) writeOffsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderWriteOffs(w, r, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderWriteOffs(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	v := writeOffsView{Q: r.URL.Query(), CanMake: sess.User.Can(server.PermWriteOff), States: writeOffStates,
		Month: time.Now().In(bill.Beijing).AddDate(0, -1, 0).Format("2006-01")}
	if r.Method == http.MethodPost {
		v.Q = r.PostForm
	}
	from, to, err := dayRange(url.Values{"from": {r.URL.Query().Get("from")}, "to": {r.URL.Query().Get("to")}})
	if err != nil && errMsg == "" {
		status, errMsg = statusOf(err), bill.ErrorMessage(err)
	}
	q := server.WriteOffQuery{Kind: r.URL.Query().Get("kind"), Code: strings.TrimSpace(r.URL.Query().Get("code")), State: r.URL.Query().Get("state"), From: from, To: to}
	if v.List, err = c.store.WriteOffs(ctx, q); err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, d := range v.List {
		if d.State == server.DocSubmitted {
			v.Waiting++
		}
	}
	stock, err := c.store.Stock(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	seen := map[string]bool{}
	for _, s := range stock {
		if !seen[s.Kind+s.Code] {
			seen[s.Kind+s.Code] = true
			v.Codes = append(v.Codes, s.Code)
		}
	}
	if v.Points, err = c.store.Points(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	page := c.view(sess, "核销申报", "/admin/writeoffs", &v)
	page.Message, page.Error = msg, errMsg
	c.render(w, status, "writeoffs", page)
}

// periodOf reads a declaration's period: a month (yyyy-MM), or a from and
// to date, in Beijing.
func periodOf(v url.Values) (time.Time, time.Time, error) {
	if m := strings.TrimSpace(v.Get("month")); m != "" && strings.TrimSpace(v.Get("from")) == "" {
		t, err := time.ParseInLocation("2006-01", m, bill.Beijing)
		if err != nil {
			return t, t, bill.Errorf(bill.EInvalid, "月份“%s”格式不正确，应为 2026-11 这样的年-月。", server.Truncate(m, 20))
		}
		return t, t.AddDate(0, 1, 0), nil
	}
	from, to, err := dayRange(v)
	if err == nil && (from.IsZero() || to.IsZero()) {
		err = bill.Errorf(bill.EInvalid, "请选择核销月份，或填写起止日期。")
	}
	return from, to, err
}

func (c *Console) draftWriteOff(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	r.ParseForm()
	from, to, err := periodOf(r.PostForm)
	var d *server.WriteOff
	if err == nil {
		d, err = c.store.DraftWriteOff(ctx, server.WriteOffInput{Kind: r.PostFormValue("kind"), Code: r.PostFormValue("code"),
			Point: r.PostFormValue("point"), From: from, To: to, Note: r.PostFormValue("note")})
	}
	if err != nil {
		c.renderWriteOffs(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/admin/writeoffs/"+d.ID+"?made=1", http.StatusSeeOther)
}

// writeOffView is one declaration: its form, checks and actions.
type writeOffView struct {
	W        *server.WriteOff
	Lines    []server.FigureLine
	Checks   []server.CheckLine
	Me       string
	CanMake  bool
	CanCheck bool
}

func (c *Console) writeOffPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	msg := ""
	if r.URL.Query().Get("made") != "" {
		msg = "已制单。核对数字和校验结果后请送审；期间结束前不能送审。"
	}
	c.renderWriteOff(w, r, ctx, sess, r.PathValue("id"), http.StatusOK, msg, "")
}

func (c *Console) renderWriteOff(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session, id string, status int, msg, errMsg string) {
	d, err := c.store.WriteOff(ctx, id)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	v := writeOffView{W: d, Lines: d.Lines(), Checks: d.Checks(), Me: sess.User.Login,
		CanMake: sess.User.Can(server.PermWriteOff), CanCheck: sess.User.Can(server.PermStockApprove)}
	page := c.view(sess, d.Title(), "/admin/writeoffs", &v)
	page.Message, page.Error = msg, errMsg
	c.render(w, status, "writeoff", page)
}

// writeOffAction is a step on a declaration.
func (c *Console) writeOffAction(step string) func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		id, opinion := r.PathValue("id"), r.PostFormValue("opinion")
		var err error
		var msg string
		switch step {
		case "submit":
			_, err = c.store.SubmitWriteOff(ctx, id)
			msg = "已送审：数字截至此刻锁定，请通知票据审核员审核。"
		case "recompute":
			_, err = c.store.RecomputeWriteOff(ctx, id)
			msg = "已按账上最新数据重新计算。"
		case "report":
			err, msg = c.store.ReportWriteOff(ctx, id), "已标记为已上报财政部门。"
		case "delete":
			if err = c.store.DeleteWriteOff(ctx, id); err == nil {
				c.renderWriteOffs(w, r, ctx, sess, http.StatusOK, "已删除申报表。", "")
				return
			}
		case "approve":
			_, err = c.store.DecideWriteOff(ctx, id, true, opinion)
			msg = "已审核通过：本期已关账，此后记录的作废、补传计入下一期。"
		case "return":
			_, err = c.store.DecideWriteOff(ctx, id, false, opinion)
			msg = "已退回给制单人。"
		case "unapprove":
			_, err = c.store.UnapproveWriteOff(ctx, id, opinion)
			msg = "已反审核：本期重新打开，申报表回到已送审。"
		}
		if err != nil {
			c.renderWriteOff(w, r, ctx, sess, id, statusOf(err), "", bill.ErrorMessage(err))
			return
		}
		c.renderWriteOff(w, r, ctx, sess, id, http.StatusOK, msg, "")
	}
}

// writeOffReport is the declaration as a report: heading, the form, the
// income by category, the checks and warnings.
func writeOffReport(d *server.WriteOff, unit string) (string, []string, []printing.ReportTable) {
	form := printing.ReportTable{Title: "核销数字", Columns: []string{"项目", "份数", "金额（元）", "号段"}, Widths: []float64{48, 22, 30, 80}, Grid: true}
	for _, l := range d.Lines() {
		form.Rows = append(form.Rows, []string{l.Label, l.Count, l.Amount, l.Ranges})
	}
	checks := printing.ReportTable{Title: "校验", Columns: []string{"校验项", "结果", "说明"}, Widths: []float64{62, 16, 102}, Grid: true}
	for _, ch := range d.Checks() {
		res := "通过"
		if !ch.OK {
			res = "不通过"
		}
		checks.Rows = append(checks.Rows, []string{ch.Name, res, ch.Text})
	}
	tables := []printing.ReportTable{form, checks}
	if len(d.Figures.Categories) > 0 {
		cat := printing.ReportTable{Title: "按收费类别的收入", Columns: []string{"收费类别", "金额（元）"}, Widths: []float64{90, 40}, Grid: true}
		for _, l := range d.Figures.Categories {
			cat.Rows = append(cat.Rows, []string{l.Name, l.Amount.String()})
		}
		tables = append(tables, cat)
	}
	if len(d.Figures.Warnings) > 0 {
		warn := printing.ReportTable{Title: "本期提示", Columns: []string{"提示"}, Widths: []float64{180}}
		for _, s := range d.Figures.Warnings {
			warn.Rows = append(warn.Rows, []string{s})
		}
		tables = append(tables, warn)
	}
	lines := d.Heading(unit)
	return d.Title(), lines, tables
}

func (c *Console) writeOffPDF(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	d, err := c.store.WriteOff(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	u, err := c.store.Unit(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	title, lines, tables := writeOffReport(d, u.Name)
	lines = append(lines, "", "编制人签字：＿＿＿＿＿＿　　审核人签字：＿＿＿＿＿＿　　单位盖章：")
	c.sendReport(w, sess, title, lines, tables, d.CreatedAt, "writeoff-"+d.Code+"-"+d.From.In(bill.Beijing).Format("20060102"))
}

// sendReport writes a report laid out by printing.Report as an inline PDF
// named name.pdf.
func (c *Console) sendReport(w http.ResponseWriter, sess *server.Session, title string, lines []string, tables []printing.ReportTable,
	created time.Time, name string) {
	font, err := printing.DefaultFont()
	var pdf []byte
	if err == nil {
		pdf, err = printing.PDF(printing.Report(title, lines, tables, font), font, printing.PDFOptions{Created: created})
	}
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`.pdf"`)
	w.Write(pdf)
}

func (c *Console) writeOffExport(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	d, err := c.store.WriteOff(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	u, err := c.store.Unit(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	title, lines, tables := writeOffReport(d, u.Name)
	sh, err := newSheet(title)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, l := range lines {
		err = sh.add(l)
	}
	for _, t := range tables {
		_ = sh.add()
		_ = sh.add(t.Title)
		header := make([]any, len(t.Columns))
		for i, col := range t.Columns {
			header[i] = col
		}
		_ = sh.add(header...)
		for _, row := range t.Rows {
			cells := make([]any, len(row))
			for i, cell := range row {
				cells[i] = cell
				if n, err := strconv.ParseInt(cell, 10, 64); err == nil && i > 0 {
					cells[i] = n
				}
			}
			err = sh.add(cells...)
		}
	}
	// The ranges whole: the form shows the first three.
	f := d.Figures
	_ = sh.add()
	_ = sh.add("号段明细", "起始号码", "终止号码", "份数")
	for _, h := range []struct {
		name string
		held server.Held
	}{{"期初结存", f.Opening}, {"本期领入", f.Received}, {"作废", f.Voided}, {"空白作废", f.BlankVoided}, {"期末结存", f.Closing}} {
		for _, rg := range h.held.Ranges {
			err = sh.add(h.name, bill.FormatBillNo(rg.Start), bill.FormatBillNo(rg.End), rg.Len())
		}
	}
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	if err := sh.send(w, "核销申报-"+d.Code); err != nil {
		c.log.Error("write-off export", "err", err)
	}
}

// numbersView is the drill-down of one line.
type writeOffNumbersView struct {
	W      *server.WriteOff
	Detail string
	Label  string
	Rows   []server.NumberRow
	Next   int64 // the after of the next page, 0 when none
}

func (c *Console) writeOffNumbers(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	d, err := c.store.WriteOff(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	detail := r.URL.Query().Get("detail")
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	const size = 200
	rows, err := c.store.WriteOffNumbers(ctx, d.ID, detail, after, size)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	v := writeOffNumbersView{W: d, Detail: detail, Rows: rows, Label: "本期使用"}
	for _, l := range d.Lines() {
		if l.Detail == detail {
			v.Label = strings.TrimSpace(strings.ReplaceAll(l.Label, "　", ""))
		}
	}
	if len(rows) == size {
		v.Next = rows[len(rows)-1].No
	}
	c.render(w, http.StatusOK, "writeoff-numbers", c.view(sess, d.Title()+" · 号码明细", "/admin/writeoffs", &v))
}

// storeVoidsView is 空白票据作废 (the store room's).
type storeVoidsView struct {
	List     []server.StoreVoid
	Codes    []string
	Me       string
	CanMake  bool
	CanCheck bool
}

func (c *Console) storeVoidsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderStoreVoids(w, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderStoreVoids(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	v := storeVoidsView{Me: sess.User.Login, CanMake: sess.User.Can(server.PermStockReceive), CanCheck: sess.User.Can(server.PermStockApprove)}
	var err error
	if v.List, err = c.store.StoreVoids(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	stock, err := c.store.Stock(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, s := range stock {
		if s.Kind == server.StockPaper {
			v.Codes = append(v.Codes, s.Code)
		}
	}
	page := c.view(sess, "空白票据作废", "/admin/storevoids", &v)
	page.Message, page.Error = msg, errMsg
	c.render(w, status, "storevoids", page)
}

func (c *Console) draftStoreVoid(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	from, err := parseNo("起始号码", r.PostFormValue("from"))
	var to int64
	if err == nil {
		to, err = parseNo("终止号码", r.PostFormValue("to"))
	}
	var v *server.StoreVoid
	if err == nil {
		v, err = c.store.DraftStoreVoid(ctx, r.PostFormValue("code"), from, to, r.PostFormValue("reason"))
	}
	if err != nil {
		c.renderStoreVoids(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderStoreVoids(w, ctx, sess, http.StatusOK, "已送审：空白作废 "+v.Segment().String()+"，共 "+strconv.FormatInt(v.Count(), 10)+
		" 张。审核通过前这些号码仍在库存中。", "")
}

func (c *Console) decideStoreVoid(approve bool) func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		v, err := c.store.DecideStoreVoid(ctx, r.PathValue("id"), approve, r.PostFormValue("opinion"))
		if err != nil {
			c.renderStoreVoids(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
			return
		}
		msg := "已退回给制单人 " + v.Maker + "。"
		if approve {
			msg = "已审核：" + v.Segment().String() + " 已空白作废，不能再分发，计入本期纸质票据核销。"
		}
		c.renderStoreVoids(w, ctx, sess, http.StatusOK, msg, "")
	}
}
