package web_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ebill/ebill/server"
)

// TestConsoleInspection (巡检报告, 运维日志): the system administrator runs an
// inspection in the browser; the report marks the never-made backup 异常;
// what was done is logged against the report; the report's PDF, read back
// with pdftotext, says the same; the 工作台 shows the anomaly.
func TestConsoleInspection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := newConsole(t)
	once := addPerson(t, c, "it", "李运维", server.RoleSysAdmin)
	b := browser(t)
	secret := firstSignIn(t, b, c, "it", once, "Yun#Wei2026ok")
	if menu := text(t, b, "#menu"); !strings.Contains(menu, "巡检报告与运维日志") {
		t.Fatalf("the menu: %q", menu)
	}
	do(t, b, chromedp.Navigate(c.url+"/admin/inspections"), chromedp.WaitVisible(chromedp.CSS("#inspect-now")),
		submit("#inspect-now", "#inspection-items"))
	items := text(t, b, "#inspection-items")
	if !strings.Contains(items, "数据备份\t异常\t从未备份") && !strings.Contains(items, "数据备份 异常 从未备份") {
		t.Fatalf("the report: %q", items)
	}
	if !strings.Contains(items, "审计日志完整性") || !strings.Contains(text(t, b, "#anomalies"), "项异常") {
		t.Fatalf("the report: %q", items)
	}
	do(t, b, chromedp.SendKeys(chromedp.CSS("#mt-what"), "已执行 ebill-server backup，并加入每日计划任务"),
		chromedp.SetValue(chromedp.CSS("#mt-kind"), "fix"), press("#mt-submit"))
	if log := text(t, b, "#report-log"); !strings.Contains(log, "每日计划任务") || !strings.Contains(log, "故障处理") {
		t.Fatalf("the report's log: %q", log)
	}
	href, err := chromedp.Run(b, chromedp.Evaluate[string]("document.getElementById('inspection-pdf').href"))
	if err != nil {
		t.Fatal(err)
	}
	client := signedInClient(t, c, "it", "Yun#Wei2026ok", secret)
	file := filepath.Join(t.TempDir(), "inspection.pdf")
	os.WriteFile(file, fetch(t, client, href), 0o600)
	out, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pdf := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"系统巡检报告", "数据备份 异常 从未备份", "审计日志完整性 正常", "每日计划任务"} {
		if !strings.Contains(pdf, want) {
			t.Fatalf("the PDF lacks %q:\n%s", want, out)
		}
	}
	do(t, b, chromedp.Navigate(c.url+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#inspection-card")))
	if card := text(t, b, "#inspection-card"); !strings.Contains(card, "项异常") || !strings.Contains(card, "数据备份") {
		t.Fatalf("the dashboard: %q", card)
	}
}
