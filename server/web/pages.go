package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
)

// homeView is 工作台: what a role can see at a glance — stock alerts,
// documents waiting for me, stations offline or behind, today's bills and
// the last 24 hours by hour.
type homeView struct {
	Alerts  []server.StockLine
	Waiting []server.StockDoc // submitted by others, for a checker
	// WaitingWO are write-off declarations and store-room voids sent by
	// others, for a checker; WaitingCount counts all that wait.
	WaitingWO    []server.WriteOff
	WaitingVoids []server.StoreVoid
	WaitingCount int
	// Inspection is the last inspection report, for those who read it.
	Inspection *server.Inspection
	Mine       []server.StockDoc // my documents returned to me
	Points     []*server.Point
	Reports    map[string]server.StationReport
	Today      server.SummaryRow
	Hourly     []server.SummaryRow
	Chart      string // the hourly figures as JSON for the chart
	Now        time.Time
	Reader     bool
	// SilentAfter is when a station counts as offline.
	SilentAfter time.Duration
}

// Trouble lists the stations offline (silent for SilentAfter), with bills
// waiting to upload or refused, or disabled.
func (h *homeView) Trouble() []*server.Point {
	var out []*server.Point
	for _, p := range h.Points {
		r, ok := h.Reports[p.Code]
		switch {
		case p.Kind != server.PointStation || !p.Active():
		case !ok || r.Silent(h.Now, SilentAfter) || r.Pending > 0 || r.Rejected > 0 || r.Paper > 0:
			out = append(out, p)
		}
	}
	return out
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	hv := &homeView{Now: c.store.Now(), Reader: sess.User.Can(server.PermReportView), SilentAfter: SilentAfter}
	err := func() error {
		if hv.Reader || sess.User.Can(server.PermInspect) {
			var err error
			if hv.Inspection, err = c.store.LastInspection(ctx); err != nil {
				return err
			}
		}
		if !hv.Reader {
			return nil
		}
		lines, err := c.store.StockReport(ctx)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if l.Alert != "" {
				hv.Alerts = append(hv.Alerts, l)
			}
		}
		docs, err := c.store.StockDocs(ctx, server.DocSubmitted, server.DocReturned)
		if err != nil {
			return err
		}
		for _, d := range docs {
			switch {
			case d.State == server.DocSubmitted && d.Maker != sess.User.Login && sess.User.Can(server.PermStockApprove):
				hv.Waiting = append(hv.Waiting, d)
			case d.State == server.DocReturned && d.Maker == sess.User.Login:
				hv.Mine = append(hv.Mine, d)
			}
		}
		if sess.User.Can(server.PermStockApprove) {
			wos, err := c.store.WriteOffs(ctx, server.WriteOffQuery{State: server.DocSubmitted})
			if err != nil {
				return err
			}
			for _, w := range wos {
				if w.Maker != sess.User.Login {
					hv.WaitingWO = append(hv.WaitingWO, w)
				}
			}
			voids, err := c.store.StoreVoids(ctx)
			if err != nil {
				return err
			}
			for _, v := range voids {
				if v.State == server.DocSubmitted && v.Maker != sess.User.Login {
					hv.WaitingVoids = append(hv.WaitingVoids, v)
				}
			}
		}
		hv.WaitingCount = len(hv.Waiting) + len(hv.WaitingWO) + len(hv.WaitingVoids)
		if hv.Points, err = c.store.Points(ctx); err != nil {
			return err
		}
		if hv.Reports, err = c.store.StationReports(ctx); err != nil {
			return err
		}
		day := hv.Now.In(bill.Beijing)
		from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, bill.Beijing)
		if _, hv.Today, err = c.store.Summary(ctx, server.SummaryQuery{From: from, To: from.AddDate(0, 0, 1)}); err != nil {
			return err
		}
		if hv.Hourly, err = c.store.HourlyTotals(ctx, 24); err != nil {
			return err
		}
		type point struct {
			Hour   string  `json:"hour"`
			Bills  int64   `json:"bills"`
			Amount float64 `json:"amount"`
		}
		var series []point
		for _, h := range hv.Hourly {
			series = append(series, point{h.Period, h.Bills, yuan(h.Amount + h.RedAmount)})
		}
		b, _ := json.Marshal(series)
		hv.Chart = string(b)
		return nil
	}()
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	c.render(w, http.StatusOK, "home", c.view(sess, "工作台", "/admin/", hv))
}

func (c *Console) view(sess *server.Session, title, active string, data any) *view {
	return &view{Title: title, User: &sess.User, Menu: menuFor(&sess.User), Active: active, Data: data}
}

func (c *Console) fail(w http.ResponseWriter, sess *server.Session, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		c.log.Error("console", "err", err)
	}
	v := c.view(sess, "出错了", "", nil)
	v.Error = bill.ErrorMessage(err)
	c.render(w, status, "error", v)
}

