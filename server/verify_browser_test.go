package server_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/server"
)

// chromiumDOM opens url in headless Chromium (Debian's chromium, installed
// by make test) and returns the page's DOM after it loaded.
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (make test installs Debian's chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--window-size=390,844", "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

func TestVerificationPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, _, c := hisServer(t, s)
		_, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "BROWSER-1"))
		var issued map[string]string
		json.Unmarshal(msg, &issued)
		dom := chromiumDOM(t, issued["pictureUrl"]) // what the phone opens from the QR code
		if !strings.Contains(dom, issued["billNo"]) || !strings.Contains(dom, `id="state">正常<`) || !strings.Contains(dom, `>下载 OFD（版式文件）</a>`) {
			t.Fatalf("the verification page in Chromium:\n%s", dom)
		}
		wrong := strings.Replace(issued["pictureUrl"], "k="+issued["random"], "k=ffffff", 1)
		if dom := chromiumDOM(t, wrong); !strings.Contains(dom, "查无此票") || strings.Contains(dom, issued["billNo"]) {
			t.Fatalf("a wrong check code in Chromium:\n%s", dom)
		}
	})
}
