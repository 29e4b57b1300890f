package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/server"
)

// TestConsoleCertificates (领用证): the bill administrator registers a
// certificate; an intake must then name it, and one naming a code it does
// not cover is refused; after approval the certificate's ledger lists the
// intake.
func TestConsoleCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	ctx := browser(t)
	firstSignIn(t, ctx, c, "wang", addPerson(t, c, "wang", "王票管", server.RoleBillAdmin), "Piao#Guan2026")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/certificates"), chromedp.WaitVisible(chromedp.CSS("#cert-new")),
		chromedp.Click(chromedp.CSS("#cert-new")), chromedp.WaitVisible(chromedp.CSS("#cert-form")),
		chromedp.SendKeys(chromedp.CSS("#cert-no"), "闽财票证2026-001"), chromedp.SendKeys(chromedp.CSS("#cert-name"), "医疗收费票据领用证"),
		chromedp.SendKeys(chromedp.CSS("#cert-codes"), "35060126，35062601"), chromedp.SendKeys(chromedp.CSS("#cert-issued"), "2026-01-05"),
		chromedp.SendKeys(chromedp.CSS("#cert-valid"), "2099-01-04"), press("#cert-save"))
	if row := text(t, ctx, "#cert-闽财票证2026-001"); !strings.Contains(row, "35060126、35062601") || !strings.Contains(row, "2027-01-05") {
		t.Fatalf("the registered certificate: %q", row)
	}
	draft := func(code, cert string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(c.url+"/admin/stock/docs"), chromedp.WaitVisible(chromedp.CSS("#draft")),
			chromedp.SendKeys(chromedp.CSS("#doc-code"), code), chromedp.SendKeys(chromedp.CSS("#doc-from"), "1"),
			chromedp.SendKeys(chromedp.CSS("#doc-to"), "1000"), chromedp.SendKeys(chromedp.CSS("#doc-cert"), cert), press("#doc-submit"))
	}
	draft("35060226", "闽财票证2026-001")
	if msg := text(t, ctx, "#error"); !strings.Contains(msg, "不包括票据代码 35060226") {
		t.Fatalf("a code the certificate does not cover: %q", msg)
	}
	draft("35060126", "")
	if msg := text(t, ctx, "#error"); !strings.Contains(msg, "请填写领用证号") {
		t.Fatalf("an intake naming no certificate: %q", msg)
	}
	draft("35060126", "闽财票证2026-001")
	docs, err := c.store.StockDocs(asChecker(), server.DocSubmitted)
	if err != nil || len(docs) != 1 {
		t.Fatalf("submitted: %v %v", docs, err)
	}
	if _, err := c.store.DecideStock(asChecker(), docs[0].ID, true, "核对无误"); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(c.url+"/admin/certificates"), chromedp.WaitVisible(chromedp.CSS("#certs")),
		chromedp.Click(chromedp.CSS(`#certs a.ledger`)), chromedp.WaitVisible(chromedp.CSS("#cert-lines")))
	if lines := text(t, ctx, "#cert-lines"); !strings.Contains(lines, "领") || !strings.Contains(lines, "0000001000") || !strings.Contains(lines, "chen") {
		t.Fatalf("the ledger: %q", lines)
	}
	if totals := text(t, ctx, "#cert-totals"); !strings.Contains(totals, "1000") {
		t.Fatalf("the totals: %q", totals)
	}
}

// asChecker acts as a checker, chen, outside the browser.
func asChecker() context.Context {
	u := &server.User{Login: "chen", Name: "陈审核", Roles: []string{server.RoleChecker}}
	return server.WithActor(context.Background(), server.Actor{Who: "user:chen", User: u})
}
