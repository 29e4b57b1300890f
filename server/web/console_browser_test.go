package web_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/ebill/ebill/internal/browsertest"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	"github.com/ebill/ebill/server/web"
)

// console is a server with the console, on a clock that runs with real
// time plus a shift the test moves (idle timeouts).
type console struct {
	store   *server.Store
	url     string
	fp      string // the TLS certificate's fingerprint, as stations pin it
	console *web.Console
	shift   atomic.Int64
}

func (c *console) now() time.Time { return time.Now().Add(time.Duration(c.shift.Load())) }

func newConsole(t *testing.T) *console {
	t.Helper()
	c := &console{}
	s, err := server.OpenStore(context.Background(), "", t.TempDir(), server.WithStoreClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c.store = s
	h := api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.console = web.Mount(h, s)
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	c.url, c.fp = ts.URL, api.Fingerprint(ts.TLS.Certificates[0])
	return c
}

func browser(t *testing.T) context.Context { return browsertest.Start(t) }

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, steps...)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return browsertest.Text(t, ctx, sel)
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	return u.Path
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// firstSignIn takes an administrator through the console's first
// sign-in: the one-time password, a new one, the second factor with its
// QR code and secret, the backup codes; it returns the secret.
func firstSignIn(t *testing.T, ctx context.Context, c *console, login, once, password string) string {
	t.Helper()
	do(t, ctx, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), login), chromedp.SendKeys(chromedp.CSS("#password"), once),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#password-form")))
	if p := location(t, ctx); p != "/admin/password" {
		t.Fatalf("after a one-time password: %s", p)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#old"), once), chromedp.SendKeys(chromedp.CSS("#new"), password),
		chromedp.SendKeys(chromedp.CSS("#confirm"), password), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#secret")))
	secret := text(t, ctx, "#secret")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), code(t, secret, c.now())), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#codes")))
	if n := strings.Count(text(t, ctx, "#codes"), "-"); n != 8 {
		t.Fatalf("%d backup codes shown", n)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#menu")))
	return secret
}

