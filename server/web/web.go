// Package web is the management console (console.md): server-rendered
// pages under /admin for the finance office, its checkers, IT and the
// three MLPS administrators. Every page calls the same store functions as
// the command line and the APIs, which check the signed-in person's
// permission themselves; the console checks too, to show only what a role
// may do.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// Prefix is where the console is served.
const Prefix = "/admin/"

// CookieName is the session cookie.
const CookieName = "ebill_session"

// MaxBody bounds a console request (security.md IP-3).
const MaxBody = 1 << 20

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console serves the management console.
type Console struct {
	store *server.Store
	log   *slog.Logger
	mux   *http.ServeMux
	pages *template.Template
	csrf  *http.CrossOriginProtection
	// fingerprint is the TLS certificate's, shown with enrolment codes.
	fingerprint string
}

// New is the console over a ledger.
func New(store *server.Store, log *slog.Logger) *Console {
	if log == nil {
		log = slog.Default()
	}
	c := &Console{store: store, log: log, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	c.pages = template.Must(template.New("").Funcs(template.FuncMap{
		"beijing": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(bill.Beijing).Format("2006-01-02 15:04")
		},
		"roleNames": roleNames,
		"hasRole":   func(roles []string, r string) bool { return slices.Contains(roles, r) },
		"join":      func(list []string) string { return strings.Join(list, ", ") },
		"sub1":      func(end, start int64) int64 { return end - start + 1 },
	}).ParseFS(templateFS, "templates/*.html"))
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /admin/login", c.loginPage)
	c.mux.HandleFunc("POST /admin/login", c.login)
	c.mux.HandleFunc("GET /admin/mfa", c.step(server.StageMFA, c.mfaPage))
	c.mux.HandleFunc("POST /admin/mfa", c.step(server.StageMFA, c.mfa))
	c.mux.HandleFunc("GET /admin/password", c.step(server.StagePassword, c.passwordPage))
	c.mux.HandleFunc("POST /admin/password", c.step(server.StagePassword, c.password))
	c.mux.HandleFunc("GET /admin/enroll", c.step(server.StageEnroll, c.enrollPage))
	c.mux.HandleFunc("POST /admin/enroll", c.step(server.StageEnroll, c.enroll))
	c.mux.HandleFunc("POST /admin/logout", c.logout)
	c.mux.HandleFunc("GET /admin/{$}", c.page("", c.home))
	c.mux.HandleFunc("GET /admin/me", c.page("", c.me))
	c.mux.HandleFunc("POST /admin/me/logout-everywhere", c.page("", c.logoutEverywhere))
	c.mux.HandleFunc("GET /admin/me/password", c.page("", c.myPasswordPage))
	c.mux.HandleFunc("POST /admin/me/backup-codes", c.page("", c.myBackupCodes))
	c.mux.HandleFunc("GET /admin/me/mfa", c.page("", c.myMFAPage))
	c.mux.HandleFunc("POST /admin/me/mfa", c.page("", c.myMFA))
	c.mux.HandleFunc("POST /admin/me/password", c.page("", c.myPassword))
	c.mux.HandleFunc("GET /admin/users", c.page(server.PermUserManage, c.users))
	c.mux.HandleFunc("POST /admin/users", c.page(server.PermUserManage, c.addUser))
	c.mux.HandleFunc("POST /admin/users/{login}/disable", c.page(server.PermUserManage, c.setDisabled(true)))
	c.mux.HandleFunc("POST /admin/users/{login}/enable", c.page(server.PermUserManage, c.setDisabled(false)))
	c.mux.HandleFunc("POST /admin/users/{login}/reset-password", c.page(server.PermUserManage, c.resetPassword))
	c.mux.HandleFunc("GET /admin/security", c.page(server.PermRoleGrant, c.security))
	c.mux.HandleFunc("POST /admin/security/users/{login}/roles", c.page(server.PermRoleGrant, c.securityAction(c.setRoles)))
	c.mux.HandleFunc("POST /admin/security/users/{login}/unlock", c.page(server.PermUnlock, c.securityAction(c.unlock)))
	c.mux.HandleFunc("POST /admin/security/users/{login}/reset-mfa", c.page(server.PermMFAReset, c.securityAction(c.resetMFA)))
	c.mux.HandleFunc("POST /admin/security/policy", c.page(server.PermPolicy, c.securityAction(c.setPolicy)))
	c.mux.HandleFunc("GET /admin/his-apps", c.page(server.PermHISApps, c.hisApps))
	c.mux.HandleFunc("POST /admin/his-apps", c.page(server.PermHISApps, c.addHISApp))
	c.mux.HandleFunc("POST /admin/his-apps/{appid}/allow", c.page(server.PermHISApps, c.setHISAllow))
	c.mux.HandleFunc("POST /admin/his-apps/{appid}/disable", c.page(server.PermHISApps, c.disableHISApp))
	c.mux.HandleFunc("GET /admin/stock", c.page(server.PermReportView, c.stockPage))
	c.mux.HandleFunc("POST /admin/stock/alerts", c.page(server.PermStockReceive, c.setStockAlert))
	c.mux.HandleFunc("GET /admin/stock/docs", c.page(server.PermReportView, c.stockDocs))
	c.mux.HandleFunc("POST /admin/stock/docs", c.page(server.PermStockReceive, c.draftStock))
	c.mux.HandleFunc("POST /admin/stock/docs/{id}/submit", c.page(server.PermStockReceive, c.docAction("submit")))
	c.mux.HandleFunc("POST /admin/stock/docs/{id}/delete", c.page(server.PermStockReceive, c.docAction("delete")))
	c.mux.HandleFunc("POST /admin/stock/docs/{id}/approve", c.page(server.PermStockApprove, c.docAction("approve")))
	c.mux.HandleFunc("POST /admin/stock/docs/{id}/return", c.page(server.PermStockApprove, c.docAction("return")))
	c.mux.HandleFunc("GET /admin/stock/paper", c.page(server.PermReportView, c.paperPage))
	c.mux.HandleFunc("POST /admin/stock/paper", c.page(server.PermStockReceive, c.distributePaper))
	c.mux.HandleFunc("POST /admin/stock/paper/{id}/return", c.page(server.PermStockReceive, c.returnPaper))
	c.mux.HandleFunc("GET /admin/points", c.page("", c.pointsPage))
	c.mux.HandleFunc("POST /admin/points", c.page(server.PermPointManage, c.addPoint))
	c.mux.HandleFunc("POST /admin/points/{code}", c.page(server.PermPointManage, c.editPoint))
	for _, a := range []string{"disable", "enable", "revoke", "enroll"} {
		c.mux.HandleFunc("POST /admin/points/{code}/"+a, c.page(server.PermPointManage, c.pointAction(a)))
	}
	c.mux.HandleFunc("GET /admin/bills", c.page(server.PermReportView, c.billsPage))
	c.mux.HandleFunc("GET /admin/bills/export", c.page(server.PermReportView, c.billsExport))
	c.mux.HandleFunc("GET /admin/bills/{code}/{no}", c.page(server.PermReportView, c.billPage))
	c.mux.HandleFunc("GET /admin/bills/{code}/{no}/pdf", c.page(server.PermReportView, c.billPDF))
	c.mux.HandleFunc("GET /admin/numbers", c.page(server.PermReportView, c.numberPage))
	c.mux.HandleFunc("GET /admin/summary", c.page(server.PermReportView, c.summaryPage))
	c.mux.HandleFunc("GET /admin/summary/export", c.page(server.PermReportView, c.summaryExport))
	c.mux.HandleFunc("GET /admin/conflicts", c.page(server.PermReportView, c.conflictsPage))
	c.mux.HandleFunc("GET /admin/conflicts/export", c.page(server.PermReportView, c.conflictsExport))
	c.mux.HandleFunc("GET /admin/unit", c.page("", c.unitPage))
	c.mux.HandleFunc("POST /admin/unit", c.page(server.PermUnitManage, c.setUnit))
	c.mux.HandleFunc("POST /admin/unit/kinds", c.page(server.PermUnitManage, c.setKind))
	c.mux.HandleFunc("GET /admin/items", c.page("", c.itemsPage))
	c.mux.HandleFunc("POST /admin/items", c.page(server.PermUnitManage, c.setItem))
	c.mux.HandleFunc("POST /admin/items/import", c.page(server.PermUnitManage, c.importItems))
	c.mux.HandleFunc("GET /admin/paychannels", c.page("", c.channelsPage))
	c.mux.HandleFunc("POST /admin/paychannels", c.page(server.PermUnitManage, c.setChannel))
	c.mux.HandleFunc("GET /admin/messages", c.page("", c.messagesPage))
	c.mux.HandleFunc("POST /admin/messages", c.page(server.PermUnitManage, c.postMessage))
	c.mux.HandleFunc("GET /admin/audit", c.page(server.PermAuditRead, c.audit))
	c.mux.HandleFunc("GET /admin/audit/export", c.page(server.PermAuditExport, c.auditExport))
	c.mux.HandleFunc("POST /admin/audit/verify", c.page(server.PermAuditVerify, c.auditVerify))
	return c
}

