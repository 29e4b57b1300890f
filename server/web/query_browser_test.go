package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/ofdcheck"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	ebsync "github.com/ebill/ebill/sync"
)

// stationWithBills enrolls a station at P01 and uploads n registration
// bills, payers 王五 and (every third) 赵六, then reverses the first.
func stationWithBills(t *testing.T, c *console, n int) *localstore.Store {
	t.Helper()
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.store.SetUnit(sys, server.Unit{Name: "厦门市某区医院", CreditCode: "123502004266001233"}))
	must(c.store.SetBillKind(sys, bill.Registration, "35060126"))
	_, err := c.store.ReceiveStock(sys, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 100000})
	must(err)
	must(c.store.AddPoint(sys, "P01", "门诊一号窗口", server.PointStation))
	code, _, err := c.store.EnrollCode(sys, "P01")
	must(err)
	st, err := localstore.Open(context.Background(), t.TempDir())
	must(err)
	t.Cleanup(func() { st.Close() })
	_, err = ebsync.Enroll(context.Background(), st, c.url, c.fp, code)
	must(err)
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "registration.json"))
	must(err)
	for i := range n {
		set, err := bill.ParseSettlement(raw)
		must(err)
		set.BusNo, set.PlaceCode = bill.Text(fmt.Sprintf("Q-%d", i)), "P01"
		if i%3 == 0 {
			set.Payer = "赵六"
		}
		_, err = st.Issue(context.Background(), bill.Registration, set)
		must(err)
	}
	_, err = st.Reverse(context.Background(), "35060126", 1, "退号", "林小燕")
	must(err)
	svc, err := ebsync.NewService(context.Background(), st, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	must(err)
	if r := svc.Once(context.Background()); r.Err != nil || r.Uploaded != n+1 {
		t.Fatalf("sync: %d uploaded, %v", r.Uploaded, r.Err)
	}
	return st
}

