package printing

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
)

var update = flag.Bool("update", false, "rewrite the reference images in testdata")

func run(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s(install poppler-utils and zbar-tools: make test does)", name, args, err, stderr.String())
	}
	return out
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pdfText(t testing.TB, pdf []byte) string {
	return string(run(t, nil, "pdftotext", "-enc", "UTF-8", writeTemp(t, "doc.pdf", pdf), "-"))
}

func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

func facePDF(t testing.TB, b *bill.Bill, url string) []byte {
	t.Helper()
	f := testFont(t)
	out, err := PDF(Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: url}, f), f, PDFOptions{Created: b.IssuedTime()})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFacePDFHoldsEveryField(t *testing.T) {
	b := sampleBill(t)
	pdf := facePDF(t, b, "https://pj.example.cn/v")
	if len(pdf) > 150<<10 {
		t.Errorf("PDF is %d bytes, over 150 KB", len(pdf))
	}
	text := squeeze(pdfText(t, pdf))
	for _, want := range []string{
		"福建省医疗门诊收费票据（电子）", "票据代码：35060126", "票据号码：0000000123", "校验码：a1b2c3",
		"开票日期：2026-11-25", "交款人：张三", "350203********2015",
		"诊察费", "20.00", "化验费", "35.00", "西药费", "68.45",
		"金额合计（大写）壹佰贰拾叁元肆角伍分", "（小写）¥123.45",
		"业务流水号：MZ202611250001", "门诊号：2026112500000001234", "就诊日期：2026-11-25",
		"医疗机构类型：二级甲等", "医保类型：职工基本医疗保险", "医保编号：3502******3456", "性别：男", "年龄：41",
		"医保统筹基金支付：60.00", "其他支付：0.00", "个人账户支付：20.00", "个人现金支付：43.45",
		"个人自付：23.45", "个人自费：10.00", "个人自负：13.45", "支付方式：医保80.00，微信43.45",
		"医院负担金额：0.00", "收款单位（章）：厦门市海沧区第一医院", "复核人：陈建国", "收款人：林小燕",
		// the detail list
		"医疗收费明细（电子）", "所属票据代码：35060126", "分类小计：", "收款单位（章）：厦门市海沧区第一医院", "阿莫西林胶囊", "0.25g*24粒", "对乙酰氨基酚片", "57.451", "货币误差",
	} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("the PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "350203198503122015") || strings.Contains(text, "35020000123456") {
		t.Error("the PDF shows the payer's whole ID or insurance number")
	}
}

// TestEmptyFieldsPrintNoLabel: a bill without an ID number or a checker
// prints neither label (a bare "统一社会信用代码：" reads as a fault).
func TestEmptyFieldsPrintNoLabel(t *testing.T) {
	b := sampleBill(t)
	b.Settlement.IDCardNo, b.Settlement.Checker = "", ""
	text := squeeze(pdfText(t, facePDF(t, b, "https://pj.example.cn/v")))
	for _, label := range []string{"统一社会信用代码", "复核人"} {
		if strings.Contains(text, label) {
			t.Errorf("the face prints %q with nothing after it", label)
		}
	}
	if !strings.Contains(text, "收款人：林小燕") {
		t.Error("the payee went missing too")
	}
}

func TestRedBillPDF(t *testing.T) {
	text := squeeze(pdfText(t, facePDF(t, sampleRed(t), "")))
	for _, want := range []string{"红字", "票据号码：0000000124", "-20.00", "-35.00", "-68.45",
		"金额合计（大写）负壹佰贰拾叁元肆角伍分", "¥-123.45", "医保统筹基金支付：-60.00",
		"原票据代码：35060126", "原票据号码：0000000123", "原因：患者退费"} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("the red bill's PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "（小写）¥123.45") {
		t.Error("the red bill shows a positive total")
	}
}

