package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 审计管理 (the auditor) and 安全管理 (the security administrator).

// auditView is the audit query page.
type auditView struct {
	Q       url.Values
	Records []server.AuditRecord
	Next    template.URL // the next page's query string, "" on the last
	Export  template.URL // the export's query string
	Checked string       // the verification's outcome
}

// auditQuery reads the query's fields: dates as yyyy-MM-dd (Beijing), the
// end date included.
func auditQuery(v url.Values) (server.AuditQuery, error) {
	q := server.AuditQuery{Actor: v.Get("actor"), Action: v.Get("action")}
	var err error
	if q.From, q.To, err = dayRange(v); err != nil {
		return q, err
	}
	q.Before, _ = strconv.ParseInt(v.Get("before"), 10, 64)
	return q, nil
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := r.URL.Query()
	av := auditView{Q: v}
	page := c.view(sess, "审计查询", "/admin/audit", &av)
	q, err := auditQuery(v)
	if err == nil {
		var next int64
		av.Records, next, err = c.store.QueryAudit(ctx, q)
		if next != 0 {
			nv := url.Values{}
			for k, vs := range v {
				nv[k] = vs
			}
			nv.Set("before", strconv.FormatInt(next, 10))
			av.Next = template.URL(nv.Encode())
		}
	}
	ev := url.Values{}
	for _, k := range []string{"from", "to", "actor", "action"} {
		ev.Set(k, v.Get(k))
	}
	av.Export = template.URL(ev.Encode())
	status := http.StatusOK
	if err != nil {
		page.Error, status = bill.ErrorMessage(err), statusOf(err)
	}
	c.render(w, status, "audit", page)
}

func (c *Console) auditExport(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	q, err := auditQuery(r.URL.Query())
	q.Before = 0
	var recs []server.AuditRecord
	if err == nil {
		recs, err = c.store.ExportAudit(ctx, q)
	}
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	sh, err := newSheet("序号", "时间（北京时间）", "操作人", "来源", "事件", "对象", "详情", "哈希")
	for i := 0; err == nil && i < len(recs); i++ {
		rec := recs[i]
		err = sh.add(rec.Seq, rec.At.In(bill.Beijing).Format("2006-01-02 15:04:05.000"), rec.Actor, rec.Remote, rec.Action,
			rec.Target, string(rec.Detail), rec.Hash)
	}
	if err != nil {
		if sh != nil {
			sh.x.Close()
		}
		c.fail(w, sess, err)
		return
	}
	if err := sh.send(w, "审计记录"); err != nil {
		c.log.Error("audit export", "err", err)
	}
}

func (c *Console) auditVerify(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	n, err := c.store.CheckAudit(ctx)
	av := auditView{Q: url.Values{}}
	page := c.view(sess, "审计查询", "/admin/audit", &av)
	if err != nil {
		page.Error = fmt.Sprintf("完整性校验未通过（已校验 %d 条）：%s", n, bill.ErrorMessage(err))
		c.render(w, http.StatusOK, "audit", page)
		return
	}
	page.Message = fmt.Sprintf("完整性校验通过：%d 条审计记录首尾相连，未被改动。", n)
	c.render(w, http.StatusOK, "audit", page)
}

// securityView is 安全管理.
type securityView struct {
	Users  []server.User
	Roles  []roleChoice
	Policy server.Policy
}

type roleChoice struct{ Code, Name string }

func (c *Console) security(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderSecurity(w, ctx, sess, http.StatusOK, r.URL.Query().Get("ok"), "")
}

func (c *Console) renderSecurity(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	users, err := c.store.Users(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	p, err := c.store.Policy(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	sv := securityView{Users: users, Policy: p}
	for _, r := range server.RoleOrder {
		sv.Roles = append(sv.Roles, roleChoice{r, server.RoleNames[r]})
	}
	page := c.view(sess, "安全管理", "/admin/security", sv)
	page.Message, page.Error = msg, errMsg
	c.render(w, status, "security", page)
}

// securityAction runs one change and shows the page again with its outcome.
func (c *Console) securityAction(change func(ctx context.Context, r *http.Request) (string, error)) func(http.ResponseWriter, *http.Request, context.Context, *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		msg, err := change(ctx, r)
		if err != nil {
			c.renderSecurity(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
			return
		}
		http.Redirect(w, r, "/admin/security?ok="+url.QueryEscape(msg), http.StatusSeeOther)
	}
}

func (c *Console) setRoles(ctx context.Context, r *http.Request) (string, error) {
	login := r.PathValue("login")
	if err := r.ParseForm(); err != nil {
		return "", bill.Errorf(bill.EInvalid, "表单无法读取。")
	}
	roles := r.PostForm["role"]
	if err := c.store.SetRoles(ctx, login, roles); err != nil {
		return "", err
	}
	return fmt.Sprintf("已把 %s 的角色改为：%s；其已有的登录已失效。", login, roleNames(roles)), nil
}

func (c *Console) unlock(ctx context.Context, r *http.Request) (string, error) {
	login := r.PathValue("login")
	return "已解除 " + login + " 的锁定。", c.store.Unlock(ctx, login)
}

func (c *Console) resetMFA(ctx context.Context, r *http.Request) (string, error) {
	login := r.PathValue("login")
	return "已重置 " + login + " 的动态验证码，其下次登录时须重新绑定。", c.store.ResetMFA(ctx, login)
}

func (c *Console) setPolicy(ctx context.Context, r *http.Request) (string, error) {
	p, err := c.store.Policy(ctx)
	if err != nil {
		return "", err
	}
	for _, f := range []struct {
		name string
		to   *int
	}{{"minLength", &p.MinLength}, {"history", &p.History}, {"maxAgeDays", &p.MaxAgeDays}, {"maxFailures", &p.MaxFailures},
		{"lockMinutes", &p.LockMinutes}, {"idleMinutes", &p.IdleMinutes}, {"sessionHours", &p.SessionHours}} {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(f.name)))
		if err != nil {
			return "", bill.Errorf(bill.EInvalid, "“%s”应为整数。", f.name)
		}
		*f.to = n
	}
	if err := c.store.SetPolicy(ctx, p); err != nil {
		return "", err
	}
	return "已更新安全策略。", nil
}
