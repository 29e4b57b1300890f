package printing

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/browsertest"
	"github.com/ebill/ebill/internal/ofdcheck"
)

// ofdJSVersion is the independent OFD renderer the tests use, pinned
// (ofd.md §10.3: later versions are a different package).
const ofdJSVersion = "0.2.6"

// ofdJS is ofd.js's browser bundle: fetched by scripts/deps.sh into
// .cache, or here with npm when it is not there yet.
func ofdJS(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join("..", ".cache", "ofd.js-"+ofdJSVersion)
	file := filepath.Join(dir, "package", "lib", "ofd.umd.min.js")
	if _, err := os.Stat(file); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", "npm pack --silent ofd.js@"+ofdJSVersion+" && tar xzf ofd.js-"+ofdJSVersion+".tgz")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("fetching ofd.js %s with npm (make test does it): %v\n%s", ofdJSVersion, err, out)
		}
	}
	js, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

const ofdPage = `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fff"><div id="out"></div>
<script src="/ofd.js"></script>
<script>
window.done = "";
ofd.parseOfdDocument({
  ofd: "/bill.ofd",
  success(res) {
    try {
      for (const d of ofd.renderOfd(1000, res[0])) document.getElementById("out").appendChild(d);
      window.done = "ok";
    } catch (e) { window.done = "render: " + e + " " + (e.stack || ""); }
  },
  fail(e) { window.done = "parse: " + e; }
});
</script>`

// TestOFDInIndependentRenderer (issue 21): ofd.js, a renderer we did not
// write, opens the bill's OFD in headless Chromium and draws page 1 with
// the bill's text — code, number, check code, payer, amounts — where the
// same bill's PDF has it.
func TestOFDInIndependentRenderer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	js := ofdJS(t)
	f := testFont(t)
	b := sampleBill(t)
	data, err := BillOFD(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(ofdPage))
	})
	mux.HandleFunc("/ofd.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	mux.HandleFunc("/bill.ofd", func(w http.ResponseWriter, r *http.Request) { w.Write(data) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.Start(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	var done string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && done == ""; time.Sleep(100 * time.Millisecond) {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		done, _ = chromedp.Run(tctx, chromedp.Evaluate[string]("window.done"))
		cancel()
	}
	if done != "ok" {
		t.Fatalf("ofd.js %s did not render the OFD: %q", ofdJSVersion, done)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.getElementById('out').textContent"))
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(text), "")
	for _, want := range []string{"票据代码：", b.BillCode, b.BillNo, "a1b2c3", "张三", "¥123.45", "壹佰贰拾叁元肆角伍分", "诊察费"} {
		if !strings.Contains(flat, want) {
			t.Errorf("ofd.js drew no %q; it drew %q", want, flat)
		}
	}
	checkOFDJSPositions(t, ctx, data, f, b)
	if dir := os.Getenv("EBILL_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#out")))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ofd-face-ofdjs.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		pdf, err := PDF(Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f), f, PDFOptions{Created: b.IssuedTime()})
		if err != nil {
			t.Fatal(err)
		}
		pdfFile := writeTemp(t, "face.pdf", pdf)
		run(t, nil, "pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", "-singlefile", pdfFile, filepath.Join(dir, "ofd-face-pdf"))
	}
}

// ofdJSDrawn reads what ofd.js drew on page 1: one entry per TextObject (an
// <svg> at the object's Boundary holding a <text> per glyph), positions in
// CSS pixels from the page's corner.
const ofdJSDrawn = `(() => {
  const page = document.querySelector('#out > div'), p = page.getBoundingClientRect();
  const out = {width: p.width, texts: []};
  for (const svg of page.querySelectorAll('svg')) {
    const glyphs = svg.querySelectorAll('text');
    if (!glyphs.length) continue;
    const r = svg.getBoundingClientRect(), o = {text: "", x: [], y: 0, size: 0};
    for (const g of glyphs) {
      o.text += g.textContent;
      o.x.push(r.left - p.left + parseFloat(g.getAttribute('x')));
      o.y = r.top - p.top + parseFloat(g.getAttribute('y'));
      o.size = parseFloat(g.style.fontSize);
    }
    out.texts.push(o);
  }
  return JSON.stringify(out);
})()`

