package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"github.com/ebill/ebill/bill"
)

// TestInsuranceSplit: the whole insurance split typed at the desk reaches
// the stored bill — the insurance's part (统筹, 个人账户, 其他支付) as one
// insurance pay channel and the reimbursed amount, the patient's part as
// cash, and how it splits (自付, 自负, 自费) as typed; an insurance part over
// the total, or a negative amount, stores nothing.
func TestInsuranceSplit(t *testing.T) {
	f := newFixture(t)
	sc := f.signIn().Issue
	sc.Payer.SetText("张三")
	f.win.Canvas().Focus(sc.Search)
	f.typeText("xcg") // 血常规 35.00
	f.key(fyne.KeyReturn)
	f.win.Canvas().Focus(sc.FundPay)
	f.typeText("20")
	f.key(fyne.KeyReturn)
	f.mustFocus(sc.AccountPay, "the personal account")
	f.typeText("5")
	f.key(fyne.KeyReturn)
	f.mustFocus(sc.OtherFundPay, "other funds")
	f.typeText("3")
	f.key(fyne.KeyReturn)
	f.mustFocus(sc.SelfPay, "个人自付")
	f.typeText("4")
	f.key(fyne.KeyReturn)
	f.typeText("6")
	f.key(fyne.KeyReturn)
	f.typeText("2")
	if !strings.Contains(sc.SelfCash.Text, "7.00") {
		t.Fatalf("self cash %q, want 35 − 20 − 5 − 3 = 7.00", sc.SelfCash.Text)
	}

	sc.OtherFundPay.SetText("11") // 20 + 5 + 11 > 35
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 0 || !strings.Contains(LastError(), "超过了总金额") {
		t.Fatalf("an insurance part over the total: %d bills, %q", n, LastError())
	}
	f.dismiss()
	sc.OtherFundPay.SetText("3")
	sc.OwnPay.SetText("-2")
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 0 || !strings.Contains(LastError(), "个人自费不能为负数") {
		t.Fatalf("a negative amount: %d bills, %q", n, LastError())
	}
	f.dismiss()
	sc.OwnPay.SetText("2")
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	list := f.bills()
	if len(list) != 1 {
		t.Fatalf("%d bills, message %q", len(list), LastError())
	}
	b, err := f.store.Bill(context.Background(), list[0].BillCode, list[0].BillNo)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Bill.Settlement
	if s.TotalAmt != 3500 || s.FundPay != 2000 || s.AccountPay != 500 || s.OtherFundPay != 300 || s.ReimbursementAmt != 2800 ||
		s.SelfCashPay != 700 || s.SelfPayAmt != 400 || s.SelfConceitedAmt != 600 || s.OwnPay != 200 {
		t.Fatalf("stored split %+v", s)
	}
	if len(s.PayChannelDetail) != 2 || s.PayChannelDetail[0] != (bill.PayChannel{Code: "11", Value: 2800}) || s.PayChannelDetail[1].Value != 700 {
		t.Fatalf("pay channels %+v", s.PayChannelDetail)
	}
}
