package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoDisplaySaysSo (issues 19, 20): the desk started where no window
// can open does not panic with a Go stack trace: it says so in Chinese,
// on standard error and in desk.log, and exits non-zero.
func TestNoDisplaySaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desk")
	}
	bin := filepath.Join(t.TempDir(), "ebill-desk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "--data", data)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), "没有图形显示") || strings.Contains(string(out), "goroutine") {
		t.Fatalf("without a display: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(filepath.Join(data, "desk.log"))
	if !strings.Contains(string(log), "没有图形显示") {
		t.Fatalf("desk.log:\n%s", log)
	}
}