// checkOFDJSPositions: every text ofd.js drew lies within 0.5 mm of where
// the PDF of the same bill has it, and every glyph within 0.1 mm of where
// the OFD's Boundary, TextCode X and DeltaX put it (ofd.js is known to
// ignore DeltaX in some cases: ofd.md §12).
func checkOFDJSPositions(t *testing.T, ctx context.Context, data []byte, f *Font, b *bill.Bill) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](ofdJSDrawn))
	if err != nil {
		t.Fatal(err)
	}
	var drawn struct {
		Width float64
		Texts []struct {
			Text    string
			X       []float64
			Y, Size float64
		}
	}
	if err := json.Unmarshal([]byte(raw), &drawn); err != nil {
		t.Fatal(err)
	}
	p := ofdcheck.Must(t, data)
	scale := drawn.Width / faceWidthMM(t, p) // CSS px per mm
	var texts []ofdcheck.Text
	glyphs := map[string][][2]float64{} // a glyph → where ofd.js drew it, mm
	for _, d := range drawn.Texts {
		texts = append(texts, ofdcheck.Text{Text: d.Text, X: d.X[0] / scale, Y: d.Y / scale, FontSize: d.Size / scale})
		for i, r := range []rune(d.Text) {
			if i < len(d.X) {
				glyphs[string(r)] = append(glyphs[string(r)], [2]float64{d.X[i] / scale, d.Y / scale})
			}
		}
	}
	if len(texts) != len(p.Texts) {
		t.Errorf("ofd.js drew %d texts on page 1; the OFD has %d", len(texts), len(p.Texts))
	}
	pdf, err := PDF(Face(BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: "https://pj.example.cn/v"}, f), f, PDFOptions{Created: b.IssuedTime()})
	if err != nil {
		t.Fatal(err)
	}
	const tol, glyphTol = 0.5, 0.1
	if n := matchPDF(t, "ofd.js", texts, bboxWords(t, pdf), f, tol); n != len(p.Texts) {
		t.Errorf("%d of the OFD's %d texts drawn by ofd.js where the PDF has them", n, len(p.Texts))
	}
	placed, all := 0, 0
	for _, tx := range p.Texts {
		x := tx.X
		for i, r := range []rune(tx.Text) {
			if i > 0 && i-1 < len(tx.DeltaX) {
				x += tx.DeltaX[i-1]
			}
			all++
			for _, g := range glyphs[string(r)] {
				if math.Hypot(g[0]-x, g[1]-tx.Y) <= glyphTol {
					placed++
					break
				}
			}
		}
	}
	if placed != all {
		t.Errorf("ofd.js placed %d of %d glyphs where the OFD's DeltaX puts them", placed, all)
	}
	t.Logf("ofd.js %s: %d texts within %.1f mm of the PDF's, %d of %d glyphs within %.1f mm of the OFD's", ofdJSVersion,
		len(texts), tol, placed, all, glyphTol)
}

// faceWidthMM is the width of the OFD's page area (Document.xml
// PhysicalBox).
func faceWidthMM(t *testing.T, p *ofdcheck.Package) float64 {
	t.Helper()
	m := regexp.MustCompile(`<ofd:PhysicalBox>0 0 ([0-9.]+) [0-9.]+</ofd:PhysicalBox>`).FindSubmatch(p.Files["Doc_0/Document.xml"])
	if m == nil {
		t.Fatalf("no PhysicalBox in %s", p.Files["Doc_0/Document.xml"])
	}
	w, _ := strconv.ParseFloat(string(m[1]), 64)
	return w
}