func TestFontRendersDigitsYenAndHanzi(t *testing.T) {
	f := testFont(t)
	doc := &Document{Width: 100, Height: 30, Pages: []*Page{{Items: []Item{Text{X: 5, Y: 5, Size: 12, Color: Black, Text: "0123 ¥￥ 收费 ㎎ ℃ μg"}}}}}
	pdf, err := PDF(doc, f, PDFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := squeeze(pdfText(t, pdf)); got != "0123¥￥收费㎎℃μg" {
		t.Fatalf("pdftotext read %q", got)
	}
	for _, r := range "0123¥￥收费㎎℃μg" {
		if !f.Has(r) {
			t.Errorf("the font has no glyph for %q", r)
		}
	}
}

func TestPDFIsDeterministic(t *testing.T) {
	b := sampleBill(t)
	one, two := facePDF(t, b, "https://pj.example.cn/v"), facePDF(t, b, "https://pj.example.cn/v")
	if !bytes.Equal(one, two) {
		t.Fatal("the same bill gave two different PDFs")
	}
}

func TestQRCodeDecodesToVerificationURL(t *testing.T) {
	b := sampleBill(t)
	url := bill.NewVerifyRef(b, "a1b2c3", []byte("the bill's signature")).URL("https://pj.xmhc-hospital.cn:8443")
	pdf := facePDF(t, b, url)
	got := strings.TrimSpace(string(run(t, nil, "zbarimg", "--raw", "-q", rasterize(t, pdf, "200", false))))
	if got != url {
		t.Fatalf("the QR code reads\n%s\nwant\n%s", got, url)
	}
}

// TestQRDecodesAtEveryResolution: the QR code of the e-bill and of the
// paper forms scans at every resolution from 150 to 600 dpi (300 dpi is
// the usual print and scan resolution; module rectangles filled one by
// one left hairline seams that broke it there and at 500).
func TestQRDecodesAtEveryResolution(t *testing.T) {
	f := testFont(t)
	b := sampleBill(t)
	url := bill.NewVerifyRef(b, "a1b2c3", []byte("the bill's signature")).URL("https://pj.xmhc-hospital.cn:8443")
	info := BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: url}
	docs := map[string]*Document{"e-bill": Face(info, f)}
	for _, name := range TemplateNames() {
		tpl, err := LoadTemplate(name)
		if err != nil {
			t.Fatal(err)
		}
		if tpl.QR == nil {
			t.Errorf("paper form %s prints no QR code", name)
			continue
		}
		docs["paper "+name] = tpl.Layout(info, f, Offset{})
	}
	for name, doc := range docs {
		var qr QR
		for _, it := range doc.Pages[0].Items {
			if q, ok := it.(QR); ok {
				qr = q
			}
		}
		pdf, err := PDF(doc, f, PDFOptions{Created: b.IssuedTime()})
		if err != nil {
			t.Fatal(err)
		}
		in := writeTemp(t, "qr.pdf", pdf)
		for dpi := 150; dpi <= 600; dpi += 50 {
			// Only the code and a margin around it are rasterised.
			px := func(mm float64) string { return strconv.Itoa(int(mm / 25.4 * float64(dpi))) }
			root := strings.TrimSuffix(in, ".pdf") + "-" + strconv.Itoa(dpi)
			run(t, nil, "pdftoppm", "-r", strconv.Itoa(dpi), "-f", "1", "-l", "1", "-png", "-singlefile", "-gray",
				"-x", px(max(qr.X-5, 0)), "-y", px(max(qr.Y-5, 0)), "-W", px(qr.Size+10), "-H", px(qr.Size+10), in, root)
			out, _ := exec.Command("zbarimg", "--raw", "-q", root+".png").Output()
			if got := strings.TrimSpace(string(out)); got != url {
				t.Errorf("%s at %d dpi: the QR code reads %q", name, dpi, got)
			}
		}
	}
}

// bboxWord is one word of `pdftotext -bbox`, in points.
type bboxWord struct {
	XMin float64 `xml:"xMin,attr"`
	YMin float64 `xml:"yMin,attr"`
	XMax float64 `xml:"xMax,attr"`
	YMax float64 `xml:"yMax,attr"`
	Text string  `xml:",chardata"`
}

func bboxWords(t testing.TB, pdf []byte) []bboxWord {
	t.Helper()
	out := run(t, nil, "pdftotext", "-bbox", "-f", "1", "-l", "1", writeTemp(t, "bbox.pdf", pdf), "-")
	var doc struct {
		Words []bboxWord `xml:"body>doc>page>word"`
	}
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("pdftotext -bbox output: %v", err)
	}
	return doc.Words
}

const ptToMM = 25.4 / 72

