package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
)

// TestScreenshots writes PNGs of the main screens into $EBILL_SCREENSHOTS
// (make screenshots); it is skipped otherwise.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("EBILL_SCREENSHOTS")
	if dir == "" {
		t.Skip("EBILL_SCREENSHOTS not set")
	}
	f := newFixture(t)
	f.env.Now = time.Now // the store stamps bills with the real time
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
	for _, s := range []struct{ key, file string }{{"query", "desk-query.png"}, {"stock", "desk-stock.png"}, {"paper", "desk-paper.png"}} {
		d.Show(s.key)
		f.env.Bridge.Wait()
		shot(s.file)
	}
	ls := NewLoginScreen(f.env, func(*Session) {})
	f.win.SetContent(ls.Content())
	shot("desk-login.png")
}