// ServeHTTP adds the security headers, refuses cross-origin writes and
// bounds the body, then serves the page.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if err := c.csrf.Check(r); err != nil {
		c.auditRefusal(r, "csrf.refused", r.URL.Path)
		http.Error(w, "跨站请求已被拒绝。请从管理后台页面内操作。", http.StatusForbidden)
		return
	}
	limit := int64(MaxBody)
	if r.URL.Path == "/admin/items/import" {
		limit = MaxImport + 64<<10
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	c.mux.ServeHTTP(w, r)
}

// Mount serves the console on the server's API.
func Mount(api interface {
	Mount(pattern string, h http.Handler, selfLogging bool)
	Logger() *slog.Logger
}, store *server.Store) *Console {
	c := New(store, api.Logger())
	api.Mount(Prefix, c, false)
	return c
}

// signedIn is a request's session (nil when none) and the context that
// acts as its person.
func (c *Console) signedIn(r *http.Request) (*server.Session, context.Context, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil, r.Context(), nil
	}
	sess, err := c.store.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, r.Context(), err
	}
	sess.Token = ck.Value
	u := sess.User
	ctx := server.WithActor(r.Context(), server.Actor{Who: "user:" + u.Login, From: r.RemoteAddr, User: &u})
	return sess, ctx, nil
}

