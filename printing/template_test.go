package printing

import (
	"math"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
)

// fieldPositions finds, for each template field the layout filled, the
// printed position (mm) of its first word nearest the template position:
// left edge for left-aligned fields, right edge for right-aligned ones.
func fieldPositions(t *testing.T, tpl *Template, pdf []byte, lay *Document) map[string][2]float64 {
	words := bboxWords(t, pdf)
	out := map[string][2]float64{}
	for _, it := range lay.Texts() {
		first := strings.Fields(it.Text)[0]
		best, bestD := [2]float64{}, math.Inf(1)
		for _, w := range words {
			if w.Text != first {
				continue
			}
			x := w.XMin * ptToMM
			if it.Align == AlignRight {
				x = w.XMax * ptToMM
			}
			want := it.X
			if it.Align == AlignRight {
				want = it.X + it.W
			}
			if d := math.Hypot(x-want, w.YMin*ptToMM-it.Y); d < bestD {
				best, bestD = [2]float64{x, w.YMin * ptToMM}, d
			}
		}
		if math.IsInf(bestD, 1) {
			t.Errorf("%s: field %s (%q) is not in the PDF", tpl.Name, it.Field, it.Text)
			continue
		}
		out[it.Field+"|"+it.Text] = best
	}
	return out
}

func TestPaperTemplatePositions(t *testing.T) {
	f := testFont(t)
	inpatient := sampleBill(t)
	inpatient.Kind = bill.Inpatient
	s := &inpatient.Settlement
	s.HospitalNo, s.InHospitalDate, s.OutHospitalDate, s.HospitalDays, s.Ward, s.BedNo = "ZY0098765", "20261118", "20261125", "7", "内科二病区", "12床"
	for _, c := range []struct {
		tpl string
		b   *bill.Bill
	}{{"outpatient", sampleBill(t)}, {"inpatient", inpatient}} {
		tpl, err := LoadTemplate(c.tpl)
		if err != nil {
			t.Fatal(err)
		}
		info := BillInfo{Bill: c.b, CheckCode: "a1b2c3"}
		lay := tpl.Layout(info, f, Offset{})
		// Every placed field is where the template says, within 0.5 mm.
		wantByField := map[string]TemplateField{}
		for _, fd := range tpl.Fields {
			wantByField[fd.Field] = fd
		}
		placed := 0
		for _, it := range lay.Texts() {
			fd, ok := wantByField[it.Field]
			if !ok {
				continue
			}
			placed++
			if it.X != fd.X || it.Y != fd.Y {
				t.Errorf("%s: field %s laid out at (%.2f, %.2f), template says (%.2f, %.2f)", tpl.Name, fd.Field, it.X, it.Y, fd.X, fd.Y)
			}
		}
		if placed < len(tpl.Fields)-2 {
			t.Errorf("%s: only %d of %d fields have a value", tpl.Name, placed, len(tpl.Fields))
		}
		pdf, err := PDF(lay, f, PDFOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := bboxWords(t, pdf); len(got) == 0 {
			t.Fatal("no words in the template PDF")
		}
		at := fieldPositions(t, tpl, pdf, lay)
		for _, it := range lay.Texts() {
			want := [2]float64{it.X, it.Y}
			if it.Align == AlignRight {
				want[0] = it.X + it.W
			}
			got := at[it.Field+"|"+it.Text]
			if math.Abs(got[0]-want[0]) > 0.5 || math.Abs(got[1]-want[1]) > 0.5 {
				t.Errorf("%s: %s %q printed at (%.2f, %.2f) mm, template (%.2f, %.2f)", tpl.Name, it.Field, it.Text, got[0], got[1], want[0], want[1])
			}
		}

		// A calibration offset moves every field by exactly that offset.
		off := Offset{X: 3.5, Y: -2.25}
		moved := tpl.Layout(info, f, off)
		mpdf, err := PDF(moved, f, PDFOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mat := fieldPositions(t, tpl, mpdf, moved)
		for k, p := range at {
			q := mat[k]
			if math.Abs(q[0]-p[0]-off.X) > 0.05 || math.Abs(q[1]-p[1]-off.Y) > 0.05 {
				t.Errorf("%s: %s moved by (%.2f, %.2f) mm, offset (%.2f, %.2f)", tpl.Name, k, q[0]-p[0], q[1]-p[1], off.X, off.Y)
			}
		}
	}
}

func TestTemplateRefusesBadFiles(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": `{"name":"x","width":210,"height":100,"fields":[{"field":"nonsense","x":1,"y":1}]}`,
		"off the paper": `{"name":"x","width":210,"height":100,"fields":[{"field":"payer","x":200,"y":1,"w":30}]}`,
		"bad size":      `{"name":"x","width":0,"height":100}`,
		"bad kind":      `{"name":"x","width":210,"height":100,"kinds":["dental"]}`,
		"typo in key":   `{"name":"x","width":210,"height":100,"feilds":[]}`,
	} {
		if _, err := ParseTemplate([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(bill.ErrorMessage(err), "模板") {
			t.Errorf("%s: message %q does not name the template", name, bill.ErrorMessage(err))
		}
	}
	for _, k := range bill.Kinds {
		if _, err := ForKind(k); err != nil {
			t.Errorf("no template for %s: %v", k, err)
		}
	}
}

func TestCalibration(t *testing.T) {
	f := testFont(t)
	// Printed with offset (1, 0.5), crosshair A is measured at 22.0, 19.0:
	// the print is 2 mm right and 1 mm high, so move 2 mm left, 1 mm down.
	next := Calibrate(Offset{X: 1, Y: 0.5}, 22, 19)
	if next != (Offset{X: -1, Y: 1.5}) {
		t.Fatalf("offset %+v", next)
	}
	if got := Advice(Offset{X: 1, Y: 0.5}, next); got != "向左移 2.0 毫米，向下移 1.0 毫米" {
		t.Fatalf("advice %q", got)
	}
	if got := Advice(next, next); got != "位置已准确，无需调整" {
		t.Fatalf("advice %q", got)
	}
	// The page is printed with the offset: label A sits 1.5 mm right of and
	// 1.5 mm below crosshair A, wherever the offset puts it.
	for _, off := range []Offset{{}, next} {
		pdf, err := PDF(CalibrationPage(210, 101.6, "ebill-pdf", off, f), f, PDFOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantX, wantY := CalibrationMark+1.5+off.X, CalibrationMark+1.5+off.Y
		best := math.Inf(1)
		for _, w := range bboxWords(t, pdf) {
			if w.Text == "A" {
				best = math.Min(best, math.Hypot(w.XMin*ptToMM-wantX, w.YMin*ptToMM-wantY))
			}
		}
		if best > 0.5 {
			t.Errorf("offset %+v: no label A within 0.5 mm of (%.2f, %.2f); nearest %.2f mm away", off, wantX, wantY, best)
		}
		if text := squeeze(pdfText(t, pdf)); !strings.Contains(text, "ebillprintercalibrate--printerebill-pdf--measured-xx--measured-yy") {
			t.Errorf("the calibration page does not say what to run: %s", text)
		}
	}
}
