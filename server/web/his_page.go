package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 安全管理·HIS 应用: the callers of the HIS interface, the billing points
// each may act for and the addresses each may call from.

type hisView struct {
	Apps   []server.HISApp
	Key    string // a new app's key, shown once
	KeyFor string
}

func (c *Console) hisApps(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderHIS(w, ctx, sess, http.StatusOK, r.URL.Query().Get("ok"), "", hisView{})
}

func (c *Console) renderHIS(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string, hv hisView) {
	apps, err := c.store.HISApps(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	hv.Apps = apps
	v := c.view(sess, "HIS 应用", "/admin/his-apps", hv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "his-apps", v)
}

// splitAddresses reads a list typed with commas, spaces or new lines.
func splitAddresses(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (c *Console) addHISApp(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	raw := make([]byte, 24)
	rand.Read(raw)
	key := base64.RawURLEncoding.EncodeToString(raw)
	app := server.HISApp{AppID: strings.TrimSpace(r.PostFormValue("appid")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Points: splitAddresses(r.PostFormValue("points")), AllowFrom: splitAddresses(r.PostFormValue("allow"))}
	// AddHISApp replaces an existing app's key: here only new apps.
	if _, err := c.store.LookupHISApp(ctx, app.AppID); err == nil {
		c.renderHIS(w, ctx, sess, http.StatusConflict, "", "应用 "+app.AppID+" 已存在；更换密钥请用命令 ebill-server his-app add。", hisView{})
		return
	} else if bill.ErrorCode(err) != bill.ENotFound {
		c.fail(w, sess, err)
		return
	}
	if err := c.store.AddHISApp(ctx, app, key); err != nil {
		c.renderHIS(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), hisView{})
		return
	}
	c.renderHIS(w, ctx, sess, http.StatusOK, "已登记应用 "+app.AppID+"。请把密钥安全地交给 HIS 厂商（只显示这一次）。", "",
		hisView{Key: key, KeyFor: app.AppID})
}

func (c *Console) setHISAllow(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	appid := r.PathValue("appid")
	if err := c.store.SetHISAppAllowFrom(ctx, appid, splitAddresses(r.PostFormValue("allow"))); err != nil {
		c.renderHIS(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), hisView{})
		return
	}
	http.Redirect(w, r, "/admin/his-apps?ok="+url.QueryEscape("已更新应用 "+appid+" 允许的来源地址。"), http.StatusSeeOther)
}

func (c *Console) disableHISApp(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	appid := r.PathValue("appid")
	if err := c.store.DisableHISApp(ctx, appid); err != nil {
		c.renderHIS(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), hisView{})
		return
	}
	http.Redirect(w, r, "/admin/his-apps?ok="+url.QueryEscape("已停用应用 "+appid+"，其调用从现在起返回 E1002。"), http.StatusSeeOther)
}