// view is what every page template gets.
type view struct {
	Title   string
	User    *server.User
	Menu    []menuItem
	Active  string
	Message string // a success notice
	Error   string // what went wrong and what to do
	Data    any
}

type menuItem struct {
	Path, Name, Group string
}

// menu is the console's menu (console.md), each item with the permission
// that shows it; only the pages that exist are listed.
var menu = []struct {
	menuItem
	perm string
}{
	{menuItem{"/admin/", "工作台", ""}, ""},
	{menuItem{"/admin/stock/docs", "票据入库与审核", "票源管理"}, server.PermReportView},
	{menuItem{"/admin/stock/paper", "纸质票据分发", "票源管理"}, server.PermReportView},
	{menuItem{"/admin/stock", "库存查询与预警", "票源管理"}, server.PermReportView},
	{menuItem{"/admin/bills", "开票明细", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/numbers", "票据号码生命周期", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/summary", "开票汇总", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/conflicts", "上传冲突", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/unit", "单位信息与票据种类", "基础信息"}, server.PermUnitManage},
	{menuItem{"/admin/points", "开票点与站点状态", "基础信息"}, server.PermPointManage},
	{menuItem{"/admin/items", "收费项目", "基础信息"}, server.PermUnitManage},
	{menuItem{"/admin/paychannels", "支付方式", "基础信息"}, server.PermUnitManage},
	{menuItem{"/admin/messages", "消息中心", "消息中心"}, ""},
	{menuItem{"/admin/users", "用户", "系统管理"}, server.PermUserManage},
	{menuItem{"/admin/security", "角色授权与安全策略", "安全管理"}, server.PermRoleGrant},
	{menuItem{"/admin/his-apps", "HIS 应用", "安全管理"}, server.PermHISApps},
	{menuItem{"/admin/audit", "审计查询", "审计管理"}, server.PermAuditRead},
	{menuItem{"/admin/me", "个人设置", "个人"}, ""},
}

