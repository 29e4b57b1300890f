package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/cmd/internal/adminboot"
	"github.com/ebill/ebill/internal/browsertest"
	"github.com/ebill/ebill/server"
)

// TestConsoleInChromium drives the management console of the real
// ebill-server process in Debian's Chromium: the first sign-ins (one-time
// password changed, second factor set up), each role's menu, a forged post
// to another role's action (403, audited), a session ended by a password
// change elsewhere, the idle timeout (the server's clock moved on through a
// test-only build), the lockout, and a cross-site post.
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server and a browser")
	}
	bin := filepath.Join(t.TempDir(), "ebill-server")
	if out, err := exec.Command("go", "build", "-tags", "ebilltestclock", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := t.TempDir()
	clockFile := filepath.Join(t.TempDir(), "clock")
	shift := func(d time.Duration) {
		if err := os.WriteFile(clockFile, []byte(d.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	shift(0)
	out, err := exec.Command(bin, "--data", data, "--json", "init", "--sysadmin", "sys", "--secadmin", "sec", "--auditor", "aud").Output()
	if err != nil {
		t.Fatalf("init: %v %s", err, exitText(err))
	}
	var admins []server.InitialAdmin
	json.Unmarshal(out, &admins)
	once := map[string]string{}
	for _, a := range admins {
		once[a.Login] = a.Password
	}
	addr := freeAddr(t)
	serve := exec.Command(bin, "--data", data, "serve", "--addr", addr)
	serve.Env = append(os.Environ(), "EBILL_TEST_CLOCK_FILE="+clockFile)
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	base := "https://" + addr
	waitHealthy(t, base)

	ctx := browsertest.Start(t)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browsertest.Do(t, ctx, steps...)
	}
	text := func(sel string) string {
		t.Helper()
		return browsertest.Text(t, ctx, sel)
	}
	var offset time.Duration
	secrets := map[string]string{}
	firstSignIn := func(login, password string) {
		t.Helper()
		do(chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
			chromedp.SendKeys(chromedp.CSS("#login"), login), chromedp.SendKeys(chromedp.CSS("#password"), once[login]),
			chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#password-form")),
			chromedp.SendKeys(chromedp.CSS("#old"), once[login]), chromedp.SendKeys(chromedp.CSS("#new"), password),
			chromedp.SendKeys(chromedp.CSS("#confirm"), password), chromedp.Click(chromedp.CSS("#submit")),
			chromedp.WaitVisible(chromedp.CSS("#secret")))
		secrets[login] = text("#secret")
		code, err := adminboot.Code(secrets[login], time.Now().Add(offset))
		if err != nil {
			t.Fatal(err)
		}
		do(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#codes")),
			chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#menu")))
	}
	menus := map[string][2][]string{ // role's login → what its menu shows, and what it must not
		"sys": {{"工作台", "用户", "个人设置"}, {"安全管理", "审计"}},
		"sec": {{"工作台", "角色授权与安全策略", "HIS 应用"}, {"用户", "审计"}},
		"aud": {{"审计查询"}, {"用户", "安全管理", "HIS 应用"}},
	}
	for i, login := range []string{"sys", "sec", "aud"} {
		firstSignIn(login, fmt.Sprintf("Qv#Pass2026%c", 'a'+i))
		menu := text("#menu")
		for _, want := range menus[login][0] {
			if !strings.Contains(menu, want) {
				t.Errorf("%s's menu lacks %s: %q", login, want, menu)
			}
		}
		for _, not := range menus[login][1] {
			if strings.Contains(menu, not) {
				t.Errorf("%s's menu shows %s: %q", login, not, menu)
			}
		}
		if login != "aud" {
			do(chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// signInHTTP signs an administrator in over HTTP (password, then a code
	// of the next step: the browser used this one) and returns the cookie.
	signInHTTP := func(login, password string) *http.Cookie {
		t.Helper()
		post := func(path string, form url.Values, ck *http.Cookie) *http.Response {
			req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if ck != nil {
				req.AddCookie(ck)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		resp := post("/admin/login", url.Values{"login": {login}, "password": {password}}, nil)
		var ck *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "ebill_session" {
				ck = c
			}
		}
		offset += 30 * time.Second
		shift(offset)
		code, _ := adminboot.Code(secrets[login], time.Now().Add(offset))
		if r := post("/admin/mfa", url.Values{"code": {code}}, ck); ck == nil || r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s over HTTP: %v", login, ck)
		}
		return ck
	}
	request := func(method, path string, ck *http.Cookie) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(url.Values{"login": {"evil"}, "name": {"冒名"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(ck)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// The security administrator posts the system administrator's form: refused and audited.
	sec := signInHTTP("sec", "Qv#Pass2026b")
	if status := request(http.MethodPost, "/admin/users", sec); status != http.StatusForbidden {
		t.Fatalf("secadmin creating a user: %d", status)
	}
	do(chromedp.Navigate(base+"/admin/audit?action=denied"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	if table := text("#audit"); !strings.Contains(table, "user:sec") || !strings.Contains(table, "user.manage") {
		t.Fatalf("the refusal in the audit: %q", table)
	}
	// The system administrator's other session dies when the password changes in the browser.
	sys := signInHTTP("sys", "Qv#Pass2026a")
	if status := request(http.MethodGet, "/admin/users", sys); status != http.StatusOK {
		t.Fatalf("sys over HTTP: %d", status)
	}
	do(chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), "sys"), chromedp.SendKeys(chromedp.CSS("#password"), "Qv#Pass2026a"),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#mfa-form")))
	offset += 30 * time.Second
	shift(offset)
	code, _ := adminboot.Code(secrets["sys"], time.Now().Add(offset))
	do(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#menu")),
		chromedp.Navigate(base+"/admin/me/password"), chromedp.WaitVisible(chromedp.CSS("#password-form")),
		chromedp.SendKeys(chromedp.CSS("#old"), "Qv#Pass2026a"), chromedp.SendKeys(chromedp.CSS("#new"), "Qv#Pass2027a"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "Qv#Pass2027a"), chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#message")))
	if status := request(http.MethodGet, "/admin/users", sys); status != http.StatusUnauthorized {
		t.Fatalf("the other session after the password change: %d", status)
	}
	// 16 idle minutes later the browser's session is over.
	offset += 16 * time.Minute
	shift(offset)
	do(chromedp.Navigate(base+"/admin/me"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if msg := text("#error"); !strings.Contains(msg, "15 分钟未操作") {
		t.Errorf("after 16 idle minutes: %q", msg)
	}
	// Five wrong passwords lock the login; the right one is then refused.
	for i := 0; i < 5; i++ {
		do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
			chromedp.SendKeys(chromedp.CSS("#login"), "sys"), chromedp.SendKeys(chromedp.CSS("#password"), "Wrong#Pass1"),
			chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#error")))
	}
	do(chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), "sys"), chromedp.SendKeys(chromedp.CSS("#password"), "Qv#Pass2027a"),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#error")))
	if msg := text("#error"); !strings.Contains(msg, "锁定至") {
		t.Errorf("the right password after five wrong ones: %q", msg)
	}
	// A form posted from another site is refused.
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/login", strings.NewReader(url.Values{"login": {"sec"}, "password": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) > 0 {
		t.Fatalf("a cross-site post: %d %v", resp.StatusCode, resp.Cookies())
	}
}
