package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 票源管理: intake documents (制单 → 送审 → 审核 or 退回), paper distributed
// to billing points and returned, 库存查询 and 预警设置.

// docsView is the intake documents page.
type docsView struct {
	State     string // the filter, "" for all
	Docs      []server.StockDoc
	Me        string
	CanMake   bool
	CanCheck  bool
	Form      server.StockDoc // what was typed, kept after an error
	FormFrom  string
	FormTo    string
	States    []stateOption
	Submitted int // waiting for a checker
	Certs     []server.Certificate
}

type stateOption struct{ Code, Name string }

var docStates = []stateOption{{"", "全部"}, {server.DocDraft, "草稿"}, {server.DocSubmitted, "已送审"},
	{server.DocApproved, "已审核"}, {server.DocReturned, "已退回"}}

func (c *Console) stockDocs(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderDocs(w, r, ctx, sess, http.StatusOK, "", "", nil)
}

func (c *Console) renderDocs(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session, status int, msg, errMsg string, form *docsView) {
	dv := docsView{State: r.URL.Query().Get("state"), Me: sess.User.Login, States: docStates,
		CanMake: sess.User.Can(server.PermStockReceive), CanCheck: sess.User.Can(server.PermStockApprove)}
	if form != nil {
		dv.Form, dv.FormFrom, dv.FormTo = form.Form, form.FormFrom, form.FormTo
	}
	var states []string
	if dv.State != "" {
		states = []string{dv.State}
	}
	var err error
	if dv.Docs, err = c.store.StockDocs(ctx, states...); err != nil {
		c.fail(w, sess, err)
		return
	}
	if dv.Certs, err = c.store.Certificates(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, d := range dv.Docs {
		if d.State == server.DocSubmitted {
			dv.Submitted++
		}
	}
	v := c.view(sess, "票据入库", "/admin/stock/docs", &dv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "stock-docs", v)
}

func (c *Console) draftStock(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	form := &docsView{Form: server.StockDoc{Kind: r.PostFormValue("kind"), Code: strings.TrimSpace(r.PostFormValue("code")),
		Certificate: r.PostFormValue("certificate"), Note: r.PostFormValue("note")},
		FormFrom: strings.TrimSpace(r.PostFormValue("from")), FormTo: strings.TrimSpace(r.PostFormValue("to"))}
	d := form.Form
	var err error
	if d.Start, err = parseNo("起始号码", form.FormFrom); err == nil {
		d.End, err = parseNo("终止号码", form.FormTo)
	}
	var doc *server.StockDoc
	if err == nil {
		doc, err = c.store.DraftStock(ctx, d)
	}
	if err == nil && r.PostFormValue("action") == "submit" {
		err = c.store.SubmitStock(ctx, doc.ID)
		if err == nil {
			c.renderDocs(w, r, ctx, sess, http.StatusOK, "已制单并送审："+doc.KindName()+" "+doc.Segment().String()+
				"，共 "+strconv.FormatInt(doc.Count(), 10)+" 个号码，请通知票据审核员审核。", "", nil)
			return
		}
	}
	if err != nil {
		c.renderDocs(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), form)
		return
	}
	c.renderDocs(w, r, ctx, sess, http.StatusOK, "已保存草稿："+doc.Segment().String()+"。核对无误后请送审。", "", nil)
}

// parseNo reads a bill or paper number as typed: decimal digits, leading
// zeros allowed.
func parseNo(name, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 || n > bill.MaxBillNo {
		return 0, bill.Errorf(bill.EInvalid, "%s“%s”不正确：应为 1 至 %d 的数字，如 0000000001。", name, server.Truncate(s, 20), bill.MaxBillNo)
	}
	return n, nil
}