func menuFor(u *server.User) []menuItem {
	var out []menuItem
	for _, m := range menu {
		if m.perm == "" || u.Can(m.perm) {
			out = append(out, m.menuItem)
		}
	}
	return out
}

// page wraps a handler of a full session that needs perm ("" any signed-in
// person): no session → the sign-in page; a session owing a step → that
// step; no permission → 403, audited by the store.
func (c *Console) page(perm string, h func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ctx, err := c.signedIn(r)
		if sess == nil {
			c.toLogin(w, r, err)
			return
		}
		if sess.Stage != server.StageFull {
			http.Redirect(w, r, stagePath(sess.Stage), http.StatusSeeOther)
			return
		}
		if perm != "" {
			if err := c.store.Authorize(ctx, perm); err != nil {
				c.render(w, http.StatusForbidden, "error", &view{Title: "无权访问", User: &sess.User, Menu: menuFor(&sess.User),
					Error: bill.ErrorMessage(err)})
				return
			}
		}
		h(w, r, ctx, sess)
	}
}

// step wraps the handler of a sign-in step: only a session owing it.
func (c *Console) step(stage string, h func(w http.ResponseWriter, r *http.Request, sess *server.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, _, err := c.signedIn(r)
		if sess == nil {
			c.toLogin(w, r, err)
			return
		}
		if sess.Stage != stage {
			http.Redirect(w, r, stagePath(sess.Stage), http.StatusSeeOther)
			return
		}
		h(w, r, sess)
	}
}

func stagePath(stage string) string {
	switch stage {
	case server.StageMFA:
		return "/admin/mfa"
	case server.StagePassword:
		return "/admin/password"
	case server.StageEnroll:
		return "/admin/enroll"
	}
	return "/admin/"
}

// toLogin sends a request without a (live) session to the sign-in page,
// saying why when its session ended; a non-GET is refused outright.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, why error) {
	clearCookie(w)
	if r.Method != http.MethodGet {
		http.Error(w, "登录已失效，请重新登录。", http.StatusUnauthorized)
		return
	}
	msg := ""
	if why != nil {
		msg = bill.ErrorMessage(why)
	}
	w.WriteHeader(http.StatusUnauthorized)
	c.pages.ExecuteTemplate(w, "login", &view{Title: "登录", Error: msg})
}

func (c *Console) render(w http.ResponseWriter, status int, name string, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages.ExecuteTemplate(w, name, v); err != nil {
		c.log.Error("console template", "page", name, "err", err)
	}
}

// setCookie sets the session cookie: Secure (always — the console is
// served over TLS; a plain-HTTP test server gets it over loopback),
// HttpOnly, SameSite=Strict, Path=/, no Domain.
func setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// auditRefusal records a refusal the store did not see.
func (c *Console) auditRefusal(r *http.Request, action, target string) {
	c.log.Warn("console refused", "action", action, "target", target, "remote", r.RemoteAddr)
	ctx := server.WithActor(r.Context(), server.Actor{Who: "anonymous", From: r.RemoteAddr})
	if err := c.store.AuditRefusal(ctx, action, target, map[string]string{"method": r.Method,
		"origin": truncate(r.Header.Get("Origin"), 100), "fetchSite": truncate(r.Header.Get("Sec-Fetch-Site"), 20)}); err != nil {
		c.log.Error("audit", "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func roleNames(roles []string) string {
	var names []string
	for _, r := range roles {
		names = append(names, server.RoleNames[r])
	}
	if len(names) == 0 {
		return "未授予角色"
	}
	return strings.Join(names, "、")
}
