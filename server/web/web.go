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
	"sync/atomic"
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
	// routes are the signed-in pages and the permission each needs.
	routes []Route
	// fingerprint is the TLS certificate's, shown with enrolment codes.
	fingerprint string
	// publicURL is where patients' phones reach the server: the QR codes
	// of the bills the console hands out point there.
	publicURL atomic.Pointer[string]
}

// SetPublicURL sets the target of the QR codes on the bills the console
// hands out.
func (c *Console) SetPublicURL(u string) {
	u = strings.TrimRight(u, "/")
	c.publicURL.Store(&u)
}

// PublicURL is the target of the bills' QR codes ("" when not set).
func (c *Console) PublicURL() string {
	if u := c.publicURL.Load(); u != nil {
		return *u
	}
	return ""
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
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
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
	c.route("GET /admin/{$}", "", c.home)
	c.route("GET /admin/me", "", c.me)
	c.route("POST /admin/me/logout-everywhere", "", c.logoutEverywhere)
	c.route("GET /admin/me/password", "", c.myPasswordPage)
	c.route("POST /admin/me/backup-codes", "", c.myBackupCodes)
	c.route("GET /admin/me/mfa", "", c.myMFAPage)
	c.route("POST /admin/me/mfa", "", c.myMFA)
	c.route("POST /admin/me/password", "", c.myPassword)
	c.route("GET /admin/users", server.PermUserManage, c.users)
	c.route("POST /admin/users", server.PermUserManage, c.addUser)
	c.route("POST /admin/users/{login}/disable", server.PermUserManage, c.setDisabled(true))
	c.route("POST /admin/users/{login}/enable", server.PermUserManage, c.setDisabled(false))
	c.route("POST /admin/users/{login}/reset-password", server.PermUserManage, c.resetPassword)
	c.route("GET /admin/security", server.PermRoleGrant, c.security)
	c.route("POST /admin/security/users/{login}/roles", server.PermRoleGrant, c.securityAction(c.setRoles))
	c.route("POST /admin/security/users/{login}/unlock", server.PermUnlock, c.securityAction(c.unlock))
	c.route("POST /admin/security/users/{login}/reset-mfa", server.PermMFAReset, c.securityAction(c.resetMFA))
	c.route("POST /admin/security/policy", server.PermPolicy, c.securityAction(c.setPolicy))
	c.route("GET /admin/his-apps", server.PermHISApps, c.hisApps)
	c.route("POST /admin/his-apps", server.PermHISApps, c.addHISApp)
	c.route("POST /admin/his-apps/{appid}/allow", server.PermHISApps, c.setHISAllow)
	c.route("POST /admin/his-apps/{appid}/disable", server.PermHISApps, c.disableHISApp)
	c.route("GET /admin/stock", server.PermReportView, c.stockPage)
	c.route("POST /admin/stock/alerts", server.PermStockReceive, c.setStockAlert)
	c.route("GET /admin/stock/docs", server.PermReportView, c.stockDocs)
	c.route("POST /admin/stock/docs", server.PermStockReceive, c.draftStock)
	c.route("POST /admin/stock/docs/{id}/submit", server.PermStockReceive, c.docAction("submit"))
	c.route("POST /admin/stock/docs/{id}/delete", server.PermStockReceive, c.docAction("delete"))
	c.route("POST /admin/stock/docs/{id}/approve", server.PermStockApprove, c.docAction("approve"))
	c.route("POST /admin/stock/docs/{id}/return", server.PermStockApprove, c.docAction("return"))
	c.route("POST /admin/stock/docs/{id}/unapprove", server.PermStockApprove, c.docAction("unapprove"))
	c.route("GET /admin/stock/paper", server.PermReportView, c.paperPage)
	c.route("POST /admin/stock/paper", server.PermStockReceive, c.distributePaper)
	c.route("POST /admin/stock/paper/{id}/return", server.PermStockReceive, c.returnPaper)
	c.route("GET /admin/points", "", c.pointsPage)
	c.route("POST /admin/points", server.PermPointManage, c.addPoint)
	c.route("POST /admin/points/{code}", server.PermPointManage, c.editPoint)
	for _, a := range []string{"disable", "enable", "revoke", "enroll"} {
		c.route("POST /admin/points/{code}/"+a, server.PermPointManage, c.pointAction(a))
	}
	c.route("GET /admin/bills", server.PermReportView, c.billsPage)
	c.route("GET /admin/bills/export", server.PermReportView, c.billsExport)
	c.route("GET /admin/bills/{code}/{no}", server.PermReportView, c.billPage)
	c.route("GET /admin/bills/{code}/{no}/pdf", server.PermReportView, c.billFile)
	c.route("GET /admin/bills/{code}/{no}/ofd", server.PermReportView, c.billFile)
	c.route("GET /admin/numbers", server.PermReportView, c.numberPage)
	c.route("GET /admin/summary", server.PermReportView, c.summaryPage)
	c.route("GET /admin/summary/export", server.PermReportView, c.summaryExport)
	c.route("GET /admin/trend", server.PermReportView, c.trendPage)
	c.route("GET /admin/trend/export", server.PermReportView, c.trendExport)
	c.route("GET /admin/conflicts", server.PermReportView, c.conflictsPage)
	c.route("GET /admin/conflicts/export", server.PermReportView, c.conflictsExport)
	c.route("GET /admin/certificates", server.PermReportView, c.certsPage)
	c.route("POST /admin/certificates", server.PermStockReceive, c.saveCert)
	c.route("GET /admin/certificates/{id}", server.PermReportView, c.certLedger)
	c.route("GET /admin/unit", "", c.unitPage)
	c.route("POST /admin/unit", server.PermUnitManage, c.setUnit)
	c.route("POST /admin/unit/kinds", server.PermUnitManage, c.setKind)
	c.route("GET /admin/items", "", c.itemsPage)
	c.route("POST /admin/items", server.PermUnitManage, c.setItem)
	c.route("POST /admin/items/import", server.PermUnitManage, c.importItems)
	c.route("GET /admin/paychannels", "", c.channelsPage)
	c.route("POST /admin/paychannels", server.PermUnitManage, c.setChannel)
	c.route("GET /admin/writeoffs", server.PermReportView, c.writeOffsPage)
	c.route("POST /admin/writeoffs", server.PermWriteOff, c.draftWriteOff)
	c.route("GET /admin/writeoffs/{id}", server.PermReportView, c.writeOffPage)
	c.route("GET /admin/writeoffs/{id}/pdf", server.PermReportView, c.writeOffPDF)
	c.route("GET /admin/writeoffs/{id}/export", server.PermReportView, c.writeOffExport)
	c.route("GET /admin/writeoffs/{id}/numbers", server.PermReportView, c.writeOffNumbers)
	for _, a := range []string{"submit", "recompute", "report", "delete"} {
		c.route("POST /admin/writeoffs/{id}/"+a, server.PermWriteOff, c.writeOffAction(a))
	}
	for _, a := range []string{"approve", "return", "unapprove"} {
		c.route("POST /admin/writeoffs/{id}/"+a, server.PermStockApprove, c.writeOffAction(a))
	}
	c.route("GET /admin/storevoids", server.PermReportView, c.storeVoidsPage)
	c.route("POST /admin/storevoids", server.PermStockReceive, c.draftStoreVoid)
	c.route("POST /admin/storevoids/{id}/approve", server.PermStockApprove, c.decideStoreVoid(true))
	c.route("POST /admin/storevoids/{id}/return", server.PermStockApprove, c.decideStoreVoid(false))
	c.route("GET /admin/corrections", server.PermReportView, c.correctionsPage)
	c.route("POST /admin/corrections", server.PermCorrect, c.requestCorrection)
	c.route("POST /admin/corrections/{id}/approve", server.PermStockApprove, c.decideCorrection(true))
	c.route("POST /admin/corrections/{id}/return", server.PermStockApprove, c.decideCorrection(false))
	c.route("GET /admin/inspections", server.PermInspect, c.inspectionsPage)
	c.route("POST /admin/inspections", server.PermInspect, c.runInspection)
	c.route("GET /admin/inspections/{id}", server.PermInspect, c.inspectionPage)
	c.route("GET /admin/inspections/{id}/pdf", server.PermInspect, c.inspectionPDF)
	c.route("POST /admin/maintenance", server.PermInspect, c.logMaintenance)
	c.route("GET /admin/messages", "", c.messagesPage)
	c.route("POST /admin/messages", server.PermUnitManage, c.postMessage)
	c.route("GET /admin/audit", server.PermAuditRead, c.audit)
	c.route("GET /admin/audit/export", server.PermAuditExport, c.auditExport)
	c.route("POST /admin/audit/verify", server.PermAuditVerify, c.auditVerify)
	return c
}

