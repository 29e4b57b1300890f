package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/server"
)

// TestConsoleCorrections (数据修正): the bill administrator asks in the
// browser for a bill's payer to be corrected; the checker approves; the
// ledger then holds the original reversed and a reissue with the new
// payer, and the record shows before and after.
func TestConsoleCorrections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	stationWithBills(t, c, 3)
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	if err := c.store.AddPoint(sys, "H01", "数据修正", server.PointServer); err != nil {
		t.Fatal(err)
	}
	wangOnce := addPerson(t, c, "wang", "王票管", server.RoleBillAdmin)
	chenOnce := addPerson(t, c, "chen", "陈审核", server.RoleChecker)
	wang := browser(t)
	firstSignIn(t, wang, c, "wang", wangOnce, "Piao#Guan2026")
	do(t, wang, chromedp.Navigate(c.url+"/admin/corrections"), chromedp.WaitVisible(chromedp.CSS("#cx-form")),
		chromedp.SetValue(chromedp.CSS("#cx-kind"), "bill"), chromedp.SendKeys(chromedp.CSS("#cx-target"), "35060126 0000000002"),
		chromedp.SendKeys(chromedp.CSS("#cx-reason"), "交款人姓名录错"), chromedp.SendKeys(chromedp.CSS("#cx-payer"), "李四"), press("#cx-submit"))
	if msg := text(t, wang, "#message"); !strings.Contains(msg, "交款人改为“李四”") {
		t.Fatalf("the request: %q", msg)
	}
	if n := countOf(t, wang, "#corrections .approve"); n != 0 {
		t.Fatal("the maker may approve her own request")
	}
	chen := browser(t)
	firstSignIn(t, chen, c, "chen", chenOnce, "Shen#He2026x")
	do(t, chen, chromedp.Navigate(c.url+"/admin/corrections?state=submitted"), chromedp.WaitVisible(chromedp.CSS("#corrections .approve")),
		press("#corrections .approve"))
	if msg := text(t, chen, "#message"); !strings.Contains(msg, "已红冲") || !strings.Contains(msg, "重开票据 35060126") {
		t.Fatalf("approving: %q", msg)
	}
	var payer string
	if err := c.store.DB().QueryRow(`SELECT payer FROM bills WHERE point_code = 'H01' AND red_of IS NULL`).Scan(&payer); err != nil || payer != "李四" {
		t.Fatalf("the reissue's payer: %q %v", payer, err)
	}
	var reds int
	if err := c.store.DB().QueryRow(`SELECT COUNT(*) FROM bills WHERE red_of = (SELECT id FROM bills WHERE bill_code = '35060126' AND bill_no = 2)`).Scan(&reds); err != nil || reds != 1 {
		t.Fatalf("the original's red bills: %d %v", reds, err)
	}
	if row := text(t, chen, "#corrections tbody tr"); !strings.Contains(row, "已执行") || !strings.Contains(row, "修改前") {
		t.Fatalf("the record: %q", row)
	}
}
