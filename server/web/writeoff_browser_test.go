package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestConsoleWriteOff (核销管理): the bill administrator drafts the day's
// e-bill declaration in the browser; it cannot be sent before its period
// ends; sent, the maker has no approve button and the checker approves it;
// its figures agree with a direct count of the ledger, in the page, the PDF
// (read back with pdftotext) and the Excel file; the drill-down lists the
// numbers. The store room's blank void goes through its own approval.
func TestConsoleWriteOff(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	const n = 12
	stationWithBills(t, c, n) // n registration bills and one red bill, uploaded
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	if _, err := c.store.ReceiveStock(sys, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 100}); err != nil {
		t.Fatal(err)
	}
	var count, total int64
	if err := c.store.DB().QueryRow("SELECT COUNT(*), SUM(total) FROM bills WHERE bill_code = '35060126'").Scan(&count, &total); err != nil {
		t.Fatal(err)
	}
	if count != n+1 {
		t.Fatalf("%d bills in the ledger", count)
	}
	wangOnce := addPerson(t, c, "wang", "王票管", server.RoleBillAdmin)
	chenOnce := addPerson(t, c, "chen", "陈审核", server.RoleChecker)
	today := c.now().In(bill.Beijing).Format("2006-01-02")

	wang := browser(t)
	secret := firstSignIn(t, wang, c, "wang", wangOnce, "Piao#Guan2026")
	if menu := text(t, wang, "#menu"); !strings.Contains(menu, "核销申报与审核") || !strings.Contains(menu, "空白票据作废") {
		t.Fatalf("the menu: %q", menu)
	}
	do(t, wang, chromedp.Navigate(c.url+"/admin/writeoffs"), chromedp.WaitVisible(chromedp.CSS("#wo-draft")),
		chromedp.SendKeys(chromedp.CSS("#wo-code"), "35060126"),
		chromedp.SetValue(chromedp.CSS("#wo-from"), today), chromedp.SetValue(chromedp.CSS("#wo-to"), today),
		submit("#wo-make", "#wo-figures"))
	cell := func(ctx context.Context, line, col string) string {
		t.Helper()
		return text(t, ctx, "#line-"+line+" ."+col)
	}
	if got := cell(wang, "used", "count"); got != strconv.FormatInt(count, 10) {
		t.Fatalf("本期使用 %s, the ledger holds %d", got, count)
	}
	if got := cell(wang, "net", "amount"); got != bill.Money(total).String() {
		t.Fatalf("净额 %s, the ledger sums %s", got, bill.Money(total))
	}
	if got := cell(wang, "closing", "count"); got != strconv.FormatInt(100000-count, 10) {
		t.Fatalf("期末结存 %s", got)
	}
	if checks := text(t, wang, "#wo-checks"); strings.Contains(checks, "不通过") {
		t.Fatalf("the checks: %q", checks)
	}
	// Today has not ended: the declaration cannot be sent yet.
	do(t, wang, press("#wo-submit"))
	if e := text(t, wang, "#error"); !strings.Contains(e, "期满后再送审") {
		t.Fatalf("sending before the period ends: %q", e)
	}
	// A day later it can; the maker sees no approve button.
	c.shift.Store(int64(24 * time.Hour))
	secret = firstSignInAgain(t, wang, c, "wang", "Piao#Guan2026", secret)
	do(t, wang, chromedp.Navigate(c.url+"/admin/writeoffs?state=draft"), chromedp.WaitVisible(chromedp.CSS("#writeoffs")),
		chromedp.Click(chromedp.CSS("#writeoffs a.open")), chromedp.WaitVisible(chromedp.CSS("#wo-submit")), press("#wo-submit"))
	if st := text(t, wang, "#wo-state"); st != "已送审" {
		t.Fatalf("after sending: %q (%s)", st, text(t, wang, "main"))
	}
	if count := countOf(t, wang, "#wo-approve"); count != 0 {
		t.Fatal("the maker sees the approve button")
	}
	id := strings.TrimSuffix(strings.TrimPrefix(location(t, wang), "/admin/writeoffs/"), "/submit")

	chen := browser(t)
	firstSignIn(t, chen, c, "chen", chenOnce, "Shen#He2026x")
	do(t, chen, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#waiting-count")))
	if n := text(t, chen, "#waiting-count .big"); n != "1" || !strings.Contains(text(t, chen, "#waiting-wo"), "电子票据核销申报表 35060126") {
		t.Fatalf("the checker's dashboard: %q", text(t, chen, "main"))
	}
	do(t, chen, chromedp.Navigate(c.url+"/admin/writeoffs/"+id), chromedp.WaitVisible(chromedp.CSS("#wo-approve")),
		chromedp.SendKeys(chromedp.CSS("#wo-opinion-input"), "核对无误"), press("#wo-approve"))
	if st := text(t, chen, "#wo-state"); st != "已审核" {
		t.Fatalf("after approval: %q", st)
	}
	// The drill-down lists every used number.
	do(t, chen, chromedp.Navigate(c.url+"/admin/writeoffs/"+id+"/numbers?detail=used"), chromedp.WaitVisible(chromedp.CSS("#wo-numbers")))
	if rows := countOf(t, chen, "#wo-numbers tbody tr"); int64(rows) != count {
		t.Fatalf("the drill-down lists %d numbers", rows)
	}

	// The PDF and the Excel file carry the same figures.
	client := signedInClient(t, c, "wang", "Piao#Guan2026", secret)
	file := filepath.Join(t.TempDir(), "writeoff.pdf")
	os.WriteFile(file, fetch(t, client, c.url+"/admin/writeoffs/"+id+"/pdf"), 0o600)
	out, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pdf := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"电子票据核销申报表", "厦门市某区医院", "期初结存 0", "本期使用（号数） " + strconv.FormatInt(count, 10),
		"期末结存 " + strconv.FormatInt(100000-count, 10), "净额 " + bill.Money(total).String(), "状态：已审核", "审核人：chen"} {
		if !strings.Contains(pdf, want) {
			t.Fatalf("the PDF lacks %q:\n%s", want, out)
		}
	}
	x, err := excelize.OpenReader(strings.NewReader(string(fetch(t, client, c.url+"/admin/writeoffs/"+id+"/export"))))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) > 1 && strings.Contains(r[0], "本期使用") && r[1] == strconv.FormatInt(count, 10) {
			found = true
		}
	}
	if !found {
		t.Fatalf("the Excel file lacks the used count: %v", rows)
	}

	// 空白票据作废 in the store room: sent by the administrator, approved by
	// the checker; the range can then not be distributed.
	do(t, wang, chromedp.Navigate(c.url+"/admin/storevoids"), chromedp.WaitVisible(chromedp.CSS("#sv-form")),
		chromedp.SendKeys(chromedp.CSS("#sv-from"), "91"), chromedp.SendKeys(chromedp.CSS("#sv-to"), "95"),
		chromedp.SendKeys(chromedp.CSS("#sv-reason"), "受潮"), press("#sv-submit"))
	if msg := text(t, wang, "#message"); !strings.Contains(msg, "共 5 张") {
		t.Fatalf("the store void: %q", msg)
	}
	do(t, chen, chromedp.Navigate(c.url+"/admin/storevoids"), chromedp.WaitVisible(chromedp.CSS("#storevoids .approve")), press("#storevoids .approve"))
	if msg := text(t, chen, "#message"); !strings.Contains(msg, "已空白作废") {
		t.Fatalf("approving the store void: %q", msg)
	}
	if _, err := c.store.DistributePaper(sys, "P01", "35062601", 90, 100, 0); bill.ErrorCode(err) != bill.EConflict {
		t.Fatalf("distributing voided paper: %v", err)
	}
}

func countOf(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// firstSignInAgain signs in again after the clock moved past the session's
// life: password and the second factor.
func firstSignInAgain(t *testing.T, ctx context.Context, c *console, login, password, secret string) string {
	t.Helper()
	do(t, ctx, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#login"), login), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#code")),
		chromedp.SendKeys(chromedp.CSS("#code"), code(t, secret, c.now())), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#menu")))
	return secret
}