// TestFaceMatchesReferenceImage renders the face with poppler and compares
// it with the image checked in under testdata (go test -update rewrites it
// after a deliberate change of the layout: look at the new image first).
func TestFaceMatchesReferenceImage(t *testing.T) {
	for name, b := range map[string]*bill.Bill{"face-blue": sampleBill(t), "face-red": sampleRed(t)} {
		pdf := facePDF(t, b, "https://pj.example.cn/v?c=35060126&n="+b.BillNo)
		gotPath := rasterize(t, pdf, "60", true)
		ref := filepath.Join("testdata", name+".png")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			copyFile(t, gotPath, ref)
			continue
		}
		mean, bad, n := imageDiff(t, gotPath, ref)
		if mean > 0.1 || bad > 20 {
			copyFile(t, gotPath, filepath.Join(os.TempDir(), name+"-got.png"))
			t.Errorf("%s differs from the reference: mean difference %.2f, %d of %d pixels off by more than 64 (got image in %s)",
				name, mean, bad, n, os.TempDir())
		}
	}
}

// imageDiff compares two grey PNG files of the same size: the mean
// difference per pixel (0–255) and how many pixels differ by more than 64.
func imageDiff(t testing.TB, pathA, pathB string) (mean float64, bad, n int) {
	t.Helper()
	load := func(p string) image.Image {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./printing -run ReferenceImage -update once to write a reference)", err)
		}
		return decodePNG(t, data)
	}
	a, b := load(pathA), load(pathB)
	area := a.Bounds().Intersect(b.Bounds())
	if a.Bounds().Dx()-area.Dx() > 1 || a.Bounds().Dy()-area.Dy() > 1 || b.Bounds().Dx()-area.Dx() > 1 || b.Bounds().Dy()-area.Dy() > 1 {
		t.Fatalf("%s is %v, %s is %v", pathA, a.Bounds(), pathB, b.Bounds()) // a pixel of rounding is allowed
	}
	var diff int
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			p, _, _, _ := a.At(x, y).RGBA()
			q, _, _, _ := b.At(x, y).RGBA()
			d := int(p>>8) - int(q>>8)
			if d < 0 {
				d = -d
			}
			diff += d
			if d > 64 {
				bad++
			}
		}
	}
	n = area.Dx() * area.Dy()
	return float64(diff) / float64(n), bad, n
}

func copyFile(t testing.TB, from, to string) {
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, data, 0o644)
	}
	if err != nil {
		t.Log(err)
	}
}

