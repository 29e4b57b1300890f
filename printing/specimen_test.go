package printing

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
)

// TestInpatientFieldsOnTheFace: the inpatient data of the national filling
// rules — 预缴/补缴/退费金额, 住院科别 (入院—出院科室), 病历号, 病区 from
// hospitalArea — are printed; they used to be dropped.
func TestInpatientFieldsOnTheFace(t *testing.T) {
	b := sampleBill(t)
	b.Kind = bill.Inpatient
	s := &b.Settlement
	s.HospitalNo, s.InHospitalDate, s.OutHospitalDate, s.HospitalDays, s.BedNo = "ZY0098765", "20261118", "20261125", "7", "12床"
	s.Ward, s.HospitalArea = "", "内科二病区"
	s.CaseNumber, s.Category, s.LeaveCategory, s.CashPay, s.CashRecharge, s.CashRefund = "BL0009876", "心内科", "呼吸内科", 300000, 5000, 12345
	s.Normalize()
	text := squeeze(pdfText(t, facePDF(t, b, "https://pj.example.cn/v")))
	for _, want := range []string{"预缴金额：3000.00", "补缴金额：50.00", "退费金额：123.45", "住院科别：心内科—呼吸内科",
		"病历号：BL0009876", "病区：内科二病区12床"} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("the inpatient face lacks %q", want)
		}
	}
}

// TestPayerIDOnTheFace: a patient's ID shows its first 6 and last 4
// characters, as the specimens print it; a unit's credit code in full.
func TestPayerIDOnTheFace(t *testing.T) {
	person := squeeze(pdfText(t, facePDF(t, sampleBill(t), "https://pj.example.cn/v")))
	if !strings.Contains(person, "350203********2015") || strings.Contains(person, "350203198503122015") {
		t.Errorf("a patient's ID is not masked 6+4: %s", person)
	}
	unit := sampleBill(t)
	unit.Settlement.PayerType, unit.Settlement.Payer, unit.Settlement.IDCardNo = "2", "厦门海湾科技有限公司", "91350200MA2XYZ1234"
	if text := squeeze(pdfText(t, facePDF(t, unit, "https://pj.example.cn/v"))); !strings.Contains(text, "91350200MA2XYZ1234") {
		t.Errorf("a unit's credit code is not printed in full: %s", text)
	}
}

// TestNoDrawnSeal: without the hospital's seal image nothing red is drawn
// by the unit's name (the drawn 票据专用章 oval was a fake seal); with it,
// the image is printed there.
func TestNoDrawnSeal(t *testing.T) {
	f := testFont(t)
	redNear := func(info BillInfo) int {
		img, err := Image(Face(info, f), 0, f, 60)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		px := 60 / 25.4
		for y := int(128 * px); y < int(150*px); y++ {
			for x := 0; x < int(130*px); x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if r > 0xb000 && g < 0x6000 && b < 0x6000 {
					n++
				}
			}
		}
		return n
	}
	info := BillInfo{Bill: sampleBill(t), CheckCode: "a1b2c3"}
	if n := redNear(info); n != 0 {
		t.Errorf("%d red pixels by the unit's name without a seal image", n)
	}
	seal := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for y := 10; y < 70; y++ {
		for x := 10; x < 110; x++ {
			seal.Set(x, y, color.RGBA{R: 0xd0, A: 0xff})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, seal)
	info.Seal = buf.Bytes()
	if n := redNear(info); n < 200 {
		t.Errorf("the seal image is not printed (%d red pixels)", n)
	}
	if _, err := PDF(Face(info, f), f, PDFOptions{}); err != nil {
		t.Fatalf("a face with a seal image as PDF: %v", err)
	}
}

// TestNotices: the verification footnote names the site of the QR link; a
// reversed original printed again carries 已冲红; the detail list is 医疗收费
// 明细（电子）with its bill, date, subtotals per category and the unit.
func TestNotices(t *testing.T) {
	f := testFont(t)
	b := sampleBill(t)
	pdf, err := PDF(Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example-hospital.cn/v?c=1", Reversed: true}, f), f, PDFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := squeeze(pdfText(t, pdf))
	for _, want := range []string{"已冲红", "登录https://pj.example-hospital.cn查验真伪", "医疗收费明细（电子）", "所属票据号码：0000000123",
		"开票日期：2026-11-25", "分类小计：", "收款单位（章）：厦门市海沧区第一医院"} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("the bill lacks %q", want)
		}
	}
	if plain := squeeze(pdfText(t, facePDF(t, b, ""))); strings.Contains(plain, "已冲红") || strings.Contains(plain, "查验真伪") {
		t.Error("a bill not reversed, without a link, says 已冲红 or names a site")
	}
}