// Route is a signed-in page: its pattern and the permission it needs
// ("" any signed-in person).
type Route struct{ Pattern, Perm string }

// Routes lists the console's signed-in pages, for the tests that check
// each refuses who may not use it.
func (c *Console) Routes() []Route { return c.routes }

// route registers a signed-in page.
func (c *Console) route(pattern, perm string, h func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session)) {
	c.routes = append(c.routes, Route{pattern, perm})
	c.mux.HandleFunc(pattern, c.page(perm, h))
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
	if o, ok := api.(interface {
		OnSettings(publicURL func(string), sender func(server.Sender))
	}); ok {
		o.OnSettings(c.SetPublicURL, nil)
	}
	if l, ok := api.(interface{ MountLimit(string, int64) }); ok {
		l.MountLimit(Prefix, MaxImport+64<<10)
	}
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
	{menuItem{"/admin/writeoffs", "核销申报与审核", "核销管理"}, server.PermReportView},
	{menuItem{"/admin/storevoids", "空白票据作废", "核销管理"}, server.PermReportView},
	{menuItem{"/admin/bills", "开票明细", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/numbers", "票据号码生命周期", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/summary", "开票汇总", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/trend", "票据峰值走势", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/conflicts", "上传冲突", "查询统计"}, server.PermReportView},
	{menuItem{"/admin/unit", "单位信息与票据种类", "基础信息"}, server.PermUnitManage},
	{menuItem{"/admin/certificates", "领用证", "基础信息"}, server.PermReportView},
	{menuItem{"/admin/points", "开票点与站点状态", "基础信息"}, server.PermPointManage},
	{menuItem{"/admin/items", "收费项目", "基础信息"}, server.PermUnitManage},
	{menuItem{"/admin/paychannels", "支付方式", "基础信息"}, server.PermUnitManage},
	{menuItem{"/admin/corrections", "修正申请与记录", "数据修正"}, server.PermReportView},
	{menuItem{"/admin/messages", "消息中心", "消息中心"}, ""},
	{menuItem{"/admin/inspections", "巡检报告与运维日志", "运维"}, server.PermInspect},
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
		"origin": server.Truncate(r.Header.Get("Origin"), 100), "fetchSite": server.Truncate(r.Header.Get("Sec-Fetch-Site"), 20)}); err != nil {
		c.log.Error("audit", "err", err)
	}
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