// TestConsoleQueries (查询统计): a report reader filters 开票明细, pages
// through it, opens a bill with its life and its PDF, exports the filter
// and reads the rows back from the .xlsx; 开票汇总 agrees with the bills;
// a number's life is told.
func TestConsoleQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	stationWithBills(t, c, 60)
	ctx := browser(t)
	secret := firstSignIn(t, ctx, c, "wang", addPerson(t, c, "wang", "王票管", server.RoleBillAdmin), "Piao#Guan2026")

	// 赵六 paid 20 of the 60 bills (0, 3, … 57); the first was reversed,
	// and its red bill names 赵六 too.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/bills"), chromedp.WaitVisible(chromedp.CSS("#bill-query")),
		chromedp.SendKeys(chromedp.CSS("#q-payer"), "赵六"), submit("#q-search", "#bills"))
	rows := count(t, ctx, "#bills tbody tr")
	if rows != 21 {
		t.Fatalf("赵六's bills on the page: %d", rows)
	}
	if row := text(t, ctx, "#bill-35060126-0000000001"); !strings.Contains(row, "已红冲") {
		t.Fatalf("the reversed bill's row: %q", row)
	}
	// All 61 bills over two pages of 50.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/bills"), chromedp.WaitVisible(chromedp.CSS("#next")))
	first := count(t, ctx, "#bills tbody tr")
	do(t, ctx, submit("#next", "#bills"))
	if second := count(t, ctx, "#bills tbody tr"); first != 50 || second != 11 {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("pages of %d and %d bills (%s)", first, second, loc)
	}
	// A bill's detail: its life and its PDF.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/bills/35060126/0000000001"), chromedp.WaitVisible(chromedp.CSS("#life")))
	if life := text(t, ctx, "#life"); !strings.Contains(life, "开具") || !strings.Contains(life, "上传到服务器") || !strings.Contains(life, "红冲") {
		t.Fatalf("the bill's life: %q", life)
	}
	client := signedInClient(t, c, "wang", "Piao#Guan2026", secret)
	pdf := fetch(t, client, c.url+"/admin/bills/35060126/0000000001/pdf")
	file := filepath.Join(t.TempDir(), "bill.pdf")
	os.WriteFile(file, pdf, 0o600)
	out, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil || !strings.Contains(string(out), "0000000001") || !strings.Contains(string(out), "赵六") {
		t.Fatalf("the PDF's text (%v): %s", err, out)
	}
	// …and its OFD, from the page's link: the same bill, 已冲红 on its face.
	ofdURL, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('ofd').href"))
	if err != nil || !strings.HasSuffix(ofdURL, "/admin/bills/35060126/0000000001/ofd") {
		t.Fatalf("the OFD link: %q %v", ofdURL, err)
	}
	p := ofdcheck.Must(t, fetch(t, client, ofdURL))
	var face []string
	for _, tx := range p.Texts {
		face = append(face, tx.Text)
	}
	if !bytes.Contains(p.Files["OFD.xml"], []byte(`Name="票据号码">0000000001<`)) || !slices.Contains(face, "赵六") || !strings.Contains(strings.Join(face, " "), "已冲红") {
		t.Fatalf("the OFD's face: %v", face)
	}

	// Export the filter and read the rows back.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/bills?payer="+"%E8%B5%B5%E5%85%AD"), chromedp.WaitVisible(chromedp.CSS("#q-export")))
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('q-export').href"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(strings.NewReader(string(fetch(t, client, href))))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := x.GetRows("Sheet1")
	if err != nil || len(sheet) != 22 || sheet[0][0] != "票据代码" {
		t.Fatalf("the export: %d rows, %v", len(sheet), err)
	}
	for _, r := range sheet[1:] {
		if r[6] != "赵六" {
			t.Fatalf("an exported row not of the filter: %v", r)
		}
	}

	// 开票汇总 today: 60 bills of 15.00, one red −15.00.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/summary"), chromedp.WaitVisible(chromedp.CSS("#summary-total")))
	if total := text(t, ctx, "#summary-total"); !strings.Contains(total, "60") || !strings.Contains(total, "900.00") || !strings.Contains(total, "885.00") {
		t.Fatalf("the summary's total: %q", total)
	}
	// 工作台: today's figures and the 24 hours drawn by ECharts (a canvas).
	do(t, ctx, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#hourly-chart[data-ready='24'] canvas")))
	if today := text(t, ctx, "#today"); !strings.Contains(today, "60 张") || !strings.Contains(today, "900.00") || !strings.Contains(today, "红冲 1 张") {
		t.Fatalf("today on the dashboard: %q", today)
	}
	if hourly := text(t, ctx, "#hourly tbody"); !strings.Contains(hourly, "60") {
		t.Fatalf("the hourly table: %q", hourly)
	}
	// 票据峰值走势 today by hour: the chart drawn, the peak named, and the
	// export's rows summing to the bills counted directly.
	day := c.now().In(bill.Beijing).Format("2006-01-02")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/trend?by=hour&from="+day+"&to="+day),
		chromedp.WaitVisible(chromedp.CSS("#trend-chart[data-ready='24'] canvas")))
	if sum := text(t, ctx, "#trend-summary"); !strings.Contains(sum, "合计 60 张") || !strings.Contains(sum, "净额 885.00") || !strings.Contains(sum, "峰值") {
		t.Fatalf("the trend's summary: %q", sum)
	}
	href, err = chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('t-export').href"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := excelize.OpenReader(strings.NewReader(string(fetch(t, client, href))))
	if err != nil {
		t.Fatal(err)
	}
	trows, _ := tx.GetRows("Sheet1")
	var billsSum int
	for _, r := range trows[1:] {
		n, _ := strconv.Atoi(r[1])
		billsSum += n
	}
	var direct int
	if err := c.store.DB().QueryRow("SELECT COUNT(*) FROM bills WHERE red_of IS NULL").Scan(&direct); err != nil {
		t.Fatal(err)
	}
	if len(trows) != 25 || billsSum != direct {
		t.Fatalf("the trend's export: %d rows, %d bills, counted %d", len(trows), billsSum, direct)
	}
	// A number's life.
	do(t, ctx, chromedp.Navigate(c.url+"/admin/numbers"), chromedp.WaitVisible(chromedp.CSS("#number-query")),
		chromedp.SendKeys(chromedp.CSS("#n-code"), "35060126"), chromedp.SendKeys(chromedp.CSS("#n-no"), "2"),
		submit("#n-search", "#number-life"))
	if life := text(t, ctx, "#number-life"); !strings.Contains(life, "入库") || !strings.Contains(life, "分配给开票点") || !strings.Contains(life, "开具") {
		t.Fatalf("number 2's life: %q", life)
	}
}

func fetch(t *testing.T, client *http.Client, u string) []byte {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return b
}
