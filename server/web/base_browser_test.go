package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// TestConsoleBaseData (基础信息): the bill administrator sets the unit and
// its seal image, a kind's bill code, imports charge items from Excel,
// finds one by its pinyin initials and changes its price, and adds a pay
// channel; a channel a point uses by default cannot be disabled; stations
// receive the changes in their master data.
func TestConsoleBaseData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	sys := server.WithActor(context.Background(), server.Actor{Who: "cli:test", System: true})
	if err := c.store.AddPoint(sys, "P01", "门诊一号窗口", server.PointStation); err != nil {
		t.Fatal(err)
	}
	p, _ := c.store.Point(sys, "P01")
	st := p.Settings
	st.DefaultPayChannel = "05"
	if err := c.store.SetPointSettings(sys, "P01", st); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A red seal image and an Excel catalogue, as the office has them.
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := 10; x < 54; x++ {
		img.Set(x, 32, color.RGBA{200, 0, 0, 255})
	}
	var seal bytes.Buffer
	png.Encode(&seal, img)
	os.WriteFile(filepath.Join(dir, "seal.png"), seal.Bytes(), 0o600)
	x := excelize.NewFile()
	for i, row := range [][]any{{"编码", "名称", "类别", "单位", "规格", "单价", "医保类别"},
		{"XJ01CEQ001", "青霉素片", "09", "片", "0.25g*24", "0.4583", "甲"},
		{"250101015", "血常规", "04", "项", "", "35.00", "甲"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		x.SetSheetRow("Sheet1", cell, &row)
	}
	x.SaveAs(filepath.Join(dir, "items.xlsx"))

	ctx := browser(t)
	firstSignIn(t, ctx, c, "wang", addPerson(t, c, "wang", "王票管", server.RoleBillAdmin), "Piao#Guan2026")
	do(t, ctx, chromedp.Navigate(c.url+"/admin/unit"), chromedp.WaitVisible(chromedp.CSS("#unit-form")),
		chromedp.SendKeys(chromedp.CSS("#unit-name"), "厦门市海沧区医院"), chromedp.SendKeys(chromedp.CSS("#unit-credit"), "123502004266001233"),
		chromedp.SetUploadFiles(chromedp.CSS("#unit-seal"), []string{filepath.Join(dir, "seal.png")}), press("#unit-save"))
	if msg := text(t, ctx, "#message"); !strings.Contains(msg, "已保存单位信息") {
		t.Fatalf("saving the unit: %q", msg)
	}
	if got, _ := c.store.UnitSeal(sys); !bytes.Equal(got, seal.Bytes()) {
		t.Fatalf("the seal stored is %d bytes, want %d", len(got), seal.Len())
	}
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#seal-img")),
		chromedp.SetValue(chromedp.CSS("#kind-inpatient .kind-code"), "35060226"), press("#kind-inpatient button"))
	if kinds, _ := c.store.BillKinds(sys); kinds[bill.Inpatient] != "35060226" {
		t.Fatalf("the inpatient code: %v", kinds)
	}
	// A code that is not a bill code is refused, named.
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#kind-exam .kind-code"), "3506"), press("#kind-exam button"))
	if msg := text(t, ctx, "#error"); !strings.Contains(msg, "3506") {
		t.Fatalf("a bad bill code: %q", msg)
	}

	do(t, ctx, chromedp.Navigate(c.url+"/admin/items"), chromedp.WaitVisible(chromedp.CSS("#import-form")),
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{filepath.Join(dir, "items.xlsx")}), press("#import"))
	if msg := text(t, ctx, "#message"); !strings.Contains(msg, "已导入 2 个") {
		t.Fatalf("importing: %q", msg)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#item-q"), "qmsp"), submit("#item-find", "#items"))
	if n := count(t, ctx, "#items tbody tr[id]"); n != 1 || !strings.Contains(text(t, ctx, "#items"), "青霉素片") {
		t.Fatalf("found by qmsp: %d rows", n)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#item-XJ01CEQ001 a.edit")), chromedp.WaitVisible(chromedp.CSS("#item-form")),
		chromedp.SetValue(chromedp.CSS("#item-price"), "0.5000"), press("#item-save"))
	md, err := c.store.MasterDataSince(sys, "P01", 0)
	if err != nil {
		t.Fatal(err)
	}
	var price bill.Money4
	for _, it := range md.ChargeItems {
		if it.Code == "XJ01CEQ001" {
			price = it.Price
		}
	}
	if price != 5000 || len(md.UnitSeal) != seal.Len() {
		t.Fatalf("the station's master data: price %d, seal %d bytes", price, len(md.UnitSeal))
	}

	do(t, ctx, chromedp.Navigate(c.url+"/admin/paychannels"), chromedp.WaitVisible(chromedp.CSS("#channel-form")),
		chromedp.SendKeys(chromedp.CSS("#channel-code"), "12"), chromedp.SendKeys(chromedp.CSS("#channel-name"), "数字人民币"), press("#channel-save"))
	if row := text(t, ctx, "#channel-12"); !strings.Contains(row, "数字人民币") {
		t.Fatalf("the new channel: %q", row)
	}
	if row := text(t, ctx, "#channel-05"); !strings.Contains(row, "P01") {
		t.Fatalf("微信 as P01's default: %q", row)
	}
	do(t, ctx, press("#channel-05 button.disable"))
	if msg := text(t, ctx, "#error"); !strings.Contains(msg, "P01") {
		t.Fatalf("disabling P01's default: %q", msg)
	}
}
