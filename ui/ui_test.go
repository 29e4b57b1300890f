package ui

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/crypto/bcrypt"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/ofdcheck"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
)

// fixture is a demo station with a catalogue, pay channels and a cashier
// whose password hash came down with the master data, in a headless app.
type fixture struct {
	t     *testing.T
	env   *Env
	store *localstore.Store
	win   fyne.Window
	desk  *Desk
	dir   string
	clock *offsetClock // the store's clock: real time, moved on by tests
}

// offsetClock is real time plus an offset a test moves on.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

const testPassword = "Correct#Horse7"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	test.NewTempApp(t)
	ctx := context.Background()
	dir := t.TempDir()
	clock := &offsetClock{}
	st, err := localstore.Open(ctx, dir, localstore.WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Init(ctx, localstore.InitParams{PlaceCode: "P01", PlaceName: "门诊收费一号窗口", UnitName: "厦门市海沧区第一医院",
		UnitCreditCode: "12350205MB0123456X"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetupDemo(ctx, 26); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	md := localstore.MasterData{Version: 1,
		ChargeItems: []localstore.ChargeItem{
			{Code: "XJ01CA001", Name: "青霉素片", Pinyin: "qmsp", CategoryCode: "09", Unit: "片", Spec: "0.25g", Price: 4583, MedicalClass: "1"},
			{Code: "250101015", Name: "血常规", Pinyin: "xcg", CategoryCode: "04", Unit: "项", Price: 350000, MedicalClass: "1"},
			{Code: "110200001", Name: "普通门诊诊察费", Pinyin: "ptmzzcf", CategoryCode: "02", Unit: "次", Price: 200000, MedicalClass: "1"},
		},
		PayChannels: []localstore.PayChannel{{Code: "02", Name: "现金"}, {Code: "05", Name: "微信"}, {Code: "04", Name: "支付宝"}, {Code: "11", Name: "医保"}},
		Users:       []localstore.OfflineUser{{Login: "lin", Name: "林小燕", PasswordHash: string(hash), Roles: []string{"cashier"}}},
	}
	if err := st.ApplyMasterData(ctx, md); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDefaultPrinter(ctx, "pdf:"+filepath.Join(dir, "prints")); err != nil {
		t.Fatal(err)
	}
	font, err := printing.DefaultFont()
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Store: st, Font: font, Bridge: NewBridge(ctx), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DataDir: dir,
		Now: func() time.Time { return time.Date(2026, 11, 25, 2, 30, 0, 0, time.UTC) }}
	win := test.NewTempWindow(t, nil)
	win.Resize(DefaultWindowSize)
	return &fixture{t: t, env: env, store: st, win: win, dir: dir, clock: clock}
}

// signIn signs the cashier in through the login screen, with keys only.
func (f *fixture) signIn() *Desk {
	f.t.Helper()
	var got *Session
	ls := NewLoginScreen(f.env, func(s *Session) { got = s })
	f.win.SetContent(ls.Content())
	f.win.Canvas().Focus(ls.Login)
	f.typeText("lin")
	f.key(fyne.KeyReturn)
	f.typeText(testPassword)
	f.key(fyne.KeyReturn)
	f.env.Bridge.Wait()
	if got == nil && ls.pending != nil { // an account the server made: its first password is changed
		for range 2 {
			f.typeText("Desk#Pass2026x")
			f.key(fyne.KeyReturn)
		}
		f.env.Bridge.Wait()
	}
	if got == nil || got.Name != "林小燕" {
		f.t.Fatalf("sign-in: %+v, message %q", got, ls.Message.Text)
	}
	f.desk = NewDesk(f.env, f.win, got)
	f.desk.Install()
	return f.desk
}

// key presses a key in the focused widget (or on the canvas).
func (f *fixture) key(name fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: name}
	if foc := f.win.Canvas().Focused(); foc != nil {
		foc.TypedKey(ev)
		return
	}
	f.win.Canvas().OnTypedKey()(ev)
}

// press is a key pressed on a real keyboard: the key to the focused
// widget, then its character (a letter key's) to whatever has the focus
// by then, as the desktop driver delivers them.
func (f *fixture) press(name fyne.KeyName) {
	f.key(name)
	if len(name) == 1 {
		if foc := f.win.Canvas().Focused(); foc != nil {
			foc.TypedRune([]rune(strings.ToLower(string(name)))[0])
		}
	}
}

