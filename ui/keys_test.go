package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/ebill/ebill/localstore"
)

// TestScreenKeysFromAnyFocus: F1–F4 and F8 switch screens whatever has
// the focus — a field (always, after sign-in), a drop-down, a button, the
// navigation list, a field of another screen — and the screen reached has
// the cursor in its first field.
func TestScreenKeysFromAnyFocus(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	f.mustFocus(d.Issue.Payer, "the payer after sign-in")
	steps := []struct {
		focus fyne.Focusable // nil: leave the focus where the last key put it
		key   fyne.KeyName
		want  string
	}{
		{nil, fyne.KeyF4, "query"},
		{nil, fyne.KeyF2, "reverse"},
		{nil, fyne.KeyF3, "paper"},
		{nil, fyne.KeyF8, "stock"},
		{nil, fyne.KeyF1, "issue"},
		{d.Issue.PayerType, fyne.KeyF4, "query"},
		{d.Query.Kind, fyne.KeyF1, "issue"},
		{d.Issue.IssueButton, fyne.KeyF2, "reverse"},
		{d.nav, fyne.KeyF3, "paper"},
		{nil, fyne.KeyF4, "query"},
		{d.Query.Table, fyne.KeyF1, "issue"},
	}
	for i, st := range steps {
		if st.focus != nil {
			f.win.Canvas().Focus(st.focus)
			if f.focused() != st.focus {
				t.Fatalf("step %d: could not focus %T", i, st.focus)
			}
		}
		if f.focused() == nil {
			t.Fatalf("step %d: nothing has the focus before %s", i, st.key)
		}
		f.key(st.key)
		if d.Current() != st.want {
			t.Fatalf("step %d: %s from %T: on %q, want %q", i, st.key, f.focused(), d.Current(), st.want)
		}
		if f.focused() == nil {
			t.Fatalf("step %d: %s left nothing with the focus on %s", i, st.key, st.want)
		}
	}
	f.mustFocus(d.Issue.Payer, "the payer after F1")
	// The cursor lands in the first field in reading order: the query's
	// start date, not its table.
	f.key(fyne.KeyF4)
	f.mustFocus(d.Query.From, "the query's start date")
}

// TestDialogsKeepTheKeyboard: focus goes into a dialog, Enter takes the
// default button, Esc cancels, and no key reaches the form beneath (Esc
// used to clear it). The F6 paper dialog starts in the paper number.
func TestDialogsKeepTheKeyboard(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	sc := d.Issue
	f.typeText("张三")
	f.key(fyne.KeyF9) // no items: an error dialog
	if !dialogOpen(f.win) || !strings.Contains(LastError(), "收费项目") {
		t.Fatalf("no error dialog (%q)", LastError())
	}
	if _, ok := f.focused().(*keyButton); !ok {
		t.Fatalf("the dialog does not have the focus: %T", f.focused())
	}
	f.key(fyne.KeyF4) // swallowed by the dialog
	f.key(fyne.KeyEscape)
	if dialogOpen(f.win) || sc.Payer.Text != "张三" || d.Current() != "issue" {
		t.Fatalf("Esc: dialog open %v, payer %q, screen %s", dialogOpen(f.win), sc.Payer.Text, d.Current())
	}
	f.mustFocus(sc.Payer, "the payer, after the dialog")
	f.key(fyne.KeyF9)
	f.dismiss() // Enter closes it too

	// A confirmation: Esc cancels, Enter confirms.
	file := filepath.Join(t.TempDir(), "s.json")
	raw, _ := os.ReadFile("../examples/outpatient.json")
	os.WriteFile(file, raw, 0o644)
	sc.ImportFile(file)
	f.key(fyne.KeyEscape)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 0 || dialogOpen(f.win) {
		t.Fatalf("Esc on the import confirmation: %d bills", n)
	}
	sc.ImportFile(file)
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 1 {
		t.Fatalf("Enter on the import confirmation: %d bills (%s)", n, LastError())
	}

	// F6: the paper dialog has the focus in the paper number; Esc cancels,
	// Enter prints.
	f.win.Canvas().Focus(sc.Payer)
	f.key(fyne.KeyF6)
	num, ok := f.focused().(*field)
	if !dialogOpen(f.win) || !ok || num.Text != "0000000001" {
		t.Fatalf("F6: dialog %v, focus %T", dialogOpen(f.win), f.focused())
	}
	f.key(fyne.KeyEscape)
	if dialogOpen(f.win) || sc.Issued == nil {
		t.Fatal("Esc in the paper dialog did not cancel it (or cleared the form)")
	}
	f.key(fyne.KeyF6)
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	b, _ := f.store.Bill(context.Background(), sc.Issued.BillCode, sc.Issued.BillNo)
	if b.PaperCode != "35062601" || b.PaperNo != 1 {
		t.Fatalf("Enter in the paper dialog: paper %s %d (%s)", b.PaperCode, b.PaperNo, LastError())
	}
}

