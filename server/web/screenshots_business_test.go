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

// TestConsoleBusinessScreenshots writes PNGs of the bill administrator's
// pages (票源管理, 基础信息, 查询统计, 消息中心, 工作台) into
// $EBILL_SCREENSHOTS (make screenshots), over a station that has issued
// and synced bills.
func TestConsoleBusinessScreenshots(t *testing.T) {
	dir := os.Getenv("EBILL_SCREENSHOTS")
	if dir == "" {
		t.Skip("EBILL_SCREENSHOTS not set")
	}
	c := newConsole(t)
	c.console.SetFingerprint(c.fp)
	stationWithBills(t, c, 60)
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:screenshots", System: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.store.SetBillKind(sys, bill.Outpatient, "35060126"))
	must(c.store.AddPoint(sys, "P02", "门诊收费二号窗口", server.PointStation))
	must(c.store.AddPoint(sys, "H01", "HIS门诊开票", server.PointServer))
	_, err := c.store.ReceiveStock(sys, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 10000})
	must(err)
	_, err = c.store.DistributePaper(sys, "P01", "35062601", 1, 500, 0)
	must(err)
	items, err := os.Open(filepath.Join("..", "..", "examples", "charge-items.csv"))
	must(err)
	_, err = c.store.ImportChargeItems(sys, items)
	items.Close()
	must(err)
	_, err = c.store.SaveCertificate(sys, server.Certificate{No: "闽财票证2026-001", Name: "医疗收费票据领用证", Unit: "厦门市某区医院",
		IssuedOn: "2026-01-05", ValidTo: "2028-01-04", Codes: []string{"35060126", "35060226", "35062601"}, Enabled: true,
		LicenseNo: "闽价费证字 350205001", Contact: "王会计", Phone: "0592-6000000", FinanceHead: "李主任", Handler: "王会计"})
	must(err)
	chen := addPerson(t, c, "chen", "陈建国", server.RoleChecker)
	_ = chen
	must(c.store.SetStockAlert(sys, server.StockAlert{Kind: server.StockPaper, Code: "35062601", Point: "P01", MinLeft: 600}))
	ctx := browser(t)
	firstSignIn(t, ctx, c, "wang", addPerson(t, c, "wang", "王会计", server.RoleBillAdmin), "Piao#Guan2026")
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must(err)
		must(os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644))
	}
	visit := func(path, wait, name string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(c.url+path), chromedp.WaitVisible(chromedp.CSS(wait)))
		shot(name)
	}
	// A document drafted and sent, waiting for the checker.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/stock/docs"), chromedp.WaitVisible(chromedp.CSS("#draft")),
		chromedp.SendKeys(chromedp.CSS("#doc-code"), "35060226"), chromedp.SendKeys(chromedp.CSS("#doc-from"), "0000000001"),
		chromedp.SendKeys(chromedp.CSS("#doc-to"), "0000500000"), chromedp.SendKeys(chromedp.CSS("#doc-cert"), "闽财票证2026-001"),
		press("#doc-submit"))
	shot("stock-docs")
	visit("/admin/certificates", "#certs", "certificates")
	visit("/admin/stock/paper", "#distributions", "stock-paper")
	visit("/admin/stock", "#stock-lines", "stock")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/points"), chromedp.WaitVisible(chromedp.CSS("#points")), press("#point-P02 button.enroll"))
	shot("points")
	visit("/admin/unit", "#kinds", "unit")
	visit("/admin/items", "#items", "items")
	visit("/admin/paychannels", "#channels", "paychannels")
	visit("/admin/bills", "#bills", "bills")
	visit("/admin/bills/35060126/0000000001", "#life", "bill")
	visit("/admin/numbers?kind=einvoice&code=35060126&no=2", "#number-life", "numbers")
	visit("/admin/summary?point-split=1&kind-split=1&channel-split=1", "#summary", "summary")
	today := c.now().In(bill.Beijing).Format("2006-01-02")
	visit("/admin/trend?by=hour&from="+today+"&to="+today, "#trend-chart[data-ready] canvas", "trend")
	visit("/admin/conflicts", "#bill-conflicts", "conflicts")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/messages"), chromedp.WaitVisible(chromedp.CSS("#message-form")),
		chromedp.SetValue(chromedp.CSS("#msg-target"), "point:P01"), chromedp.SendKeys(chromedp.CSS("#msg-title"), "明天上午停电"),
		chromedp.SendKeys(chromedp.CSS("#msg-body"), "8:00–10:00 停电检修，期间收费电脑离线开票，来电后自动上传。"), press("#msg-send"))
	shot("messages")
	// 核销管理: today's e-bill declaration, drafted; a store-room void sent.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/writeoffs"), chromedp.WaitVisible(chromedp.CSS("#wo-draft")),
		chromedp.SendKeys(chromedp.CSS("#wo-code"), "35060126"), chromedp.SetValue(chromedp.CSS("#wo-from"), today),
		chromedp.SetValue(chromedp.CSS("#wo-to"), today), submit("#wo-make", "#wo-figures"))
	shot("writeoff")
	visit("/admin/writeoffs", "#writeoffs", "writeoffs")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/storevoids"), chromedp.WaitVisible(chromedp.CSS("#sv-form")),
		chromedp.SendKeys(chromedp.CSS("#sv-from"), "9991"), chromedp.SendKeys(chromedp.CSS("#sv-to"), "10000"),
		chromedp.SendKeys(chromedp.CSS("#sv-reason"), "受潮"), press("#sv-submit"))
	shot("storevoids")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/corrections"), chromedp.WaitVisible(chromedp.CSS("#cx-form")),
		chromedp.SendKeys(chromedp.CSS("#cx-target"), "35060126 0000000003"), chromedp.SendKeys(chromedp.CSS("#cx-reason"), "交款人姓名录错"),
		chromedp.SendKeys(chromedp.CSS("#cx-evidence"), "患者身份证复印件"), chromedp.SendKeys(chromedp.CSS("#cx-payer"), "李四"), press("#cx-submit"))
	shot("corrections")
	visit("/admin/", "#hourly-chart[data-ready='24'] canvas", "dashboard")
	// 运维: the system administrator's inspection.
	it := browser(t)
	firstSignIn(t, it, c, "it", addPerson(t, c, "it", "李运维", server.RoleSysAdmin), "Yun#Wei2026ok")
	do(t, it, chromedp.Navigate(c.url+"/admin/inspections"), chromedp.WaitVisible(chromedp.CSS("#inspect-now")),
		submit("#inspect-now", "#inspection-items"))
	png, err := chromedp.Run(it, chromedp.FullScreenshot(100))
	must(err)
	must(os.WriteFile(filepath.Join(dir, "console-inspection.png"), png, 0o644))
}
