package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestConsoleScreenshots writes PNGs of the console's pages into
// $EBILL_SCREENSHOTS (make screenshots): docs/images/console-*.png.
func TestConsoleScreenshots(t *testing.T) {
	dir := os.Getenv("EBILL_SCREENSHOTS")
	if dir == "" {
		t.Skip("EBILL_SCREENSHOTS not set")
	}
	c := newConsole(t)
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:screenshots", System: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.store.SetUnit(sys, server.Unit{Name: "厦门市海沧区第一医院", CreditCode: "123502004266001233"}))
	for _, code := range []string{"35060126", "35060226"} {
		_, err := c.store.ReceiveStock(sys, server.StockEInvoice, bill.Segment{Code: code, Start: 1, End: 500000})
		must(err)
	}
	_, err := c.store.ReceiveStock(sys, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 10000})
	must(err)
	must(c.store.AddPoint(sys, "P01", "门诊收费一号窗口", server.PointStation))
	must(c.store.AddPoint(sys, "H01", "HIS门诊开票", server.PointServer))
	admins, err := c.store.Init(context.Background(), "sysadmin", "secadmin", "auditor")
	must(err)
	once := map[string]string{}
	for _, a := range admins {
		once[a.Login] = a.Password
	}
	for _, u := range []server.User{{Login: "lin", Name: "林小燕", Roles: []string{server.RoleCashier}},
		{Login: "chen", Name: "陈建国", Roles: []string{server.RoleBillAdmin}}, {Login: "wang", Name: "王会计", Roles: []string{server.RoleChecker}}} {
		must(c.store.AddUser(sys, u, "Tmp#Pass2026x"))
	}
	ctx := browser(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must(err)
		must(os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644))
	}
	do(t, ctx, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	shot("login")
	firstSignIn(t, ctx, c, "sysadmin", once["sysadmin"], "Zx#Admin2026")
	shot("home")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("#users")))
	shot("users")
	do(t, ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), "secadmin"), chromedp.SendKeys(chromedp.CSS("#password"), once["secadmin"]),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#password-form")),
		chromedp.SendKeys(chromedp.CSS("#old"), once["secadmin"]), chromedp.SendKeys(chromedp.CSS("#new"), "Kq#Admin2026"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "Kq#Admin2026"), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#secret")))
	shot("enroll")
	secret := text(t, ctx, "#secret")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), code(t, secret, c.now())), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#codes")), chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#menu")),
		chromedp.Navigate(c.url+"/admin/security"), chromedp.WaitVisible(chromedp.CSS("#roles")))
	shot("security")
	do(t, ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	firstSignIn(t, ctx, c, "auditor", once["auditor"], "Ty#Chk2026x")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	shot("audit")
}