// TestPointDefaultsAtTheDesk: a new bill starts with cash when the point
// has no default (not the first channel by code, 01 POS), with the
// point's own default when it has one, and carries the point's checker.
func TestPointDefaultsAtTheDesk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	md := localstore.MasterData{Version: 2, PayChannels: []localstore.PayChannel{{Code: "01", Name: "POS"}, {Code: "02", Name: "现金"},
		{Code: "04", Name: "支付宝"}, {Code: "05", Name: "微信"}}}
	if err := f.store.ApplyMasterData(ctx, md); err != nil {
		t.Fatal(err)
	}
	d := f.signIn()
	if got := d.Issue.pays[0].channel.Selected; got != "02 现金" {
		t.Fatalf("unset default: %q, want 02 现金", got)
	}
	if err := f.store.SetDeskSettings(ctx, localstore.DeskSettings{DefaultPayChannel: "05", Checker: "陈建国"}, "server"); err != nil {
		t.Fatal(err)
	}
	d.Issue.Clear() // the next patient
	if got := d.Issue.pays[0].channel.Selected; got != "05 微信" {
		t.Fatalf("the point's default: %q, want 05 微信", got)
	}
	d.Issue.Payer.SetText("张三")
	d.Issue.AddItem(localstore.ChargeItem{Code: "110200001", Name: "普通门诊诊察费", CategoryCode: "02", Unit: "次", Price: 200000})
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	list := f.bills()
	if len(list) != 1 {
		t.Fatalf("%d bills (%s)", len(list), LastError())
	}
	b, _ := f.store.Bill(ctx, list[0].BillCode, list[0].BillNo)
	if b.Bill.Settlement.Checker != "陈建国" || b.Bill.Settlement.PayChannelDetail[0].Code != "05" {
		t.Fatalf("checker %q, pay %+v", b.Bill.Settlement.Checker, b.Bill.Settlement.PayChannelDetail)
	}
}

// TestSubtotalsToTheFen: a line's subtotal shows to the fen, as the bill
// prints it, beside its category's amount (2 × 4.583 = 9.166 showed as
// "9.166" beside 西药费 9.17); the unit price keeps its 4 decimals.
func TestSubtotalsToTheFen(t *testing.T) {
	f := newFixture(t)
	sc := f.signIn().Issue
	f.win.Canvas().Focus(sc.Search)
	f.typeText("qmsp") // 青霉素片 0.4583 元/片
	f.key(fyne.KeyReturn)
	f.win.Canvas().Focus(sc.rows[0].qty)
	sc.rows[0].qty.SetText("20")
	if got := sc.LineSubtotal(0); got != "小计 9.17" {
		t.Fatalf("subtotal %q, want 小计 9.17", got)
	}
	if !strings.Contains(sc.Totals.Text, "西药费 9.17") || sc.rows[0].price.Text != "0.4583" {
		t.Fatalf("category %q, price %q", sc.Totals.Text, sc.rows[0].price.Text)
	}
}

