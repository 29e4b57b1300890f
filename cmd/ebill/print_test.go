package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebill/ebill/internal/ofdcheck"
	"github.com/ebill/ebill/printing"
)

func pdfText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// wordAt returns the top-left corner (mm) of the first word of a PDF's
// first page that starts with prefix, read with pdftotext -bbox.
func wordAt(t *testing.T, path, prefix string) (x, y float64) {
	t.Helper()
	out, err := exec.Command("pdftotext", "-bbox", "-f", "1", "-l", "1", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Words []struct {
			XMin float64 `xml:"xMin,attr"`
			YMin float64 `xml:"yMin,attr"`
			Text string  `xml:",chardata"`
		} `xml:"body>doc>page>word"`
	}
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, w := range doc.Words {
		if strings.HasPrefix(w.Text, prefix) {
			return w.XMin * 25.4 / 72, w.YMin * 25.4 / 72
		}
	}
	t.Fatalf("no word %q in %s", prefix, path)
	return 0, 0
}

func newestPDF(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var newest string
	var mod int64
	for _, e := range entries {
		info, _ := e.Info()
		if strings.HasSuffix(e.Name(), ".pdf") && info.ModTime().UnixNano() >= mod {
			newest, mod = filepath.Join(dir, e.Name()), info.ModTime().UnixNano()
		}
	}
	if newest == "" {
		t.Fatalf("no PDF in %s", dir)
	}
	return newest
}

