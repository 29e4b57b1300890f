package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/server"
	ebsync "github.com/ebill/ebill/sync"
)

// TestConsolePoints (基础信息·开票点): the bill administrator adds a point,
// sets its offline limits, issues an enrolment code shown as text and QR
// code; the station enrolls with it and syncs, and the page shows it
// online with its version; disabled, the point's station is refused new
// numbers while its bills still upload; revoked, it can enroll again.
func TestConsolePoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	c.console.SetFingerprint(c.fp)
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
	ctx := browser(t)
	firstSignIn(t, ctx, c, "wang", addPerson(t, c, "wang", "王票管", server.RoleBillAdmin), "Piao#Guan2026")

	do(t, ctx, chromedp.Navigate(c.url+"/admin/points"), chromedp.WaitVisible(chromedp.CSS("#add-point")),
		chromedp.SendKeys(chromedp.CSS("#point-code"), "P02"), chromedp.SendKeys(chromedp.CSS("#point-name"), "门诊收费二号窗口"),
		press("#point-add"))
	if msg := text(t, ctx, "#message"); !strings.Contains(msg, "已新增开票点 P02") {
		t.Fatalf("adding: %q", msg)
	}
	// Offline limits: 24 hours, 300 bills; a bad figure is refused and changes nothing.
	do(t, ctx, chromedp.Click(chromedp.CSS("#point-P02 a.edit")), chromedp.WaitVisible(chromedp.CSS("#edit-point")),
		chromedp.SetValue(chromedp.CSS("#edit-hours"), "二十四"), press("#edit-save"))
	if msg := text(t, ctx, "#error"); !strings.Contains(msg, "离线时长") {
		t.Fatalf("a bad figure: %q", msg)
	}
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#edit-hours"), "24"), chromedp.SetValue(chromedp.CSS("#edit-count"), "300"),
		chromedp.SetValue(chromedp.CSS("#edit-segment"), "50"), chromedp.SetValue(chromedp.CSS("#edit-refill"), "10"),
		chromedp.SetValue(chromedp.CSS("#edit-checker"), "陈建国"), press("#edit-save"))
	p, err := c.store.Point(sys, "P02")
	must(err)
	if p.Settings.Limits.MaxHours != 24 || p.Settings.Limits.MaxCount != 300 || p.Settings.SegmentSize != 50 || p.Settings.Checker != "陈建国" {
		t.Fatalf("settings saved: %+v", p.Settings)
	}
	// The enrolment code, as text and as a QR code image.
	do(t, ctx, press("#point-P02 button.enroll"))
	code := text(t, ctx, "#enroll-value")
	if cmd := text(t, ctx, "#enroll-command"); len(code) != 8 || !strings.Contains(cmd, "--code "+code) || !strings.Contains(cmd, c.fp) {
		t.Fatalf("enrolment code %q, command %q", code, cmd)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById('enroll-qr').decode()
		.then(() => document.getElementById('enroll-qr').naturalWidth)`, chromedp.EvalAwaitPromise))
	if err != nil || w < 100 {
		t.Fatalf("the QR code image is %d pixels wide: %v", w, err)
	}

	// The station enrolls with that code and syncs.
	station, err := localstore.Open(context.Background(), t.TempDir())
	must(err)
	t.Cleanup(func() { station.Close() })
	_, err = ebsync.Enroll(context.Background(), station, c.url, c.fp, code)
	must(err)
	svc, err := ebsync.NewService(context.Background(), station, slog.New(slog.NewTextHandler(io.Discard, nil)), "1.2.3-test")
	must(err)
	if r := svc.Once(context.Background()); r.Err != nil {
		t.Fatalf("sync: %v", r.Err)
	}
	do(t, ctx, chromedp.Navigate(c.url+"/admin/points"), chromedp.WaitVisible(chromedp.CSS("#points")))
	if row := text(t, ctx, "#point-P02"); !strings.Contains(row, "在线") || !strings.Contains(row, "1.2.3-test") || !strings.Contains(row, "24 小时 / 300 张") {
		t.Fatalf("P02's status: %q", row)
	}

	// Disabled: the station's bills upload, but it gets no new numbers.
	do(t, ctx, press("#point-P02 button.disable"))
	if row := text(t, ctx, "#point-P02"); !strings.Contains(row, "已停用") {
		t.Fatalf("P02 after disabling: %q", row)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "registration.json"))
	must(err)
	for i := range 45 { // 50 numbers held; the refill threshold is 10
		set, err := bill.ParseSettlement(raw)
		must(err)
		set.BusNo, set.PlaceCode = bill.Text(fmt.Sprintf("R-%d", i)), "P02"
		if _, err := station.Issue(context.Background(), bill.Registration, set); err != nil {
			t.Fatalf("bill %d: %v", i, err)
		}
	}
	r := svc.Once(context.Background())
	if r.Err == nil || !strings.Contains(bill.ErrorMessage(r.Err), "已停用") || r.Uploaded != 45 || len(r.Allocated) != 0 {
		t.Fatalf("a disabled point's sync: uploaded %d, allocated %v, %v", r.Uploaded, r.Allocated, r.Err)
	}
	do(t, ctx, press("#point-P02 button.enable"), press("#point-P02 button.revoke"))
	if row := text(t, ctx, "#point-P02"); !strings.Contains(row, "未注册") {
		t.Fatalf("P02 after revoking: %q", row)
	}
	if n := count(t, ctx, "#point-P02 button.enroll"); n != 1 {
		t.Fatal("no new enrolment code can be issued after revoking")
	}
}
