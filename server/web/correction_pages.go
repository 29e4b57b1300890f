package web

import (
	"context"
	"net/http"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 数据修正: 修正申请 (a bill administrator), 修正审批 (a checker, who carries
// it out by approving), 修正记录 (everyone who reads reports).

type correctionsView struct {
	List     []server.Correction
	State    string
	States   []stateOption
	Kinds    map[string]string
	Me       string
	CanMake  bool
	CanCheck bool
	Waiting  int
}

var correctionStates = []stateOption{{"", "全部"}, {server.DocSubmitted, "已送审"}, {server.DocReturned, "已退回"}, {server.DocDone, "已执行"}}

func (c *Console) correctionsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderCorrections(w, r, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderCorrections(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	v := correctionsView{State: r.URL.Query().Get("state"), States: correctionStates, Kinds: server.CorrectionKindNames, Me: sess.User.Login,
		CanMake: sess.User.Can(server.PermCorrect), CanCheck: sess.User.Can(server.PermStockApprove)}
	var err error
	if v.List, err = c.store.Corrections(ctx, v.State); err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, x := range v.List {
		if x.State == server.DocSubmitted {
			v.Waiting++
		}
	}
	page := c.view(sess, "数据修正", "/admin/corrections", &v)
	page.Message, page.Error = msg, errMsg
	c.render(w, status, "corrections", page)
}

func (c *Console) requestCorrection(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	p := server.Proposal{Payer: r.PostFormValue("payer"), PatientNo: r.PostFormValue("patientNo"), Remark: r.PostFormValue("remark"),
		Tel: r.PostFormValue("tel"), Point: r.PostFormValue("point"), Name: r.PostFormValue("name"), Unit: r.PostFormValue("unit"),
		Price: r.PostFormValue("price"), PaperState: r.PostFormValue("paperState")}
	switch r.PostFormValue("itemState") {
	case "disable":
		p.Disabled = new(bool)
		*p.Disabled = true
	case "enable":
		p.Disabled = new(bool)
	}
	x, err := c.store.RequestCorrection(ctx, r.PostFormValue("kind"), r.PostFormValue("target"), r.PostFormValue("reason"), r.PostFormValue("evidence"), p)
	if err != nil {
		c.renderCorrections(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderCorrections(w, r, ctx, sess, http.StatusOK, "已提交修正申请："+x.Target+"，"+x.ProposalText()+"。请通知票据审核员审批，审批通过后由系统执行。", "")
}

func (c *Console) decideCorrection(approve bool) func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		x, err := c.store.DecideCorrection(ctx, r.PathValue("id"), approve, r.PostFormValue("opinion"))
		if err != nil {
			c.renderCorrections(w, r, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
			return
		}
		msg := "已退回给申请人 " + x.Maker + "。"
		if approve {
			msg = "已审批并执行：" + x.Result + "。"
		}
		c.renderCorrections(w, r, ctx, sess, http.StatusOK, msg, "")
	}
}