// TestConsoleSignIn walks the console in Chromium as the administrators
// do, and attacks it as others would.
func TestConsoleSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	admins, err := c.store.Init(context.Background(), "sys", "sec", "aud")
	if err != nil {
		t.Fatal(err)
	}
	once := map[string]string{}
	for _, a := range admins {
		once[a.Login] = a.Password
	}
	ctx := browser(t)

	// The security administrator: password, forced change, second factor; the menu has no 用户.
	secSecret := firstSignIn(t, ctx, c, "sec", once["sec"], "Kq#Admin2026")
	if menu := text(t, ctx, "#menu"); !strings.Contains(menu, "工作台") || !strings.Contains(menu, "安全管理") ||
		strings.Contains(menu, "用户") || strings.Contains(menu, "审计") {
		t.Errorf("the security administrator's menu: %q", menu)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))

	// The system administrator creates an account.
	sysSecret := firstSignIn(t, ctx, c, "sys", once["sys"], "Zx#Admin2026")
	if menu := text(t, ctx, "#menu"); !strings.Contains(menu, "用户") {
		t.Errorf("the system administrator's menu: %q", menu)
	}
	do(t, ctx, chromedp.Navigate(c.url+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("#add-user")), chromedp.SendKeys(chromedp.CSS("#new-login"), "zhang"),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "张收费"), chromedp.Click(chromedp.CSS("#add")), chromedp.WaitVisible(chromedp.CSS("#one-time")))
	if users, _ := c.store.Users(context.Background()); len(users) != 4 {
		t.Fatalf("%d users after creating one", len(users))
	}
	if menu := text(t, ctx, "#menu"); strings.Contains(menu, "安全管理") || strings.Contains(menu, "审计") {
		t.Errorf("the system administrator's menu: %q", menu)
	}

	// A second session of sys (a Go client) dies when the browser changes the password.
	client := signedInClient(t, c, "sys", "Zx#Admin2026", sysSecret)
	if status, _ := get(t, client, c.url+"/admin/users"); status != 200 {
		t.Fatalf("the client's session: %d", status)
	}
	do(t, ctx, chromedp.Navigate(c.url+"/admin/me/password"), chromedp.WaitVisible(chromedp.CSS("#password-form")), chromedp.SendKeys(chromedp.CSS("#old"), "Zx#Admin2026"),
		chromedp.SendKeys(chromedp.CSS("#new"), "Zx#Admin2027"), chromedp.SendKeys(chromedp.CSS("#confirm"), "Zx#Admin2027"),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#message")))
	if status, body := get(t, client, c.url+"/admin/users"); status != 401 || !strings.Contains(body, "login-form") {
		t.Fatalf("the other session after the password change: %d", status)
	}

	// Idle for 16 minutes: the browser's session is over.
	c.shift.Add(int64(16 * time.Minute))
	do(t, ctx, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if msg := text(t, ctx, "#error"); !strings.Contains(msg, "15 分钟未操作") {
		t.Errorf("after 16 idle minutes: %q", msg)
	}
	c.shift.Store(0)

	// The security administrator may not do the system administrator's work: 403, audited.
	sec := signedInClient(t, c, "sec", "Kq#Admin2026", secSecret)
	before := denials(t, c)
	status, _ := post(t, sec, c.url+"/admin/users", url.Values{"login": {"evil"}, "name": {"冒名"}}, "same-origin")
	if status != 403 || denials(t, c) != before+1 {
		t.Fatalf("secadmin creating a user: %d, denials %d → %d", status, before, denials(t, c))
	}
	// The security administrator grants zhang the cashier's role in the browser.
	secCtx := browser(t)
	c.shift.Add(int64(30 * time.Second))
	do(t, secCtx, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), "sec"), chromedp.SendKeys(chromedp.CSS("#password"), "Kq#Admin2026"),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#mfa-form")),
		chromedp.SendKeys(chromedp.CSS("#code"), code(t, secSecret, c.now())), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#menu")), chromedp.Navigate(c.url+"/admin/security"), chromedp.WaitVisible(chromedp.CSS("#roles")),
		chromedp.Click(chromedp.CSS(`#roles-zhang input[value="cashier"]`)), chromedp.Click(chromedp.CSS(`#roles-zhang button`)),
		chromedp.WaitVisible(chromedp.CSS("#message")))
	for _, u := range mustUsers(t, c) {
		if u.Login == "zhang" && (len(u.Roles) != 1 || u.Roles[0] != server.RoleCashier) {
			t.Fatalf("zhang's roles after the grant: %v", u.Roles)
		}
	}
	// Granting a second administrator role is refused with the reason.
	do(t, secCtx, chromedp.Click(chromedp.CSS(`#roles-zhang input[value="auditor"]`)), chromedp.Click(chromedp.CSS(`#roles-zhang button`)),
		chromedp.WaitVisible(chromedp.CSS("#error")))
	if msg := text(t, secCtx, "#error"); !strings.Contains(msg, "三员") && !strings.Contains(msg, "不能兼任") {
		t.Errorf("granting auditor with cashier: %q", msg)
	}

	// The security administrator registers a HIS app, bound to a network, then refuses a bad address.
	if err := c.store.AddPoint(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}), "H01", "HIS门诊开票", server.PointServer); err != nil {
		t.Fatal(err)
	}
	do(t, secCtx, chromedp.Navigate(c.url+"/admin/his-apps"), chromedp.WaitVisible(chromedp.CSS("#add-app")),
		chromedp.SendKeys(chromedp.CSS("#appid"), "MZHIS"), chromedp.SendKeys(chromedp.CSS("#app-name"), "门诊HIS"),
		chromedp.SendKeys(chromedp.CSS("#app-points"), "H01"), chromedp.SendKeys(chromedp.CSS("#app-allow"), "10.1.0.0/16"),
		chromedp.Click(chromedp.CSS("#add-app-button")), chromedp.WaitVisible(chromedp.CSS("#his-key")))
	apps, err := c.store.HISApps(context.Background())
	if err != nil || len(apps) != 1 || apps[0].AppID != "MZHIS" || len(apps[0].AllowFrom) != 1 || apps[0].AllowFrom[0] != "10.1.0.0/16" {
		t.Fatalf("the app registered: %+v %v", apps, err)
	}
	if key := text(t, secCtx, "#his-key code"); len(key) < 30 {
		t.Fatalf("the app's key shown: %q", key)
	}
	do(t, secCtx, chromedp.SetValue(chromedp.CSS(`#app-MZHIS input[name="allow"]`), "10.1.0.0/33"),
		chromedp.Click(chromedp.CSS(`#app-MZHIS form.row button`)), chromedp.WaitVisible(chromedp.CSS("#error")))
	if apps, _ := c.store.HISApps(context.Background()); apps[0].AllowFrom[0] != "10.1.0.0/16" {
		t.Fatalf("a bad address changed the app: %+v", apps[0])
	}

	// The auditor: first sign-in, the trail, an export, the verification.
	audSecret := firstSignIn(t, ctx, c, "aud", once["aud"], "Ty#Chk2026x")
	if menu := text(t, ctx, "#menu"); !strings.Contains(menu, "审计查询") || strings.Contains(menu, "安全管理") || strings.Contains(menu, "用户") {
		t.Errorf("the auditor's menu: %q", menu)
	}
	// (The query as its form sends it: the page before it has a table too,
	// so waiting for the table after a click could find the old one.)
	do(t, ctx, chromedp.Navigate(c.url+"/admin/audit?from=&to=&actor=&action=role.set"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	if table := text(t, ctx, "#audit"); !strings.Contains(table, "user:sec") || !strings.Contains(table, "zhang") {
		t.Errorf("the role.set records: %q", table)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#verify")), chromedp.WaitVisible(chromedp.CSS("#message")))
	if msg := text(t, ctx, "#message"); !strings.Contains(msg, "完整性校验通过") {
		t.Errorf("verification: %q", msg)
	}
	aud := signedInClient(t, c, "aud", "Ty#Chk2026x", audSecret)
	resp, err := aud.Get(c.url + "/admin/audit/export?action=role.set")
	if err != nil {
		t.Fatal(err)
	}
	xlsx, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(xlsx), "PK") || !strings.Contains(resp.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(xlsx))
	}
	if status, _ := get(t, aud, c.url+"/admin/users"); status != 403 {
		t.Fatalf("the auditor opening 用户: %d", status)
	}

	// A cross-site form post is refused before it reaches a handler.
	status, _ = post(t, sec, c.url+"/admin/me/logout-everywhere", url.Values{}, "cross-site")
	if status != 403 {
		t.Fatalf("a cross-site post: %d", status)
	}
	if s, _ := get(t, sec, c.url+"/admin/"); s != 200 {
		t.Fatal("the cross-site post signed the security administrator out")
	}
}

