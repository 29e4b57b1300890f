package ui

import (
	"context"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	ebsync "github.com/ebill/ebill/sync"
)

// TestScreenshots writes PNGs of the main screens into $EBILL_SCREENSHOTS
// (make screenshots); it is skipped otherwise. The desk is the one `make
// run` shows: a station enrolled with a real server (in process, over
// TLS), synced, its cashier signed in with the server's password.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("EBILL_SCREENSHOTS")
	if dir == "" {
		t.Skip("EBILL_SCREENSHOTS not set")
	}
	f := newEnrolledFixture(t)
	fyne.CurrentApp().Settings().SetTheme(&Theme{Scale: 1})
	d := f.signIn()
	f.issueExample()
	sc := d.Issue
	sc.Payer.SetText("王小明")
	sc.IDCard.SetValue("350203198503122015")
	sc.PatientNo.SetText("MZ0002")
	sc.Sex.SetText("男")
	sc.Age.SetText("36")
	for _, q := range []string{"ptmzzcf", "xcg", "qmsp"} {
		sc.Search.SetText(q)
		sc.addSelected()
	}
	sc.SetQuantity(2, "24")
	sc.showLines()
	sc.FundPay.SetText("30")
	sc.Submit()
	f.env.Bridge.Wait()
	f.syncOnce() // the bills go up: the status bar says 在线, nothing waiting
	d.Status.Refresh()
	f.env.Bridge.Wait()
	shot := func(name string) {
		img := f.win.Canvas().Capture()
		out, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if err := png.Encode(out, img); err != nil {
			t.Fatal(err)
		}
	}
	shot("desk-issue.png")
	for _, s := range []struct{ key, file string }{{"query", "desk-query.png"}, {"stock", "desk-stock.png"},
		{"paper", "desk-paper.png"}, {"closing", "desk-closing.png"}} {
		d.Show(s.key)
		f.env.Bridge.Wait()
		shot(s.file)
	}
	ls := NewLoginScreen(f.env, func(*Session) {})
	f.win.SetContent(ls.Content())
	shot("desk-login.png")
}

// newEnrolledFixture is a station enrolled with a real server set up as
// `make run` sets it up (unit, bill kinds, stock, the point with its
// checker, the charge-item catalogue, the cashier lin), and synced once.
func newEnrolledFixture(t *testing.T) *fixture {
	t.Helper()
	test.NewTempApp(t)
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local", System: true})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.OpenStore(ctx, "", t.TempDir(), server.WithStoreLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	year := time.Now().In(bill.Beijing).Format("06")
	steps := []func() error{
		func() error {
			return srv.SetUnit(ctx, server.Unit{Name: "厦门市演示区医院", CreditCode: "123502004266001233"})
		},
		func() error { return srv.SetBillKind(ctx, bill.Outpatient, "350601"+year) },
		func() error { return srv.SetBillKind(ctx, bill.Registration, "350601"+year) },
		func() error { return srv.SetBillKind(ctx, bill.Exam, "350601"+year) },
		func() error { return srv.SetBillKind(ctx, bill.Inpatient, "350602"+year) },
		func() error {
			_, err := srv.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "350601" + year, Start: 1, End: 500000})
			return err
		},
		func() error {
			_, err := srv.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "350602" + year, Start: 1, End: 500000})
			return err
		},
		func() error { return srv.AddPoint(ctx, "P01", "门诊收费一号窗口", server.PointStation) },
		func() error {
			_, err := srv.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 10000})
			return err
		},
		func() error {
			_, err := srv.DistributePaper(ctx, "P01", "35062601", 1, 500, 0)
			return err
		},
		func() error {
			p, err := srv.Point(ctx, "P01")
			if err != nil {
				return err
			}
			st := p.Settings
			st.Checker = "陈建国"
			return srv.SetPointSettings(ctx, "P01", st)
		},
		func() error {
			csv, err := os.Open("../examples/charge-items.csv")
			if err != nil {
				return err
			}
			defer csv.Close()
			_, err = srv.ImportChargeItems(ctx, csv)
			return err
		},
		func() error {
			return srv.AddUser(ctx, server.User{Login: "lin", Name: "林小燕", Roles: []string{"cashier"}}, testPassword)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	code, _, err := srv.EnrollCode(ctx, "P01")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(api.New(srv, quiet))
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	st, err := localstore.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := ebsync.Enroll(ctx, st, ts.URL, api.Fingerprint(ts.TLS.Certificates[0]), code); err != nil {
		t.Fatal(err)
	}
	if _, err := st.IntakePaper(ctx, bill.Segment{Code: "35062601", Start: 1, End: 500}); err != nil {
		t.Fatal(err)
	}
	// A printer as a cashier's PC names it (nothing is printed here).
	if err := st.SetDefaultPrinter(ctx, "票据打印机 EPSON LQ-630KII"); err != nil {
		t.Fatal(err)
	}
	client, err := ebsync.ClientFor(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	font, err := printing.DefaultFont()
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Store: st, Client: client, Font: font, Bridge: NewBridge(ctx), Log: quiet, DataDir: dir}
	win := test.NewTempWindow(t, nil)
	win.Resize(DefaultWindowSize)
	f := &fixture{t: t, env: env, store: st, win: win, dir: dir}
	f.syncOnce()
	return f
}

// syncOnce runs one pass of the sync service, as the background service does.
func (f *fixture) syncOnce() {
	f.t.Helper()
	svc, err := ebsync.NewService(context.Background(), f.store, f.env.Log, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	if r := svc.Once(context.Background()); r.Err != nil {
		f.t.Fatal(r.Err)
	}
}

// TestEnrolledDeskAsMakeRunShowsIt: the desk the screenshots show is the
// one make run opens — online (not 单机), cash by default, the point's
// checker — and no screen shows a test's temporary path.
func TestEnrolledDeskAsMakeRunShowsIt(t *testing.T) {
	f := newEnrolledFixture(t)
	d := f.signIn()
	d.Status.Refresh()
	f.env.Bridge.Wait()
	if !strings.HasPrefix(d.Status.Online.Text, "● 在线") {
		t.Fatalf("status %q", d.Status.Online.Text)
	}
	if got := d.Issue.pays[0].channel.Selected; got != "02 现金" || d.Issue.desk.Checker != "陈建国" {
		t.Fatalf("pay channel %q, checker %q", got, d.Issue.desk.Checker)
	}
	d.Show("paper")
	f.env.Bridge.Wait()
	var texts []string
	collectTexts(f.win.Content(), &texts)
	for _, s := range texts {
		if strings.Contains(s, os.TempDir()) {
			t.Errorf("the paper screen shows a temporary path: %q", s)
		}
	}
}

func collectTexts(o fyne.CanvasObject, out *[]string) {
	if l, ok := o.(*widget.Label); ok {
		*out = append(*out, l.Text)
	}
	for _, c := range children(o) {
		collectTexts(c, out)
	}
}