// dismiss closes the open dialog with Enter, as a cashier does.
func (f *fixture) dismiss() {
	f.t.Helper()
	if !dialogOpen(f.win) {
		f.t.Fatal("no dialog is open")
	}
	f.key(fyne.KeyReturn)
	if dialogOpen(f.win) {
		f.t.Fatal("Enter did not close the dialog")
	}
}

// typeText types into the focused widget, as a keyboard does.
func (f *fixture) typeText(s string) {
	f.t.Helper()
	foc := f.win.Canvas().Focused()
	if foc == nil {
		f.t.Fatal("nothing has the focus to type into")
	}
	test.Type(foc, s)
}

func (f *fixture) focused() fyne.Focusable { return f.win.Canvas().Focused() }

func (f *fixture) mustFocus(want fyne.Focusable, what string) {
	f.t.Helper()
	if f.focused() != want {
		f.t.Fatalf("focus is on %T, want %s", f.focused(), what)
	}
}

func (f *fixture) bills() []*localstore.StoredBill {
	f.t.Helper()
	list, _, err := f.store.ListBills(context.Background(), localstore.Filter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

// tapButton taps the button labelled text in the top dialog (or the window).
func (f *fixture) tapButton(text string) {
	f.t.Helper()
	var root fyne.CanvasObject = f.win.Content()
	if top := f.win.Canvas().Overlays().Top(); top != nil {
		root = top
	}
	if b := findButton(root, text); b != nil {
		test.Tap(b)
		return
	}
	f.t.Fatalf("no button %q on screen", text)
}

func findButton(o fyne.CanvasObject, text string) *widget.Button {
	switch v := o.(type) {
	case *widget.Button:
		if v.Text == text {
			return v
		}
	case *keyButton:
		if v.Text == text {
			return &v.Button
		}
	case fyne.Widget:
		r := test.WidgetRenderer(v)
		for _, c := range r.Objects() {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

func TestIssueWithKeysOnly(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	sc := d.Issue
	f.mustFocus(sc.Payer, "the payer")
	f.typeText("张三")
	f.key(fyne.KeyReturn)
	f.mustFocus(sc.PayerType, "the payer type") // Enter stops at drop-downs too, in reading order
	f.key(fyne.KeyReturn)                       // and moves on from them (个人 kept)
	f.mustFocus(sc.IDCard, "the ID number")
	f.typeText("350203198503122015")
	f.key(fyne.KeyReturn)
	if sc.IDCard.Text != "350203********2015" || sc.IDCard.Value() != "350203198503122015" {
		t.Fatalf("ID shown %q, kept %q", sc.IDCard.Text, sc.IDCard.Value())
	}
	f.mustFocus(sc.PatientNo, "the patient number")
	f.typeText("MZ0001")
	f.key(fyne.KeyReturn)
	f.typeText("男")
	f.key(fyne.KeyReturn)
	f.typeText("41")
	f.key(fyne.KeyReturn)
	f.key(fyne.KeyReturn) // the visit date: today
	f.mustFocus(sc.InsuranceType, "the insurance type")
	f.key(fyne.KeyReturn)
	f.mustFocus(sc.InsuranceNo, "the insurance number")
	f.key(fyne.KeyReturn)
	f.mustFocus(sc.Search, "the item search")
	f.typeText("qmsp")
	f.key(fyne.KeyReturn)
	f.typeText("xcg")
	f.key(fyne.KeyReturn)
	if len(sc.lines) != 2 {
		t.Fatalf("%d lines after two searches", len(sc.lines))
	}
	// Tab to the first line's quantity, select all, type 24.
	test.FocusNext(f.win.Canvas())
	qty, ok := f.focused().(*field)
	if !ok {
		t.Fatalf("focus on %T, want the quantity", f.focused())
	}
	qty.TypedShortcut(&fyne.ShortcutSelectAll{})
	f.typeText("24")
	f.key(fyne.KeyReturn) // back to the search
	f.mustFocus(sc.Search, "the item search")
	if !strings.Contains(sc.TotalText(), "¥46.00") {
		t.Fatalf("total %q, want ¥46.00 (24 × 0.4583 = 10.9992 → 11.00, + 35.00)", sc.TotalText())
	}
	f.win.Canvas().Focus(sc.FundPay)
	f.typeText("20")
	if !strings.Contains(sc.SelfCash.Text, "26.00") {
		t.Fatalf("self cash %q", sc.SelfCash.Text)
	}
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()

	list := f.bills()
	if len(list) != 1 {
		t.Fatalf("%d bills stored, message %q", len(list), LastError())
	}
	b, err := f.store.Bill(context.Background(), list[0].BillCode, list[0].BillNo)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Bill.Settlement
	if s.Payer != "张三" || s.IDCardNo != "350203198503122015" || s.Sex != "男" || s.Age != "41" || s.PatientNo != "MZ0001" ||
		s.Payee != "林小燕" || s.TotalAmt != 4600 || s.FundPay != 2000 || s.SelfCashPay != 2600 {
		t.Fatalf("stored settlement %+v", s)
	}
	if len(s.PayChannelDetail) != 2 || s.PayChannelDetail[0] != (bill.PayChannel{Code: "11", Value: 2000}) ||
		s.PayChannelDetail[1] != (bill.PayChannel{Code: "02", Value: 2600}) {
		t.Fatalf("pay channels %+v", s.PayChannelDetail)
	}
	var rounding bool
	for _, d := range s.ListDetail {
		if d.IsRounding() && d.Amt == 8 {
			rounding = true
		}
		if d.Name == "青霉素片" && d.Number != 240000 {
			t.Fatalf("quantity %s", d.Number)
		}
	}
	if !rounding {
		t.Fatalf("no 货币误差 line of 0.0008 in %+v", s.ListDetail)
	}
	want := b.BillCode + "  " + b.BillNoText() + "  校验码 " + b.CheckCode
	if sc.Result.Text != want {
		t.Fatalf("the screen shows %q, the store holds %q", sc.Result.Text, want)
	}
	// F9 again: the same BusNo and content give the same bill, not a second one.
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 1 {
		t.Fatalf("a second F9 stored %d bills", n)
	}
	// F7 asks PDF (Enter) or OFD (F7 again), then where, with the name to match.
	for _, c := range []struct {
		key fyne.KeyName
		ext string
	}{{fyne.KeyReturn, ".pdf"}, {fyne.KeyF7, ".ofd"}} {
		f.key(fyne.KeyF7)
		if !dialogOpen(f.win) {
			t.Fatal("F7 opened no choice")
		}
		f.press(c.key)
		if dialogOpen(f.win) {
			t.Fatalf("%s did not choose", c.key)
		}
		if name := saveDialogName(t, f.win); name != b.BillCode+"-"+b.BillNoText()+c.ext {
			t.Fatalf("%s: the save dialog offers %q", c.key, name)
		}
		f.win.Canvas().Overlays().Top().Hide()
		f.win.Canvas().Overlays().Remove(f.win.Canvas().Overlays().Top())
	}
	// The file saved; Esc clears for the next patient.
	path := filepath.Join(f.dir, "bill.pdf")
	SavePDF(f.env, f.win, sc.Issued, path)
	f.env.Bridge.Wait()
	if info, err := os.Stat(path); err != nil || info.Size() < 10000 {
		t.Fatalf("saved PDF: %v", err)
	}
	f.dismiss() // 已保存
	// A name ending .ofd saves the same bill as OFD.
	ofdPath := filepath.Join(f.dir, "bill.ofd")
	SavePDF(f.env, f.win, sc.Issued, ofdPath)
	f.env.Bridge.Wait()
	raw, err := os.ReadFile(ofdPath)
	if err != nil {
		t.Fatalf("saved OFD: %v", err)
	}
	if meta := ofdcheck.Must(t, raw).Files["OFD.xml"]; !bytes.Contains(meta, []byte(`Name="票据号码">`+b.BillNoText()+`<`)) {
		t.Fatalf("saved OFD: %s", meta)
	}
	f.dismiss()
	f.win.Canvas().Focus(sc.Search)
	f.key(fyne.KeyEscape)
	if sc.Payer.Text != "" || len(sc.lines) != 0 || sc.Issued != nil || sc.Result.Text != "" {
		t.Fatal("Esc did not clear the form")
	}
}

func TestSearchAndTotals(t *testing.T) {
	f := newFixture(t)
	sc := f.signIn().Issue
	f.win.Canvas().Focus(sc.Search)
	f.typeText("qmsp")
	if found := sc.Found(); len(found) != 1 || found[0].Name != "青霉素片" {
		t.Fatalf("qmsp found %+v", found)
	}
	if !strings.Contains(sc.Results.Text, "青霉素片") {
		t.Fatalf("results show %q", sc.Results.Text)
	}
	f.key(fyne.KeyReturn)
	if !strings.Contains(sc.TotalText(), "¥0.46") {
		t.Fatalf("one tablet: %q", sc.TotalText())
	}
	f.typeText("血")
	f.key(fyne.KeyReturn)
	if !strings.Contains(sc.TotalText(), "¥35.46") || !strings.Contains(sc.Totals.Text, "化验费 35.00") || !strings.Contains(sc.Totals.Text, "西药费 0.46") {
		t.Fatalf("after blood test: %q / %q", sc.TotalText(), sc.Totals.Text)
	}
	if err := sc.SetQuantity(0, "10"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sc.TotalText(), "¥39.58") { // 10 × 0.4583 = 4.583 → 4.58
		t.Fatalf("ten tablets: %q", sc.TotalText())
	}
	f.typeText("nothing-like-this")
	if len(sc.Found()) != 0 || !strings.Contains(sc.Results.Text, "没有找到") {
		t.Fatalf("a search that finds nothing says %q", sc.Results.Text)
	}
	// Amounts on the pay rows change what is left to allocate.
	sc.pays[0].amount.SetText("30")
	if !strings.Contains(sc.ToAllocate.Text, "还需分配 9.58 元") {
		t.Fatalf("to allocate %q", sc.ToAllocate.Text)
	}
	f.key(fyne.KeyF9)
	f.env.Bridge.Wait()
	if n := len(f.bills()); n != 0 || !strings.Contains(LastError(), "还需分配 9.58 元") {
		t.Fatalf("an unallocated amount: %d bills, %q", n, LastError())
	}
}

// issueExample issues a bill through the store (for the flows that start from one).
func (f *fixture) issueExample() *localstore.StoredBill {
	f.t.Helper()
	data, err := os.ReadFile("../examples/outpatient.json")
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := bill.ParseSettlement(data)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.store.Issue(context.Background(), bill.Outpatient, s)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Bill
}

func TestOfflineLimitColours(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	ctx := context.Background()
	if err := f.store.SetLimits(ctx, bill.Limits{MaxHours: 72, MaxCount: 10, MaxAmount: 100_000_000, MaxSingle: 10_000_000}, "test"); err != nil {
		t.Fatal(err)
	}
	issue := func(n int) {
		for i := 0; i < n; i++ {
			data, _ := os.ReadFile("../examples/outpatient.json")
			s, _ := bill.ParseSettlement(data)
			s.BusNo = bill.Text("LIMIT" + time.Now().Format("150405.000000") + string(rune('a'+i)))
			if _, err := f.store.Issue(ctx, bill.Outpatient, s); err != nil && i < 10 {
				t.Fatal(err)
			}
		}
	}
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if d.Status.LimitLevel != "ok" {
		t.Fatalf("no bills: %s", d.Status.LimitLevel)
	}
	issue(8)
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if d.Status.LimitLevel != "amber" || d.Status.Limit.Color != colorAmber || !strings.Contains(d.Status.Limit.Text, "80%") {
		t.Fatalf("8 of 10: %s %q", d.Status.LimitLevel, d.Status.Limit.Text)
	}
	issue(2)
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if d.Status.LimitLevel != "red" || d.Status.Limit.Color != colorRed || !strings.Contains(d.Status.Limit.Text, "已停止开票") {
		t.Fatalf("10 of 10: %s %q", d.Status.LimitLevel, d.Status.Limit.Text)
	}
	if !strings.Contains(d.Status.Pending.Text, "待上传 10 张") {
		t.Fatalf("pending %q", d.Status.Pending.Text)
	}
}

func TestSignInLockout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 1; i <= MaxLoginFailures; i++ {
		if _, err := SignIn(ctx, f.env, "lin", "wrong"); err == nil {
			t.Fatal("a wrong password signed in")
		} else if i == MaxLoginFailures && !strings.Contains(bill.ErrorMessage(err), "锁定") {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := SignIn(ctx, f.env, "lin", testPassword); err == nil || !strings.Contains(bill.ErrorMessage(err), "已锁定") {
		t.Fatalf("the right password during the lockout: %v", err)
	}
	later := f.env.Now().Add(LoginLockout + time.Minute)
	f.env.Now = func() time.Time { return later }
	s, err := SignIn(ctx, f.env, "lin", testPassword)
	if err != nil || s.Name != "林小燕" || s.Offline {
		t.Fatalf("after the lockout: %+v %v", s, err)
	}
	if _, err := SignIn(ctx, f.env, "nobody", testPassword); err == nil {
		t.Fatal("an unknown user signed in")
	}
}

func TestLinePriceCanBeChanged(t *testing.T) {
	f := newFixture(t)
	sc := f.signIn().Issue
	f.win.Canvas().Focus(sc.Search)
	f.typeText("xcg")
	f.key(fyne.KeyReturn)
	sc.rows[0].price.SetText("30.50")
	if !strings.Contains(sc.TotalText(), "¥30.50") || sc.rows[0].amount.Text != "小计 30.50" {
		t.Fatalf("after a price change: %q, %q", sc.TotalText(), sc.rows[0].amount.Text)
	}
	sc.rows[0].price.SetText("abc")
	if !strings.Contains(sc.ToAllocate.Text, "单价格式不正确") || !strings.Contains(sc.TotalText(), "¥30.50") {
		t.Fatalf("a bad price: %q, %q", sc.ToAllocate.Text, sc.TotalText())
	}
}

func TestFirstRunOpensAnExistingDataDirectory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	empty, err := localstore.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := *f.env
	env.Store = empty
	opened := false
	sc := NewEnrollScreen(&env, f.win, func() { opened = true })
	f.win.SetContent(sc.Content())
	sc.OpenDir(t.TempDir()) // no station there
	if opened || !strings.Contains(sc.Message.Text, "没有开票点数据") {
		t.Fatalf("an empty directory: opened %v, %q", opened, sc.Message.Text)
	}
	f.store.Close()
	sc.OpenDir(f.dir)
	if !opened || env.DataDir != f.dir {
		t.Fatalf("the station's directory: opened %v, data %s, %q", opened, env.DataDir, sc.Message.Text)
	}
	if st, err := env.Store.Station(ctx); err != nil || st.PlaceCode != "P01" {
		t.Fatalf("station after opening: %+v %v", st, err)
	}
	env.Store.Close()
}

// TestStatusShowsRefusedPaper: a paper use the server refused is shown in
// red in the status bar until the administrator sorts it out.
func TestStatusShowsRefusedPaper(t *testing.T) {
	f := newFixture(t)
	d := f.signIn()
	ctx := context.Background()
	b := f.issueExample()
	pos, err := f.store.CurrentPaper(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.ConvertToPaper(ctx, b.BillCode, b.BillNo, pos.Code, pos.Next, "林小燕"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.MarkPaperSynced(ctx, []localstore.PaperAnswer{{PaperCode: pos.Code, PaperNo: pos.Next, Version: 1,
		Message: "纸质票据已由开票点 P02 使用"}}); err != nil {
		t.Fatal(err)
	}
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if !strings.Contains(d.Status.Pending.Text, "1 条纸质票据记录被拒") || d.Status.Pending.Color != colorRed {
		t.Fatalf("status %q", d.Status.Pending.Text)
	}
}

// saveDialogName is the file name the open file-save dialog offers.
func saveDialogName(t *testing.T, win fyne.Window) string {
	t.Helper()
	top := win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no file dialog is open")
	}
	for _, o := range test.LaidOutObjects(top) {
		if e, ok := o.(*widget.Entry); ok && strings.Contains(e.Text, ".") {
			return e.Text
		}
	}
	t.Fatal("the file dialog has no file name")
	return ""
}