// TestPaperTemplateInpatientFields: a hospital's own paper form can place
// the inpatient data (病历号, 住院科别, 预缴/补缴/退费金额).
func TestPaperTemplateInpatientFields(t *testing.T) {
	tpl, err := ParseTemplate([]byte(`{"name":"mine","title":"本院住院票据","kinds":["inpatient"],"width":210,"height":127,
		"fields":[{"field":"caseNumber","x":10,"y":10,"w":40},{"field":"category","x":60,"y":10,"w":60},
		{"field":"cashPay","x":10,"y":20,"w":30},{"field":"cashRecharge","x":50,"y":20,"w":30},{"field":"cashRefund","x":90,"y":20,"w":30}],
		"categories":{"x":10,"y":40,"rows":4,"columns":2,"rowHeight":5,"columnWidth":90,"nameWidth":50,"amountWidth":30}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := sampleBill(t)
	b.Kind = bill.Inpatient
	s := &b.Settlement
	s.CaseNumber, s.Category, s.LeaveCategory, s.CashPay, s.CashRecharge, s.CashRefund = "BL0009876", "心内科", "呼吸内科", 300000, 5000, 12345
	f := testFont(t)
	pdf, err := PDF(tpl.Layout(BillInfo{Bill: b, CheckCode: "a1b2c3"}, f, Offset{}), f, PDFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := squeeze(pdfText(t, pdf))
	for _, want := range []string{"BL0009876", "心内科—呼吸内科", "3000.00", "50.00", "123.45"} {
		if !strings.Contains(text, want) {
			t.Errorf("the paper lacks %q", want)
		}
	}
}

// TestSpecimenLayout: every kind of bill is laid out as the national
// specimen — the QR code top right, the header in two stacks (left 票据代码,
// 交款人统一社会信用代码, 交款人; right 票据号码, 校验码, 开票日期), 其他信息 in a
// fixed 4-column grid keeping its labels — read back from the PDF with
// pdftotext -bbox, each label in its box within 0.5 mm; the page fits A4.
func TestSpecimenLayout(t *testing.T) {
	f := testFont(t)
	inpatient := sampleBill(t)
	inpatient.Kind = bill.Inpatient
	inpatient.Settlement.HospitalNo, inpatient.Settlement.CashPay = "ZY0098765", 300000
	unit := sampleBill(t)
	unit.Settlement.PayerType, unit.Settlement.Payer, unit.Settlement.IDCardNo = "2", "厦门海湾科技有限公司", "91350200MA2XYZ1234"
	exam, registration := sampleBill(t), sampleBill(t)
	exam.Kind, exam.Settlement.CheckUpNo, registration.Kind = bill.Exam, "TJ0001", bill.Registration
	exam.Settlement.PatientNo, exam.Settlement.MedicalInsuranceID = "", "" // empty values keep their labels
	colW := (faceRight - faceLeft - 10) / 4
	for name, b := range map[string]*bill.Bill{"outpatient": sampleBill(t), "inpatient": inpatient, "registration": registration,
		"exam": exam, "unit payer": unit, "red": sampleRed(t)} {
		t.Run(name, func(t *testing.T) {
			doc := Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v?c=1"}, f)
			if doc.Width > 297 || doc.Height > 210 {
				t.Errorf("the page is %.0f×%.0f mm, larger than A4", doc.Width, doc.Height)
			}
			for _, it := range doc.Pages[0].Items {
				if q, ok := it.(QR); ok && (q.X < doc.Width/2 || q.Y > 10) {
					t.Errorf("the QR code is at (%.0f, %.0f), not top right", q.X, q.Y)
				}
			}
			pdf, err := PDF(doc, f, PDFOptions{})
			if err != nil {
				t.Fatal(err)
			}
			words := bboxWords(t, pdf)
			// The box each label belongs in: x in mm, and the row's top.
			boxes := map[string][2]float64{"票据代码：": {headerLeft, 21}, "交款人：": {headerLeft, 33},
				"票据号码：": {headerRight, 21}, "校验码：": {headerRight, 27}, "开票日期：": {headerRight, 33}}
			if b.Settlement.IDCardNo != "" {
				boxes["交款人统一社会信用代码："] = [2]float64{headerLeft, 27}
			}
			infoTop := 39.0 + 6 + faceRows*5 + 7
			for i, l := range otherInfo(b, BillInfo{}) {
				if i < 28 && l.value == "" || i < 8 {
					boxes[l.label+"："] = [2]float64{faceLeft + 9.5 + float64(i%4)*colW, infoTop + 0.8 + float64(i/4)*4.4}
				}
			}
			for label, box := range boxes {
				found := false
				for _, w := range words {
					if strings.HasPrefix(w.Text, label) && abs(w.YMin*ptToMM-box[1]) < 2.5 {
						found = true
						if d := abs(w.XMin*ptToMM - box[0]); d > 0.5 {
							t.Errorf("%s starts at %.1f mm, its box at %.1f mm", label, w.XMin*ptToMM, box[0])
						}
					}
				}
				if !found {
					t.Errorf("%s is not on the face (row at %.1f mm)", label, box[1])
				}
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