// meView is 个人设置: the person's own sessions.
type meView struct {
	Sessions    []server.Session
	Current     string
	BackupCodes int // unused, when a second factor is set up
}

func (c *Console) me(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	list, err := c.store.MySessions(ctx, sess.Token)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	left, err := c.store.BackupCodesLeft(ctx, sess.Token)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	v := c.view(sess, "个人设置", "/admin/me", meView{Sessions: list, Current: sess.ID, BackupCodes: left})
	v.Error = r.URL.Query().Get("error")
	v.Message = r.URL.Query().Get("ok")
	c.render(w, http.StatusOK, "me", v)
}

func (c *Console) logoutEverywhere(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	if err := c.store.LogoutEverywhere(ctx, sess.Token); err != nil {
		c.fail(w, sess, err)
		return
	}
	http.Redirect(w, r, "/admin/me?ok="+url.QueryEscape("已退出其他所有登录。"), http.StatusSeeOther)
}

// myPasswordPage changes the person's own password from 个人设置.
func (c *Console) myPasswordPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := c.view(sess, "修改密码", "/admin/me", "/admin/me/password")
	c.render(w, http.StatusOK, "password", v)
}

func (c *Console) myPassword(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	v := c.view(sess, "修改密码", "/admin/me", "/admin/me/password")
	if r.PostFormValue("new") != r.PostFormValue("confirm") {
		v.Error = "两次输入的新密码不一致，请重新输入。"
		c.render(w, http.StatusBadRequest, "password", v)
		return
	}
	next, err := c.store.ChangePassword(r.Context(), sess.Token, r.PostFormValue("old"), r.PostFormValue("new"))
	if err != nil {
		if bill.ErrorCode(err) == bill.EUnauthorized && strings.Contains(bill.ErrorMessage(err), "锁定") {
			c.toLogin(w, r, err)
			return
		}
		v.Error = bill.ErrorMessage(err)
		c.render(w, statusOf(err), "password", v)
		return
	}
	setCookie(w, next.Token)
	http.Redirect(w, r, "/admin/me?ok="+url.QueryEscape("密码已修改，其他地方的登录已全部失效。"), http.StatusSeeOther)
}

// myBackupCodes replaces the person's backup codes, on a current code.
func (c *Console) myBackupCodes(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	codes, err := c.store.RegenerateBackupCodes(ctx, sess.Token, r.PostFormValue("code"))
	if err != nil {
		if strings.Contains(bill.ErrorMessage(err), "锁定") {
			c.toLogin(w, r, err)
			return
		}
		http.Redirect(w, r, "/admin/me?error="+url.QueryEscape(bill.ErrorMessage(err)), http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "backup-codes", &view{Title: "新的备用码", User: &sess.User, Data: codes})
}

// myMFAPage sets a second factor up for a person whose role does not
// require one.
func (c *Console) myMFAPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderEnroll(w, r, sess, http.StatusOK, "")
}

func (c *Console) myMFA(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.enroll(w, r, sess)
}

// usersView is 系统管理·用户.
type usersView struct {
	Users    []server.User
	Password string // a one-time password just made, shown once
	For      string
}

func (c *Console) users(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderUsers(w, ctx, sess, http.StatusOK, "", "", usersView{})
}

func (c *Console) renderUsers(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string, uv usersView) {
	list, err := c.store.Users(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	uv.Users = list
	v := c.view(sess, "用户", "/admin/users", uv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "users", v)
}

func (c *Console) addUser(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	u := server.User{Login: strings.TrimSpace(r.PostFormValue("login")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	pw := server.OneTimePassword()
	if err := c.store.AddUser(ctx, u, pw); err != nil {
		c.renderUsers(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), usersView{})
		return
	}
	c.renderUsers(w, ctx, sess, http.StatusOK, "已创建用户 "+u.Login+"。请把一次性密码当面交给本人，并请安全管理员授予角色。", "",
		usersView{Password: pw, For: u.Login})
}

func (c *Console) setDisabled(disabled bool) func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		login := r.PathValue("login")
		if err := c.store.SetDisabled(ctx, login, disabled); err != nil {
			c.renderUsers(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), usersView{})
			return
		}
		msg := "已启用 " + login + "。"
		if disabled {
			msg = "已停用 " + login + "，其登录已失效。"
		}
		c.renderUsers(w, ctx, sess, http.StatusOK, msg, "", usersView{})
	}
}

func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	login := r.PathValue("login")
	pw, err := c.store.ResetPassword(ctx, login)
	if err != nil {
		c.renderUsers(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), usersView{})
		return
	}
	c.renderUsers(w, ctx, sess, http.StatusOK, "已重置 "+login+" 的密码，其已有的登录已失效。", "", usersView{Password: pw, For: login})
}

// statusOf is the HTTP status of a store error, as the API answers it.
func statusOf(err error) int { return api.Status(bill.ErrorCode(err)) }