// TestConsoleLockout (IA-7, IP-7): five failures lock a login, known or
// not, with the same answers; the cookie has its attributes.
func TestConsoleLockout(t *testing.T) {
	c := newConsole(t)
	if err := c.store.AddUser(server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true}),
		server.User{Login: "lin", Name: "林", Roles: []string{server.RoleCashier}}, "Shou#Cash2026"); err != nil {
		t.Fatal(err)
	}
	client := newClient(t)
	answers := map[string][]string{}
	for _, login := range []string{"lin", "nobody"} {
		for i := 0; i < 5; i++ {
			_, body := post(t, client, c.url+"/admin/login", url.Values{"login": {login}, "password": {"Wrong#Pass1"}}, "same-origin")
			answers[login] = append(answers[login], errorText(body))
		}
	}
	// The lock's end is the fifth failure's time plus 30 minutes; the
	// two logins' fifth failures may fall either side of a minute.
	until := regexp.MustCompile(`锁定至 \d\d:\d\d`)
	for i := range answers["lin"] {
		if until.ReplaceAllString(answers["lin"][i], "锁定至 HH:MM") != until.ReplaceAllString(answers["nobody"][i], "锁定至 HH:MM") {
			t.Errorf("failure %d: %q for a user, %q for an unknown login", i+1, answers["lin"][i], answers["nobody"][i])
		}
	}
	if !strings.Contains(answers["lin"][4], "锁定至") {
		t.Fatalf("the fifth failure: %q", answers["lin"][4])
	}
	resp := postResp(t, client, c.url+"/admin/login", url.Values{"login": {"lin"}, "password": {"Shou#Cash2026"}}, "same-origin")
	if resp.StatusCode != 401 || len(resp.Cookies()) > 0 && resp.Cookies()[0].Value != "" {
		t.Fatalf("the right password while locked: %d %v", resp.StatusCode, resp.Cookies())
	}
	// After the lock, a sign-in sets a cookie with every attribute.
	c.shift.Store(int64(31 * time.Minute))
	resp = postResp(t, client, c.url+"/admin/login", url.Values{"login": {"lin"}, "password": {"Shou#Cash2026"}}, "same-origin")
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == web.CookieName {
			ck = k
		}
	}
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" || len(ck.Value) < 40 {
		t.Fatalf("session cookie %+v", ck)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func denials(t *testing.T, c *console) int {
	recs, err := c.store.AuditTrail(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Action == "denied" {
			n++
		}
	}
	return n
}

func newClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signedInClient signs in over HTTP (with a second-factor code when a secret is given).
func signedInClient(t *testing.T, c *console, login, password, secret string) *http.Client {
	t.Helper()
	client := newClient(t)
	resp := postResp(t, client, c.url+"/admin/login", url.Values{"login": {login}, "password": {password}}, "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d", login, resp.StatusCode)
	}
	if resp.Header.Get("Location") == "/admin/mfa" {
		// The browser used this step's code a moment ago: move the clock on to the next step.
		c.shift.Add(int64(30 * time.Second))
		if r := postResp(t, client, c.url+"/admin/mfa", url.Values{"code": {code(t, secret, c.now())}}, "same-origin"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("second factor of %s: %d", login, r.StatusCode)
		}
	}
	return client
}

func get(t *testing.T, client *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postResp(t *testing.T, client *http.Client, u string, form url.Values, site string) *http.Response {
	t.Helper()
	return send(t, client, u, form, site, nil)
}

// send posts a form as a page of site ("same-origin", "cross-site") would,
// reading the answer's body into body when given.
func send(t *testing.T, client *http.Client, u string, form url.Values, site string, body *string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	if site == "cross-site" {
		req.Header.Set("Origin", "https://evil.example")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if body != nil {
		*body = string(b)
	}
	return resp
}

func post(t *testing.T, client *http.Client, u string, form url.Values, site string) (int, string) {
	t.Helper()
	var body string
	resp := send(t, client, u, form, site, &body)
	return resp.StatusCode, body
}

// errorText is the text of a page's error line.
func errorText(body string) string {
	i := strings.Index(body, `id="error">`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`id="error">`):]
	return rest[:strings.Index(rest, "<")]
}

func mustUsers(t *testing.T, c *console) []server.User {
	users, err := c.store.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// TestConsoleRoutesNeedSignIn (AC-1): every console page but the sign-in
// and its assets answers a request without a session with the sign-in (401).
func TestConsoleRoutesNeedSignIn(t *testing.T) {
	c := newConsole(t)
	client := newClient(t)
	for _, path := range []string{"/admin/mfa", "/admin/password", "/admin/enroll"} {
		if status, body := get(t, client, c.url+path); status != 401 || !strings.Contains(body, "login-form") {
			t.Errorf("GET %s without signing in: %d", path, status)
		}
	}
	for _, path := range []string{"/admin/mfa", "/admin/password", "/admin/enroll"} {
		if status, _ := post(t, client, c.url+path, url.Values{}, "same-origin"); status != 401 {
			t.Errorf("POST %s without signing in: %d", path, status)
		}
	}
	// Every signed-in page, as the router has it.
	routes := c.console.Routes()
	if len(routes) < 50 {
		t.Fatalf("%d routes registered", len(routes))
	}
	for _, r := range routes {
		method, path := routeRequest(r.Pattern)
		var status int
		var body string
		if method == http.MethodGet {
			status, body = get(t, client, c.url+path)
		} else {
			status, body = post(t, client, c.url+path, url.Values{}, "same-origin")
		}
		if status != 401 || method == http.MethodGet && !strings.Contains(body, "login-form") {
			t.Errorf("%s without signing in: %d", r.Pattern, status)
		}
	}
	if status, _ := get(t, client, c.url+"/admin/static/app.css"); status != 200 {
		t.Errorf("the style sheet: %d", status)
	}
}

// routeRequest is a request for a route pattern: its method, and its path
// with each wildcard an "x".
func routeRequest(pattern string) (string, string) {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "x" + path[j+1:]
	}
	return method, path
}

// TestConsoleRoleMatrix (AC-1): every signed-in page, taken from the
// router, refuses a person whose roles lack its permission — a cashier and
// a report reader (财务查询), each signed in — with 403, and lets
// through what the roles grant.
func TestConsoleRoleMatrix(t *testing.T) {
	c := newConsole(t)
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	// Pages whose handler checks more than the route: reading base data
	// and points needs a reader's or a keeper's permission.
	inner := map[string][]string{"GET /admin/points": {server.PermReportView, server.PermPointManage},
		"GET /admin/unit": {server.PermReportView, server.PermUnitManage}, "GET /admin/items": {server.PermReportView, server.PermUnitManage},
		"GET /admin/paychannels": {server.PermReportView, server.PermUnitManage}}
	// The pages any signed-in person may use; a page registered without a
	// permission and not listed here fails the test.
	anyone := map[string]bool{"GET /admin/{$}": true, "GET /admin/me": true, "POST /admin/me/logout-everywhere": true,
		"GET /admin/me/password": true, "POST /admin/me/password": true, "POST /admin/me/backup-codes": true,
		"GET /admin/me/mfa": true, "POST /admin/me/mfa": true, "GET /admin/messages": true}
	for _, r := range c.console.Routes() {
		if r.Perm == "" && !anyone[r.Pattern] && inner[r.Pattern] == nil {
			t.Errorf("%s is registered without a permission", r.Pattern)
		}
	}
	for _, who := range []struct{ login, role string }{{"lin", server.RoleCashier}, {"zhao", server.RoleFinance}} {
		u := server.User{Login: who.login, Name: "测试", Roles: []string{who.role}}
		if err := c.store.AddUser(sys, u, "Tmp#Pass2026x"); err != nil {
			t.Fatal(err)
		}
		client := newClient(t)
		postResp(t, client, c.url+"/admin/login", url.Values{"login": {who.login}, "password": {"Tmp#Pass2026x"}}, "same-origin")
		postResp(t, client, c.url+"/admin/password", url.Values{"old": {"Tmp#Pass2026x"}, "new": {"Neu#Pass2026y"}, "confirm": {"Neu#Pass2026y"}}, "same-origin")
		if status, _ := get(t, client, c.url+"/admin/"); status != 200 {
			t.Fatalf("%s signed in: %d", who.login, status)
		}
		for _, r := range c.console.Routes() {
			perms := inner[r.Pattern]
			if r.Perm != "" {
				perms = []string{r.Perm}
			}
			allowed := len(perms) == 0
			for _, p := range perms {
				allowed = allowed || u.Can(p)
			}
			if allowed {
				continue
			}
			method, path := routeRequest(r.Pattern)
			var status int
			if method == http.MethodGet {
				status, _ = get(t, client, c.url+path)
			} else {
				status, _ = post(t, client, c.url+path, url.Values{}, "same-origin")
			}
			if status != http.StatusForbidden {
				t.Errorf("%s (%s) at %s: %d, want 403", who.login, who.role, r.Pattern, status)
			}
		}
		if status, _ := get(t, client, c.url+"/admin/me"); status != 200 {
			t.Errorf("%s at 个人设置: %d", who.login, status)
		}
	}
	// The reader reads the queries.
	reader := signedInClient(t, c, "zhao", "Neu#Pass2026y", "")
	for _, path := range []string{"/admin/bills", "/admin/summary", "/admin/stock", "/admin/points", "/admin/items"} {
		if status, _ := get(t, reader, c.url+path); status != 200 {
			t.Errorf("the reader at %s: %d", path, status)
		}
	}
}
