package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

func TestReverseFlow(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	orig := f.issueExample()
	d.Show("reverse")
	sc := d.Reverse
	f.win.Canvas().Focus(sc.BusNo)
	f.typeText("MZ202611250001")
	f.key(fyne.KeyReturn)
	if sc.Selected == nil || sc.Selected.BillNo != orig.BillNo || !strings.Contains(sc.Found.Text, "张三") {
		t.Fatalf("found %q", sc.Found.Text)
	}
	// No reason: refused, nothing stored.
	sc.Confirm()
	if n := len(f.bills()); n != 1 || !strings.Contains(LastError(), "冲红原因") {
		t.Fatalf("no reason: %d bills, %q", n, LastError())
	}
	f.tapButton("知道了")
	f.win.Canvas().Focus(sc.Reason)
	f.typeText("患者退费")
	f.key(fyne.KeyReturn) // asks to confirm
	f.tapButton("取消")     // a cancelled dialog changes nothing
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 1 {
		t.Fatalf("cancelled: %d bills", n)
	}
	sc.Confirm()
	f.tapButton("确认")
	f.env.Bridge.Wait()
	list := f.bills()
	if len(list) != 2 || sc.Reversed == nil || list[0].RedOf != orig.ID || list[0].Total != -orig.Total {
		t.Fatalf("after reversal: %d bills, %+v", len(list), list[0])
	}
	again, _ := f.store.Bill(context.Background(), orig.BillCode, orig.BillNo)
	if again.State() != "已冲红" || sc.ReverseButton.Disabled() == false {
		t.Fatalf("original state %q, reverse button enabled %v", again.State(), !sc.ReverseButton.Disabled())
	}
}

func TestPaperFlow(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	orig := f.issueExample()
	d.Show("paper")
	sc := d.Paper
	if !strings.Contains(sc.Positions.Text, "35062601  当前号码 0000000001") {
		t.Fatalf("positions %q", sc.Positions.Text)
	}
	sc.BusNo.SetText("MZ202611250001")
	// Cancel the conversion dialog: nothing recorded, nothing printed.
	sc.ConvertDialog()
	f.tapButton("取消")
	f.env.Bridge.Wait()
	if b, _ := f.store.Bill(context.Background(), orig.BillCode, orig.BillNo); b.PaperCode != "" {
		t.Fatal("a cancelled conversion recorded paper")
	}
	// Convert: the number in the printer is the one proposed.
	sc.ConvertDialog()
	f.tapButton("打印")
	f.env.Bridge.Wait()
	b, _ := f.store.Bill(context.Background(), orig.BillCode, orig.BillNo)
	if b.PaperCode != "35062601" || b.PaperNo != 1 {
		t.Fatalf("after conversion: paper %s %d (%s)", b.PaperCode, b.PaperNo, LastError())
	}
	prints, _ := os.ReadDir(filepath.Join(f.dir, "prints"))
	if len(prints) != 1 {
		t.Fatalf("%d PDFs printed", len(prints))
	}
	// Jammed: void and reprint on the next paper number, with a reason.
	sc.PaperNo.SetText("2")
	sc.Reason.SetText("卡纸")
	sc.ReprintConfirm()
	f.tapButton("确认")
	f.env.Bridge.Wait()
	b, _ = f.store.Bill(context.Background(), orig.BillCode, orig.BillNo)
	old, _ := f.store.PaperUsage(context.Background(), "35062601", 1)
	if b.PaperNo != 2 || old == nil || old.Status != localstore.PaperVoided {
		t.Fatalf("after reprint: paper %d, old %+v (%s)", b.PaperNo, old, LastError())
	}
	// A reprint with the wrong paper number in the printer is refused and changes nothing.
	sc.PaperNo.SetText("9")
	sc.ReprintConfirm()
	f.tapButton("确认")
	f.env.Bridge.Wait()
	if b, _ = f.store.Bill(context.Background(), orig.BillCode, orig.BillNo); b.PaperNo != 2 || !strings.Contains(LastError(), "不一致") {
		t.Fatalf("wrong paper number: now %d, %q", b.PaperNo, LastError())
	}
}

