package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
)

// 运维: 巡检报告 (run now, the list, one report with its PDF) and 运维日志.

type inspectionsView struct {
	List  []server.Inspection
	Log   []server.MaintenanceEntry
	Kinds map[string]string
}

func (c *Console) inspectionsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderInspections(w, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderInspections(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	v := inspectionsView{Kinds: server.MaintenanceKinds}
	var err error
	if v.List, err = c.store.Inspections(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	if v.Log, err = c.store.MaintenanceLog(ctx, ""); err != nil {
		c.fail(w, sess, err)
		return
	}
	page := c.view(sess, "巡检报告与运维日志", "/admin/inspections", &v)
	page.Message, page.Error = msg, errMsg
	c.render(w, status, "inspections", page)
}

func (c *Console) runInspection(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	rep, err := c.store.Inspect(ctx, "manual")
	if err != nil {
		c.renderInspections(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/admin/inspections/"+rep.ID, http.StatusSeeOther)
}

func (c *Console) logMaintenance(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	report := r.PostFormValue("report")
	if _, err := c.store.LogMaintenance(ctx, r.PostFormValue("kind"), r.PostFormValue("what"), report); err != nil {
		c.renderInspections(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	if report != "" {
		http.Redirect(w, r, "/admin/inspections/"+report+"?logged=1", http.StatusSeeOther)
		return
	}
	c.renderInspections(w, ctx, sess, http.StatusOK, "已记入运维日志。", "")
}

type inspectionView struct {
	R     *server.Inspection
	Log   []server.MaintenanceEntry
	Kinds map[string]string
}

func (c *Console) inspectionPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	rep, err := c.store.InspectionReport(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	v := inspectionView{R: rep, Kinds: server.MaintenanceKinds}
	if v.Log, err = c.store.MaintenanceLog(ctx, rep.ID); err != nil {
		c.fail(w, sess, err)
		return
	}
	page := c.view(sess, "巡检报告", "/admin/inspections", &v)
	if r.URL.Query().Get("logged") != "" {
		page.Message = "已记入运维日志。"
	}
	c.render(w, http.StatusOK, "inspection", page)
}

func (c *Console) inspectionPDF(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	rep, err := c.store.InspectionReport(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	log, err := c.store.MaintenanceLog(ctx, rep.ID)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	u, err := c.store.Unit(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	items := printing.ReportTable{Title: "巡检项目", Columns: []string{"项目", "结果", "说明"}, Widths: []float64{40, 16, 124}, Grid: true}
	for _, it := range rep.Items {
		items.Rows = append(items.Rows, []string{it.Name, it.StatusName(), it.Detail})
	}
	tables := []printing.ReportTable{items}
	if len(log) > 0 {
		lt := printing.ReportTable{Title: "运维处理记录", Columns: []string{"时间", "人员", "类别", "内容"}, Widths: []float64{32, 20, 20, 108}, Grid: true}
		for _, e := range log {
			lt.Rows = append(lt.Rows, []string{e.At.In(bill.Beijing).Format("2006-01-02 15:04"), e.Actor, e.KindName(), e.What})
		}
		tables = append(tables, lt)
	}
	lines := []string{"单位：" + u.Name, "巡检时间：" + rep.At.In(bill.Beijing).Format("2006-01-02 15:04:05") + "　　方式：" + rep.KindName() + "　　巡检人：" + rep.Actor}
	if rep.Anomalies > 0 {
		lines = append(lines, "结论：发现 "+strconv.Itoa(rep.Anomalies)+" 项异常，请处理并记入运维日志。")
	} else {
		lines = append(lines, "结论：各项正常。")
	}
	c.sendReport(w, sess, "系统巡检报告", lines, tables, rep.At, "inspection-"+rep.At.In(bill.Beijing).Format("20060102-1504"))
}
