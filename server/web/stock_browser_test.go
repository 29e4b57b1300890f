package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	ebsync "github.com/ebill/ebill/sync"
)

// addPerson creates an account with roles, as the system and security
// administrators would, and returns its one-time password.
func addPerson(t *testing.T, c *console, login, name string, roles ...string) string {
	t.Helper()
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	once := server.OneTimePassword()
	if err := c.store.AddUser(sys, server.User{Login: login, Name: name, Roles: roles}, once); err != nil {
		t.Fatal(err)
	}
	return once
}

// press clicks a button that submits a form and waits for the next page's
// notice (the current page's is removed first, so it is not mistaken for it).
func press(sel string) chromedp.Action[chromedp.Void] { return submit(sel, "#message, #error") }

// submit clicks sel and waits for the next page's wait elements, those of
// the current page removed first.
func submit(sel, wait string) chromedp.Action[chromedp.Void] {
	clear := chromedp.Evaluate[bool]("document.querySelectorAll(" + jsString(wait) + ").forEach(e => e.remove()); true")
	return chromedp.Steps(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := clear(ctx, tg)
		return err
	}), chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(wait)))
}

// TestConsoleStockFlow (票源管理): the bill administrator drafts intake
// documents in the browser; a clash is refused naming the range; the
// checker returns one with an opinion and approves the other; after the
// maker's correction the second is approved too; paper is distributed to a
// point, and that point's station — enrolled and synced — takes in exactly
// the distributed range and nothing else.
func TestConsoleStockFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.store.SetUnit(sys, server.Unit{Name: "厦门市某区医院", CreditCode: "123502004266001233"}))
	must(c.store.AddPoint(sys, "P01", "门诊一号窗口", server.PointStation))
	wangOnce := addPerson(t, c, "wang", "王票管", server.RoleBillAdmin)
	chenOnce := addPerson(t, c, "chen", "陈审核", server.RoleChecker)

	wang := browser(t)
	firstSignIn(t, wang, c, "wang", wangOnce, "Piao#Guan2026")
	if menu := text(t, wang, "#menu"); !strings.Contains(menu, "票据入库与审核") || !strings.Contains(menu, "纸质票据分发") {
		t.Fatalf("the bill administrator's menu: %q", menu)
	}
	draft := func(kind, code, from, to, cert, action string) {
		t.Helper()
		do(t, wang, chromedp.Navigate(c.url+"/admin/stock/docs"), chromedp.WaitVisible(chromedp.CSS("#draft")),
			chromedp.SetValue(chromedp.CSS("#doc-kind"), kind), chromedp.SendKeys(chromedp.CSS("#doc-code"), code),
			chromedp.SendKeys(chromedp.CSS("#doc-from"), from), chromedp.SendKeys(chromedp.CSS("#doc-to"), to),
			chromedp.SendKeys(chromedp.CSS("#doc-cert"), cert), press("#doc-"+action))
	}
	draft("einvoice", "35060126", "0000000001", "0000100000", "闽财票证2026-001", "submit")
	if msg := text(t, wang, "#message"); !strings.Contains(msg, "已制单并送审") {
		t.Fatalf("drafting: %q", msg)
	}
	draft("einvoice", "35060126", "0000090001", "0000200000", "", "save")
	if msg := text(t, wang, "#error"); !strings.Contains(msg, "0000000001–0000100000") {
		t.Fatalf("an overlapping draft: %q", msg)
	}
	// The typed range stays in the form after the refusal.
	if v, _ := chromedp.Run(wang, chromedp.Value(chromedp.CSS("#doc-from"))); v != "0000090001" {
		t.Errorf("the form after a refusal holds %q", v)
	}
	draft("paper", "35062601", "1", "10000", "闽财票证2026-O01", "submit")
	// The maker sees no approve button on her own documents.
	if n := count(t, wang, "#docs button.approve"); n != 0 {
		t.Fatalf("the maker sees %d approve buttons", n)
	}
	if left := stockOf(t, c, "35060126"); left != 0 {
		t.Fatalf("%d numbers in stock before approval", left)
	}

	chen := browser(t)
	firstSignIn(t, chen, c, "chen", chenOnce, "Shen#He2026x")
	// The checker's 工作台 shows the two documents waiting.
	if n := text(t, chen, "#waiting-count .big"); n != "2" || !strings.Contains(text(t, chen, "#waiting"), "王") && !strings.Contains(text(t, chen, "#waiting"), "wang") {
		t.Fatalf("waiting on the checker's dashboard: %q", n)
	}
	do(t, chen, chromedp.Navigate(c.url+"/admin/stock/docs?state=submitted"), chromedp.WaitVisible(chromedp.CSS("#docs")))
	if h := text(t, chen, "main"); !strings.Contains(h, "待审核 2 张") {
		t.Fatalf("the checker's list: %q", h)
	}
	docs, err := c.store.StockDocs(sys, server.DocSubmitted)
	must(err)
	var einvoice, paper string
	for _, d := range docs {
		if d.Kind == server.StockPaper {
			paper = d.ID
		} else {
			einvoice = d.ID
		}
	}
	// Return the paper document: without an opinion it is refused.
	do(t, chen, press("#doc-"+paper+" button.return"))
	if msg := text(t, chen, "#error"); !strings.Contains(msg, "审核意见") {
		t.Fatalf("a return without an opinion: %q", msg)
	}
	do(t, chen, chromedp.Navigate(c.url+"/admin/stock/docs?state=submitted"), chromedp.WaitVisible(chromedp.CSS("#docs")),
		chromedp.SendKeys(chromedp.CSS("#doc-"+paper+" input.opinion"), "领用证号 O 应为数字 0"),
		press("#doc-"+paper+" button.return"),
		chromedp.SendKeys(chromedp.CSS("#doc-"+einvoice+" input.opinion"), "核对无误"),
		press("#doc-"+einvoice+" button.approve"))
	if msg := text(t, chen, "#message"); !strings.Contains(msg, "已审核通过") || stockOf(t, c, "35060126") != 100000 {
		t.Fatalf("approval: %q, %d in stock", msg, stockOf(t, c, "35060126"))
	}

	// The maker sees the opinion, sends the document again; the checker approves.
	do(t, wang, chromedp.Navigate(c.url+"/admin/stock/docs?state=returned"), chromedp.WaitVisible(chromedp.CSS("#doc-"+paper)))
	if row := text(t, wang, "#doc-"+paper); !strings.Contains(row, "已退回") || !strings.Contains(row, "领用证号 O 应为数字 0") {
		t.Fatalf("the returned document: %q", row)
	}
	do(t, wang, press("#doc-"+paper+" button.submit"))
	do(t, chen, chromedp.Navigate(c.url+"/admin/stock/docs?state=submitted"), chromedp.WaitVisible(chromedp.CSS("#doc-"+paper)),
		press("#doc-"+paper+" button.approve"))
	if left := stockOf(t, c, "35062601"); left != 10000 {
		t.Fatalf("%d paper in stock after approval", left)
	}

	// Distribute paper 1–500 to P01; a clash with it is refused naming P01.
	give := func(from, to string) {
		t.Helper()
		do(t, wang, chromedp.Navigate(c.url+"/admin/stock/paper"), chromedp.WaitVisible(chromedp.CSS("#distribute")),
			chromedp.SetValue(chromedp.CSS("#paper-point"), "P01"), chromedp.SendKeys(chromedp.CSS("#paper-from"), from),
			chromedp.SendKeys(chromedp.CSS("#paper-to"), to), press("#paper-give"))
	}
	give("1", "500")
	if msg := text(t, wang, "#message"); !strings.Contains(msg, "0000000001–0000000500") {
		t.Fatalf("distributing: %q", msg)
	}
	give("400", "600")
	if msg := text(t, wang, "#error"); !strings.Contains(msg, "P01") {
		t.Fatalf("a clashing distribution: %q", msg)
	}

	// P01's station enrolls and syncs; it takes in 1–500 and not 501–600.
	must(c.store.SetBillKind(sys, bill.Outpatient, "35060126"))
	enroll, _, err := c.store.EnrollCode(sys, "P01")
	must(err)
	station, err := localstore.Open(context.Background(), t.TempDir())
	must(err)
	t.Cleanup(func() { station.Close() })
	_, err = ebsync.Enroll(context.Background(), station, c.url, c.fp, enroll)
	must(err)
	if _, err := station.IntakePaper(context.Background(), bill.Segment{Code: "35062601", Start: 501, End: 600}); bill.ErrorCode(err) != bill.EForbidden {
		t.Fatalf("the station taking in paper not distributed: %v", err)
	}
	if _, err := station.IntakePaper(context.Background(), bill.Segment{Code: "35062601", Start: 1, End: 500}); err != nil {
		t.Fatalf("the station taking in its paper: %v", err)
	}

	// 库存查询 shows both codes, the point's paper line, and a threshold set here.
	do(t, wang, chromedp.Navigate(c.url+"/admin/stock"), chromedp.WaitVisible(chromedp.CSS("#stock-lines")),
		chromedp.SendKeys(chromedp.CSS("#stock-paper-35062601-P01 .min-left"), "600"),
		press("#stock-paper-35062601-P01 button"))
	if row := text(t, wang, "#stock-paper-35062601-P01"); !strings.Contains(row, "500") || !strings.Contains(row, "低于预警值 600") {
		t.Fatalf("P01's paper line: %q", row)
	}
	if row := text(t, wang, "#stock-einvoice-35060126-all"); !strings.Contains(row, "100000") {
		t.Fatalf("the e-bill line: %q", row)
	}
	// The checker may not distribute (no form, and the handler refuses).
	do(t, chen, chromedp.Navigate(c.url+"/admin/stock/paper"), chromedp.WaitVisible(chromedp.CSS("#distributions")))
	if n := count(t, chen, "#distribute"); n != 0 {
		t.Fatal("the checker sees the distribution form")
	}
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }

func stockOf(t *testing.T, c *console, code string) int64 {
	t.Helper()
	list, err := c.store.Stock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Code == code {
			return s.Remaining
		}
	}
	return 0
}