func TestPrintExportAndCalibrate(t *testing.T) {
	d := t.TempDir()
	prints := filepath.Join(t.TempDir(), "prints")
	must := func(want string, args ...string) string {
		t.Helper()
		out, errOut, code := ebill(t, append([]string{"--data", d}, args...)...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("ebill %s → %d\n%s%s(want %q)", strings.Join(args, " "), code, out, errOut, want)
		}
		return out
	}
	must("", "init", "--place", "P01", "--demo")
	must("", "issue", "-f", "../../examples/outpatient.json")
	must("尚未设置查验地址", "printer", "verify-url")
	must("https://pj.xmhc.cn/v", "printer", "verify-url", "https://pj.xmhc.cn/")

	// export: the patient's PDF, the same bytes every time.
	file := filepath.Join(t.TempDir(), "bill.pdf")
	must("已保存电子票据 35060126 0000000001", "export", "--code", "35060126", "--no", "1", "--out", file)
	first, _ := os.ReadFile(file)
	must("已保存", "export", "--busno", "MZ202611250001", "--out", file)
	again, _ := os.ReadFile(file)
	if !bytes.Equal(first, again) || len(first) == 0 || len(first) > 150<<10 {
		t.Fatalf("export gave %d then %d bytes (equal %v)", len(first), len(again), bytes.Equal(first, again))
	}
	if text := pdfText(t, file); !strings.Contains(text, "票据号码：0000000001") || !strings.Contains(text, "壹佰贰拾叁元肆角伍分") {
		t.Fatalf("exported PDF text: %s", text)
	}
	qr, err := exec.Command("sh", "-c", "pdftoppm -r 200 -f 1 -l 1 -png -singlefile "+file+" "+file+" && zbarimg --raw -q "+file+".png").Output()
	if err != nil || !strings.HasPrefix(string(qr), "https://pj.xmhc.cn/v?a=123.45&c=35060126&d=") {
		t.Fatalf("QR code: %v %q", err, qr)
	}

	// export --ofd: the same bill as OFD, the same bytes every time, with
	// the bill's code and number in its metadata.
	ofdDir := t.TempDir()
	must("35060126-0000000001.ofd", "export", "--code", "35060126", "--no", "1", "--ofd", "--out", ofdDir)
	ofd1, _ := os.ReadFile(filepath.Join(ofdDir, "35060126-0000000001.ofd"))
	must("已保存", "export", "--busno", "MZ202611250001", "--ofd", "--out", filepath.Join(ofdDir, "again.ofd"))
	ofd2, _ := os.ReadFile(filepath.Join(ofdDir, "again.ofd"))
	if len(ofd1) == 0 || !bytes.Equal(ofd1, ofd2) {
		t.Fatalf("export --ofd gave %d then %d bytes (equal %v)", len(ofd1), len(ofd2), bytes.Equal(ofd1, ofd2))
	}
	p := ofdcheck.Must(t, ofd2)
	if meta := p.Files["OFD.xml"]; !strings.Contains(string(meta), `<ofd:CustomData Name="票据号码">0000000001</ofd:CustomData>`) {
		t.Fatalf("OFD.xml: %s", meta)
	}
	var att printing.BillOFDData
	if err := json.Unmarshal(p.Files["Doc_0/Attachs/bill.json"], &att); err != nil || len(att.Signature) == 0 ||
		!strings.HasPrefix(att.VerifyURL, "https://pj.xmhc.cn/v?") {
		t.Fatalf("the OFD's bill.json (%v): signature %d bytes, verify URL %q", err, len(att.Signature), att.VerifyURL)
	}

	// print: to a PDF file, or to a printer (the PDF-file printer here).
	out := filepath.Join(t.TempDir(), "p.pdf")
	must("已保存", "print", "--code", "35060126", "--no", "1", "--pdf", out)
	must("已将电子票据 35060126 0000000001 发送到打印机 pdf:", "print", "--code", "35060126", "--no", "1", "--printer", "pdf:"+prints)
	if text := pdfText(t, newestPDF(t, prints)); !strings.Contains(text, "票据号码：0000000001") {
		t.Fatalf("printed PDF: %s", text)
	}
	if _, errOut, code := ebill(t, "--data", d, "print", "--code", "35060126", "--no", "1"); code != exitInvalid || !strings.Contains(errOut, "ebill printer default") {
		t.Fatalf("print without a printer: %d %s", code, errOut)
	}

	// printers and calibration
	must("pdf:", "printer", "list")
	must("本机默认打印机已设为 pdf:"+prints, "printer", "default", "pdf:"+prints)
	must("已打印校准页", "printer", "test-page")
	if text := pdfText(t, newestPDF(t, prints)); !strings.Contains(text, "打印机校准页") {
		t.Fatalf("test page: %s", text)
	}
	must("向左移 2.0 毫米，向下移 1.0 毫米", "printer", "calibrate", "--measured-x", "22", "--measured-y", "19")
	must("无需调整", "printer", "calibrate", "--measured-x", "20", "--measured-y", "20")
	if _, errOut, code := ebill(t, "--data", d, "printer", "calibrate", "--x", "80", "--y", "0"); code != exitInvalid || !strings.Contains(errOut, "过大") {
		t.Fatalf("offset 80 mm: %d %s", code, errOut)
	}
	var list struct {
		Printers []struct {
			Name             string
			OffsetX, OffsetY float64
		}
	}
	json.Unmarshal([]byte(must("", "--json", "printer", "list")), &list)
	found := false
	for _, p := range list.Printers {
		if p.Name == "pdf:"+prints {
			found = p.OffsetX == -2 && p.OffsetY == 1
		}
	}
	if !found {
		t.Fatalf("offset not stored: %+v", list)
	}

	// Paper conversion prints on the template, moved by the calibration.
	must("打印任务 "+prints, "paper", "convert", "--code", "35060126", "--no", "1", "--paper-code", "35062601", "--paper-no", "1")
	paper := newestPDF(t, prints)
	tpl, _ := printing.LoadTemplate("outpatient")
	var payer printing.TemplateField
	for _, f := range tpl.Fields {
		if f.Field == "payer" {
			payer = f
		}
	}
	x, y := wordAt(t, paper, "张三")
	if math.Abs(x-(payer.X-2)) > 0.5 || math.Abs(y-(payer.Y+1)) > 0.5 {
		t.Fatalf("payer printed at (%.2f, %.2f) mm, template (%.1f, %.1f) with offset (-2, +1)", x, y, payer.X, payer.Y)
	}
	must("0000000002", "paper", "current")

	// A print that fails records nothing: the paper stays blank and current.
	must("", "issue", "-f", "../../examples/registration.json")
	_, errOut, code := ebill(t, "--data", d, "paper", "convert", "--busno", "GH202611250001", "--paper-code", "35062601", "--paper-no", "2",
		"--printer", "pdf:/proc/no-such-dir")
	if code == 0 || !strings.Contains(errOut, "无法") {
		t.Fatalf("print to an impossible place: %d %s", code, errOut)
	}
	must("0000000002", "paper", "current")
	must("未打印，仅登记", "paper", "convert", "--busno", "GH202611250001", "--paper-code", "35062601", "--paper-no", "2", "--no-print")
	must("0000000003", "paper", "current")
}