// TestIDTypoAsksTheCashier: an ID number whose check digit is wrong shows
// a warning and waits for the cashier: Esc goes back to the number
// (nothing issued), Enter issues with the number as typed.
func TestIDTypoAsksTheCashier(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	sc := d.Issue
	sc.Payer.SetText("张三")
	sc.IDCard.SetValue("350203198503122016") // the check digit should be 5
	sc.AddItem(localstore.ChargeItem{Code: "110200001", Name: "普通门诊诊察费", CategoryCode: "02", Unit: "次", Price: 200000})
	f.win.Canvas().Focus(sc.Payer)
	f.key(fyne.KeyF9)
	if !dialogOpen(f.win) {
		t.Fatal("no warning about the check digit")
	}
	f.key(fyne.KeyEscape)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 0 {
		t.Fatalf("Esc issued %d bills", n)
	}
	f.mustFocus(sc.IDCard, "the ID number, to correct it")
	f.key(fyne.KeyF9)
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	list := f.bills()
	if len(list) != 1 {
		t.Fatalf("Enter: %d bills (%s)", len(list), LastError())
	}
	b, _ := f.store.Bill(context.Background(), list[0].BillCode, list[0].BillNo)
	if b.Bill.Settlement.IDCardNo != "350203198503122016" || !strings.Contains(sc.ResultDetail.Text, "校验位") {
		t.Fatalf("stored ID %q, result %q", b.Bill.Settlement.IDCardNo, sc.ResultDetail.Text)
	}
}

// TestImportRefusesGBK: a settlement file saved in GBK is refused with a
// message that says to save it as UTF-8; nothing is issued.
func TestImportRefusesGBK(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	raw, _ := os.ReadFile("../examples/outpatient.json")
	file := filepath.Join(t.TempDir(), "gbk.json")
	os.WriteFile(file, []byte(strings.Replace(string(raw), "张三", "\xd5\xc5\xc8\xfd", 1)), 0o644)
	d.Issue.ImportFile(file)
	if !dialogOpen(f.win) || !strings.Contains(LastError(), "UTF-8") {
		t.Fatalf("GBK import: %q", LastError())
	}
	f.dismiss()
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 0 {
		t.Fatalf("%d bills from a GBK file", n)
	}
}

// TestInpatientAtTheDesk: the issue screen takes the inpatient data the
// bill carries — 病历号, 入院/出院科室, 病区, 床号, 预缴/补缴/退费金额 — and
// the screen still fits the window.
func TestInpatientAtTheDesk(t *testing.T) {
	f := newFixture(t)
	fyne.CurrentApp().Settings().SetTheme(&Theme{Scale: 1})
	f.win.Resize(DefaultWindowSize)
	d := f.signIn()
	sc := d.Issue
	sc.Kind.SetSelected("住院")
	sc.Payer.SetText("李四")
	sc.HospitalNo.SetText("ZY26001234")
	sc.InDate.SetText("20261120")
	sc.OutDate.SetText("20261125")
	sc.CaseNumber.SetText("BL0009876")
	sc.InDept.SetText("儿科")
	sc.OutDept.SetText("新生儿科")
	sc.Ward.SetText("儿科一病区")
	sc.BedNo.SetText("12")
	sc.CashPay.SetText("3000")
	sc.CashRecharge.SetText("50")
	sc.CashRefund.SetText("123.45")
	sc.AddItem(localstore.ChargeItem{Code: "110200001", Name: "普通门诊诊察费", CategoryCode: "02", Unit: "次", Price: 200000})
	f.win.Canvas().Focus(sc.Payer)
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	list := f.bills()
	if len(list) != 1 {
		t.Fatalf("%d bills (%s)", len(list), LastError())
	}
	b, _ := f.store.Bill(context.Background(), list[0].BillCode, list[0].BillNo)
	st := b.Bill.Settlement
	if st.CaseNumber != "BL0009876" || st.Category != "儿科" || st.LeaveCategory != "新生儿科" || st.Ward != "儿科一病区" ||
		st.BedNo != "12" || st.CashPay != 300000 || st.CashRecharge != 5000 || st.CashRefund != 12345 {
		t.Fatalf("stored %+v", st)
	}
	if got := f.win.Canvas().Size(); got != DefaultWindowSize {
		t.Errorf("the inpatient form made the window grow to %v", got)
	}
}
