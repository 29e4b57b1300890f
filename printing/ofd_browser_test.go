package printing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/internal/browsertest"
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
// the bill's text: code, number, check code, payer, amounts.
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
