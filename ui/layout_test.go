package ui

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// TestLayoutFitsCashierScreens: at 1366×768 (the window as it opens) and
// 1920×1080, nothing on the issue screen is cut at the right (fields,
// quantities, delete buttons), the status bar is inside the window, the
// result of F9 and its F5–F7 buttons show without scrolling, the query
// table's columns fit, and the closing's date field shows the whole date.
func TestLayoutFitsCashierScreens(t *testing.T) {
	for _, size := range []fyne.Size{DefaultWindowSize, fyne.NewSize(1920, 1010)} {
		t.Run(fmt.Sprintf("%.0fx%.0f", size.Width, size.Height), func(t *testing.T) {
			if size == DefaultWindowSize && (size.Width > 1366 || size.Height > 768-40-30) {
				t.Fatalf("the window opens at %v: it does not fit 1366×768 with the taskbar and title bar", size)
			}
			f := newFixture(t)
			fyne.CurrentApp().Settings().SetTheme(&Theme{Scale: 1}) // the desk's own theme and CJK font
			f.win.Resize(size)
			d := f.signIn()
			sc := d.Issue
			f.win.Canvas().Focus(sc.Search)
			for _, q := range []string{"qmsp", "xcg", "ptmzzcf"} {
				f.typeText(q)
				f.key(fyne.KeyReturn)
			}
			sc.Payer.SetText("张三")
			sc.addPayRow()
			sc.pays[1].amount.SetText("1.00")
			f.key(fyne.KeyF9)
			f.env.Bridge.Wait()
			if sc.Issued == nil {
				t.Fatalf("not issued: %s", LastError())
			}
			f.win.Resize(size) // lay out again after the rows came
			win := f.win.Canvas().Size()
			if win != size {
				t.Errorf("the window grew to %v to hold the issue screen (asked %v): its right part is off a %v screen", win, size, size)
			}
			status := absRect(d.Status.box)
			if status.bottom() > win.Height+0.5 || status.h == 0 {
				t.Errorf("status bar %+v, window %v", status, win)
			}
			checkFits(t, f.win.Content(), win.Width)
			for _, b := range []*keyButton{sc.PrintButton, sc.PaperButton, sc.PDFButton, sc.IssueButton} {
				if r := absRect(b); r.bottom() > status.y || r.right() > win.Width {
					t.Errorf("button %q at %+v is below the fold (status bar at %.0f) or cut", b.Text, r, status.y)
				}
			}
			for i := range sc.lines {
				if r := absRect(sc.rows[i].box); r.right() > win.Width {
					t.Errorf("line %d ends at %.0f, window %.0f", i, r.right(), win.Width)
				}
			}

			d.Show("query")
			f.env.Bridge.Wait()
			var cols float32
			for _, c := range queryColumns {
				cols += c.width
			}
			if tw := d.Query.Table.Size().Width; cols+60 > tw {
				t.Errorf("query columns need %.0f px, the table is %.0f", cols+60, tw)
			}
			if got := f.win.Canvas().Size(); got != size {
				t.Errorf("the window grew to %v for the query screen", got)
			}
			d.Show("closing")
			f.env.Bridge.Wait()
			if got := f.win.Canvas().Size(); got != size {
				t.Errorf("the window grew to %v for the closing screen", got)
			}
			need := fyne.MeasureText("2026-11-25", fyne.CurrentApp().Settings().Theme().Size("text"), fyne.TextStyle{}).Width
			if w := d.Closing.Day.Size().Width; w < need+20 {
				t.Errorf("the closing's date field is %.0f px, the date needs %.0f", w, need+20)
			}
		})
	}
}

type rect struct{ x, y, w, h float32 }

func (r rect) right() float32  { return r.x + r.w }
func (r rect) bottom() float32 { return r.y + r.h }

func absRect(o fyne.CanvasObject) rect {
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	return rect{p.X, p.Y, o.Size().Width, o.Size().Height}
}

// checkFits: no visible object ends right of the window, and none is
// wider than the room its parent gave it.
func checkFits(t *testing.T, o fyne.CanvasObject, width float32) {
	t.Helper()
	if o == nil || !o.Visible() {
		return
	}
	if r := absRect(o); r.right() > width+0.5 {
		t.Errorf("%T %s ends at %.0f, right of the window (%.0f)", o, describe(o), r.right(), width)
		return
	}
	if o.Size().Width+0.5 < o.MinSize().Width {
		t.Errorf("%T %s is %.0f px wide, it needs %.0f: cut", o, describe(o), o.Size().Width, o.MinSize().Width)
	}
	for _, c := range children(o) {
		checkFits(t, c, width)
	}
}

func describe(o fyne.CanvasObject) string {
	switch v := o.(type) {
	case *widget.Label:
		return fmt.Sprintf("%q", v.Text)
	case *keyButton:
		return fmt.Sprintf("%q", v.Text)
	case *field:
		return fmt.Sprintf("%q", v.PlaceHolder)
	}
	return ""
}