func decodePNG(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImagePreview(t *testing.T) {
	f := testFont(t)
	doc := Face(BillInfo{Bill: sampleBill(t), CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f)
	img, err := Image(doc, 0, f, 96)
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != int(math.Ceil(FaceWidth/25.4*96)) {
		t.Fatalf("preview width %d px", w)
	}
	// Ink where the title is, white in the margin below the footer.
	dark := func(x0, y0, x1, y1 float64) int {
		n := 0
		for y := int(y0 / 25.4 * 96); y < int(y1/25.4*96); y++ {
			for x := int(x0 / 25.4 * 96); x < int(x1/25.4*96); x++ {
				if r, g, b, _ := img.At(x, y).RGBA(); r+g+b < 3*0xc000 { // ink of any colour (the title is brown)
					n++
				}
			}
		}
		return n
	}
	if dark(80, 8, 160, 15) < 500 {
		t.Error("no title in the preview")
	}
	if n := dark(150, 143, 240, 150); n != 0 {
		t.Errorf("%d dark pixels in the empty bottom margin", n)
	}
	if _, err := Image(doc, 5, f, 96); err == nil {
		t.Error("page 6 of a 2-page document rendered")
	}
}

func TestPDFFilePrinter(t *testing.T) {
	f := testFont(t)
	dir := t.TempDir()
	p, err := OpenPrinter(PDFPrinterPrefix + dir)
	if err != nil {
		t.Fatal(err)
	}
	doc := Face(BillInfo{Bill: sampleBill(t), CheckCode: "a1b2c3"}, f)
	p.(*PDFFile).Now = func() time.Time { return time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC) }
	path, err := p.Print(context.Background(), doc, f)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "福建省医疗门诊收费票据（电子）-35060126-0000000123-20261125-090203.000.pdf"); path != want {
		t.Fatalf("wrote %s, want %s", path, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(squeeze(pdfText(t, data)), "票据号码：0000000123") {
		t.Fatal("the PDF file lacks the bill number")
	}
	if _, err := OpenPrinter(""); err == nil || !strings.Contains(bill.ErrorMessage(err), "--printer") {
		t.Fatalf("no printer: %v", err)
	}
}

// TestCUPSQueue prints through a real CUPS queue that writes PDFs
// (cups-pdf; scripts/cups.sh sets it up, make test runs it) and finds the
// PDF it produced.
func TestCUPSQueue(t *testing.T) {
	if runtimeWindows {
		t.Skip("CUPS is the Linux printing system")
	}
	queue := os.Getenv("EBILL_TEST_CUPS_QUEUE")
	if queue == "" {
		queue = "ebill-pdf"
	}
	outDir := os.Getenv("EBILL_TEST_CUPS_OUT")
	if outDir == "" {
		outDir = "/var/spool/cups-pdf"
	}
	ctx := context.Background()
	list, err := ListPrinters(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("list printers: %v (run scripts/cups.sh)", err)
	}
	found := false
	for _, p := range list {
		found = found || (p.Name == queue && p.Kind == "cups")
	}
	if !found {
		t.Fatalf("CUPS queue %s not listed in %+v (run scripts/cups.sh)", queue, list)
	}

	f := testFont(t)
	b := sampleBill(t)
	b.BillNo = time.Now().Format("0102150405") // this run's own number, to find its PDF
	p, err := OpenPrinter(queue)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := LoadTemplate("outpatient")
	if err != nil {
		t.Fatal(err)
	}
	doc := tpl.Layout(BillInfo{Bill: b, CheckCode: "a1b2c3"}, f, Offset{})
	job, err := p.Print(ctx, doc, f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(job, queue+"-") {
		t.Fatalf("job id %q", job)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var hit string
		filepath.WalkDir(outDir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.Contains(path, b.BillNo) && strings.HasSuffix(path, ".pdf") {
				hit = path
			}
			return nil
		})
		if hit != "" {
			time.Sleep(200 * time.Millisecond) // cups-pdf may still be writing it
			data, err := os.ReadFile(hit)
			if err != nil {
				t.Fatal(err)
			}
			// The queue re-renders the text (ghostscript turns it into Type 3
			// glyphs without text), so compare what it would put on paper
			// with the PDF sent: same page size, same pixels in the same place.
			if info := string(run(t, nil, "pdfinfo", hit)); !strings.Contains(info, "595 x 288 pts") {
				t.Errorf("the printed page is not 210 × 101.6 mm:\n%s", info)
			}
			sent, err := PDF(doc, f, PDFOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Ghostscript draws the glyphs itself, so pixels differ a little;
			// the ink must cover the same area of the paper (within 0.5 mm)
			// in the same amount (within 15%).
			got, want := ink(t, rasterize(t, data, "100", true)), ink(t, rasterize(t, sent, "100", true))
			t.Logf("ink printed %+v, sent %+v", got, want)
			const px = 100 / 25.4 * 0.5
			if math.Abs(float64(got.box.Min.X-want.box.Min.X)) > px || math.Abs(float64(got.box.Min.Y-want.box.Min.Y)) > px ||
				math.Abs(float64(got.box.Max.X-want.box.Max.X)) > px || math.Abs(float64(got.box.Max.Y-want.box.Max.Y)) > px {
				t.Errorf("the printed page's ink spans %v, the PDF sent %v (pixels at 100 dpi)", got.box, want.box)
			}
			if r := float64(got.dark) / float64(want.dark); r < 0.85 || r > 1.15 {
				t.Errorf("the printed page has %d dark pixels, the PDF sent %d", got.dark, want.dark)
			}
			os.Remove(hit)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("job %s: no PDF with %s under %s after 30 s", job, b.BillNo, outDir)
}

// rasterize renders the first page of pdf to a PNG file with pdftoppm.
func rasterize(t testing.TB, pdf []byte, dpi string, gray bool) string {
	t.Helper()
	in := writeTemp(t, "page.pdf", pdf)
	root := strings.TrimSuffix(in, ".pdf")
	args := []string{"-r", dpi, "-f", "1", "-l", "1", "-png", "-singlefile"}
	if gray {
		args = append(args, "-gray")
	}
	run(t, nil, "pdftoppm", append(args, in, root)...)
	return root + ".png"
}

type inkStats struct {
	box  image.Rectangle
	dark int
}

// ink finds the dark pixels of a grey PNG file: their bounding box and count.
func ink(t testing.TB, path string) inkStats {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, data)
	st := inkStats{box: image.Rectangle{Min: image.Pt(math.MaxInt32, math.MaxInt32), Max: image.Pt(-1, -1)}}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if v, _, _, _ := img.At(x, y).RGBA(); v < 0x8000 {
				st.dark++
				st.box.Min.X, st.box.Min.Y = min(st.box.Min.X, x), min(st.box.Min.Y, y)
				st.box.Max.X, st.box.Max.Y = max(st.box.Max.X, x), max(st.box.Max.Y, y)
			}
		}
	}
	return st
}

func TestQRPNGDecodes(t *testing.T) {
	url := "https://pj.example-hospital.cn/v?a=123.45&c=35060126&d=20261125&k=a1b2c3&n=0000000001&s=0a1b2c3d"
	png, err := QRPNG(url, 240)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(string(run(t, nil, "zbarimg", "--raw", "-q", writeTemp(t, "qr.png", png))))
	if got != url {
		t.Fatalf("QR PNG reads %q", got)
	}
}

// TestDepositVoucherPDF: a deposit voucher prints under its own title, its
// one line the deposit, and a partial refund as a red voucher of the
// refunded amount.
func TestDepositVoucherPDF(t *testing.T) {
	s := bill.Settlement{BusNo: "YJ0001", BusType: "07", BusDateTime: "20261201093000000", Payee: "林小燕", Author: "林小燕",
		Payer: "陈志明", PayerType: "1", HospitalNo: "ZY20261201", Category: "心血管内科", InHospitalDate: "20261201", IsArrears: "0",
		TotalAmt: 300000, PayChannelDetail: []bill.PayChannel{{Code: "02", Value: 300000}}}
	s.ChargeDetail = []bill.ChargeLine{bill.DepositLine(s.BusType, s.TotalAmt)}
	s.Normalize()
	if err := s.Validate(bill.Deposit); err != nil {
		t.Fatal(err)
	}
	v := &bill.Bill{V: 1, ID: "0193a4b2-0000-7000-8000-000000000009", Kind: bill.Deposit, BillCode: "35060726", BillNo: "0000000001",
		PlaceCode: "H01", IssuedAt: "2026-12-01T01:30:00.000Z", Seq: 1, UnitName: "厦门市海沧区第一医院", UnitCode: "12350205MB0123456X", Settlement: s}
	text := squeeze(pdfText(t, facePDF(t, v, "")))
	for _, want := range []string{"福建省住院预交金电子凭证", "住院预交金", "3000.00", "叁仟元整", "陈志明"} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("the voucher's PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "收费票据") {
		t.Error("the voucher is titled as a bill")
	}
	rs, err := bill.RefundDeposit(s, 120050, bill.RefundFields{Payee: "王会计", BusDateTime: "20261205100000000"})
	if err != nil {
		t.Fatal(err)
	}
	r := *v
	r.BillNo, r.Seq, r.Settlement = "0000000002", 2, rs
	r.Red = &bill.RedRef{OrigID: v.ID, OrigBillCode: v.BillCode, OrigBillNo: v.BillNo, Reason: "出院结余退款", Operator: "王会计"}
	text = squeeze(pdfText(t, facePDF(t, &r, "")))
	for _, want := range []string{"红字", "¥-1200.50", "原票据号码：0000000001", "原因：出院结余退款"} {
		if !strings.Contains(text, squeeze(want)) {
			t.Errorf("the refund's PDF text lacks %q", want)
		}
	}
}

// TestGeneralBillTitle: 往来, 捐赠 and 非税通用 bills print under their own titles.
func TestGeneralBillTitle(t *testing.T) {
	b := sampleBill(t)
	for k, want := range map[bill.Kind]string{bill.Transfer: "福建省往来结算票据（电子）", bill.Donation: "福建省公益事业捐赠票据（电子）",
		bill.NonTax: "福建省非税收入通用票据（电子）", bill.Outpatient: "福建省医疗门诊收费票据（电子）"} {
		b.Kind = k
		if got := Title(b); got != want {
			t.Errorf("%s: title %q, want %q", k, got, want)
		}
	}
	b.Kind = bill.Transfer
	if text := squeeze(pdfText(t, facePDF(t, b, ""))); !strings.Contains(text, "福建省往来结算票据（电子）") {
		t.Error("the 往来票's PDF lacks its title")
	}
}
