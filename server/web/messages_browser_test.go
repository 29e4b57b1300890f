package web_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/server"
	ebsync "github.com/ebill/ebill/sync"
)

// TestConsoleMessages (消息中心): the bill administrator posts a notice to
// P01; P01's desk receives it at its next sync, reads it, and the read
// receipt comes back to the console's 发送记录.
func TestConsoleMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	station := stationWithBills(t, c, 1)
	ctx := browser(t)
	firstSignIn(t, ctx, c, "wang", addPerson(t, c, "wang", "王票管", server.RoleBillAdmin), "Piao#Guan2026")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/messages"), chromedp.WaitVisible(chromedp.CSS("#message-form")),
		chromedp.SetValue(chromedp.CSS("#msg-target"), "point:P01"), chromedp.SendKeys(chromedp.CSS("#msg-title"), "明天上午停电"),
		chromedp.SendKeys(chromedp.CSS("#msg-body"), "请提前准备纸质票据，停电期间离线开票。"), press("#msg-send"))
	if msg := text(t, ctx, "#message"); !strings.Contains(msg, "开票点 P01") {
		t.Fatalf("posting: %q", msg)
	}
	if reads := text(t, ctx, "#sent tbody tr:first-child .reads"); !strings.HasPrefix(reads, "0 / 1") {
		t.Fatalf("before the desk reads it: %q", reads)
	}
	svc, err := ebsync.NewService(context.Background(), station, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	if r := svc.Once(context.Background()); r.Err != nil {
		t.Fatal(r.Err)
	}
	msgs, err := station.Messages(context.Background())
	if err != nil || len(msgs) != 1 || msgs[0].Title != "明天上午停电" {
		t.Fatalf("the desk's messages: %+v %v", msgs, err)
	}
	if err := station.MarkMessageRead(context.Background(), msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if r := svc.Once(context.Background()); r.Err != nil {
		t.Fatal(r.Err)
	}
	do(t, ctx, chromedp.Navigate(c.url+"/admin/messages"), chromedp.WaitVisible(chromedp.CSS("#sent")))
	if reads := text(t, ctx, "#sent tbody tr:first-child .reads"); !strings.HasPrefix(reads, "1 / 1") || !strings.Contains(reads, "P01") {
		t.Fatalf("after the desk read it: %q", reads)
	}
}