func TestQueryExcelAndClosing(t *testing.T) {
	f := newFixture(t)
	f.env.Now = time.Now // the store stamps bills with the real time
	d := f.signIn()
	ctx := context.Background()
	orig := f.issueExample() // payee 林小燕 in the example
	for _, name := range []string{"inpatient", "registration"} {
		data, _ := os.ReadFile("../examples/" + name + ".json")
		s, _ := bill.ParseSettlement(data)
		if _, err := f.store.Issue(ctx, bill.InferKind(s), s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Reverse(ctx, orig.BillCode, orig.BillNo, "退费", "林小燕"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.BlankVoid(ctx, "35062601", 1, 2, "走纸", "林小燕"); err != nil {
		t.Fatal(err)
	}
	d.Show("query")
	q := d.Query
	if q.Total != 4 || !strings.Contains(q.Summary.Text, "共 4 张") {
		t.Fatalf("today: %d bills, %q", q.Total, q.Summary.Text)
	}
	q.State.SetSelected("红字")
	q.Search(0)
	if q.Total != 1 || q.cell(0, 7) != "红字" || q.cell(0, 6) != "-123.45" {
		t.Fatalf("red bills: %d, %q %q", q.Total, q.cell(0, 7), q.cell(0, 6))
	}
	q.State.SetSelected("全部")
	q.From.SetText("2026/11/25")
	q.Search(0)
	if !strings.Contains(q.Summary.Text, "yyyy-MM-dd") {
		t.Fatalf("a bad date: %q", q.Summary.Text)
	}
	q.From.SetText(f.env.now().In(bill.Beijing).Format("2006-01-02"))
	path := filepath.Join(f.dir, "list.xlsx")
	q.ExportExcel(path)
	f.env.Bridge.Wait()
	x, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("票据")
	x.Close()
	if len(rows) != 5 || rows[0][2] != "票据代码" || rows[4][6] != "张三" {
		t.Fatalf("excel rows %v", rows)
	}

	// The daily closing of the cashier: 3 blue bills, 1 red, the net, the channels, the voids.
	c, err := ComputeClosing(ctx, f.store, "林小燕", f.env.now().In(bill.Beijing))
	if err != nil {
		t.Fatal(err)
	}
	var blue int
	var blueAmount bill.Money
	for _, tl := range c.ByKind {
		blue += tl.Count
		blueAmount += tl.Amount
	}
	if blue != 3 || c.Red.Count != 1 || c.Red.Amount != -12345 || c.Net != blueAmount-12345 || len(c.PaperVoids) != 2 {
		t.Fatalf("closing %+v (blue %d, %s)", c, blue, blueAmount)
	}
	var channels bill.Money
	for code, v := range c.ByChannel {
		channels += v.Amount
		if v.Count == 0 {
			t.Errorf("channel %s listed with no bill, %s", code, v.Amount)
		}
	}
	if channels != c.Net {
		t.Fatalf("channels add up to %s, net %s", channels, c.Net)
	}
	// The screen shows the tables of the printed sheet: kind, count,
	// amount; pay channel, count, amount; the red bills; the paper voids.
	d.Show("closing")
	f.env.Bridge.Wait()
	cells := d.Closing.Cells()
	if len(cells) != 4 || cells[0][0] != "按票据种类" || cells[1][0] != "按支付方式（红字冲减）" || cells[1][2] != "笔数" ||
		cells[2][0] != "红字票据（退费）" || cells[3][0] != "纸质票据作废" {
		t.Fatalf("closing tables %q", cells)
	}
	if !slices.Contains(cells[2], "-123.45") || !slices.Contains(cells[0], "红字（冲销）") {
		t.Fatalf("red bills table %q", cells[2])
	}
	pdf := filepath.Join(f.dir, "closing.pdf")
	d.Closing.SavePDF(pdf)
	f.env.Bridge.Wait()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatalf("closing PDF: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), "")
	for _, table := range cells {
		for _, cell := range table {
			if !strings.Contains(text, strings.Join(strings.Fields(cell), "")) {
				t.Errorf("the screen shows %q, the printed sheet does not", cell)
			}
		}
	}
}