// docAction is a step on one document: 送审, 删除, 审核, 退回.
func (c *Console) docAction(step string) func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		id := r.PathValue("id")
		var err error
		var msg string
		switch step {
		case "submit":
			err, msg = c.store.SubmitStock(ctx, id), "已送审，请通知票据审核员审核。"
		case "delete":
			err, msg = c.store.DeleteStockDraft(ctx, id), "已删除入库单。"
		case "unapprove":
			var d *server.StockDoc
			if d, err = c.store.UnapproveStock(ctx, id, r.PostFormValue("opinion")); err == nil {
				msg = "已反审核：" + d.Segment().String() + " 已退出库存，入库单回到已送审。"
			}
		case "approve", "return":
			var d *server.StockDoc
			d, err = c.store.DecideStock(ctx, id, step == "approve", r.PostFormValue("opinion"))
			if err == nil && step == "approve" {
				msg = "已审核通过：" + d.KindName() + " " + d.Segment().String() + " 已入库。"
			} else if err == nil {
				msg = "已退回给制单人 " + d.Maker + "。"
			}
		}
		if err != nil {
			c.renderDocs(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), nil)
			return
		}
		c.renderDocs(w, r, ctx, sess, http.StatusOK, msg, "", nil)
	}
}

// paperView is 纸质票据分发.
type paperView struct {
	Points   []*server.Point
	Codes    []string
	List     []server.Distribution
	CanGive  bool
	Point    string // the filter
	FormFrom string
	FormTo   string
}

func (c *Console) paperPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderPaper(w, r, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderPaper(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	pv := paperView{CanGive: sess.User.Can(server.PermStockReceive), Point: r.URL.Query().Get("point")}
	var err error
	if pv.Points, err = c.store.Points(ctx); err != nil {
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
			pv.Codes = append(pv.Codes, s.Code)
		}
	}
	if pv.List, err = c.store.Distributions(ctx, pv.Point); err != nil {
		c.fail(w, sess, err)
		return
	}
	v := c.view(sess, "纸质票据分发", "/admin/stock/paper", &pv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "stock-paper", v)
}

func (c *Console) distributePaper(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	var from, to, count int64
	var err error
	if s := strings.TrimSpace(r.PostFormValue("from")); s != "" {
		if from, err = parseNo("起始号码", s); err == nil {
			to, err = parseNo("终止号码", r.PostFormValue("to"))
		}
	} else if count, err = strconv.ParseInt(strings.TrimSpace(r.PostFormValue("count")), 10, 64); err != nil {
		err = bill.Errorf(bill.EInvalid, "请填写起止号码（交给窗口的那一段），或填写张数。")
	}
	var got *server.PaperRange
	if err == nil {
		got, err = c.store.DistributePaper(ctx, r.PostFormValue("point"), r.PostFormValue("code"), from, to, count)
	}
	if err != nil {
		c.renderPaper(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderPaper(w, r, ctx, sess, http.StatusOK, "已把纸质票据 "+bill.Segment{Code: got.Code, Start: got.Start, End: got.End}.String()+
		" 分发给开票点 "+got.Point+"。收费电脑同步后即可入库。", "")
}

func (c *Console) returnPaper(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	var from int64
	var err error
	if s := strings.TrimSpace(r.PostFormValue("from")); s != "" {
		from, err = parseNo("退回起始号码", s)
	}
	var got *server.PaperRange
	if err == nil {
		got, err = c.store.ReturnPaper(ctx, r.PathValue("id"), from)
	}
	if err != nil {
		c.renderPaper(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderPaper(w, r, ctx, sess, http.StatusOK, "开票点 "+got.Point+" 已退回纸质票据 "+
		bill.Segment{Code: got.Code, Start: got.Start, End: got.End}.String()+"，已回到库存。", "")
}

// stockView is 库存查询 and 预警设置.
type stockView struct {
	Lines    []server.StockLine
	Points   map[string]string // code → name
	CanAlert bool
}

func (c *Console) stockPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderStock(w, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderStock(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	sv := stockView{CanAlert: sess.User.Can(server.PermStockReceive), Points: map[string]string{"": "全院"}}
	var err error
	if sv.Lines, err = c.store.StockReport(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	points, err := c.store.Points(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, p := range points {
		sv.Points[p.Code] = p.Name
	}
	v := c.view(sess, "库存查询", "/admin/stock", &sv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "stock", v)
}

func (c *Console) setStockAlert(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	num := func(name string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
		return n
	}
	a := server.StockAlert{Kind: r.PostFormValue("kind"), Code: r.PostFormValue("code"), Point: r.PostFormValue("point"),
		MinLeft: num("minLeft"), MinDays: num("minDays")}
	if err := c.store.SetStockAlert(ctx, a); err != nil {
		c.renderStock(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderStock(w, ctx, sess, http.StatusOK, "已保存 "+a.Code+" 的预警设置。", "")
}
