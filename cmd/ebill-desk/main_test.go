package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestNoDisplaySaysSo (issues 19, 20): the desk started where no window
// can open does not panic with a Go stack trace: it says so in Chinese,
// on standard error and in desk.log, and exits non-zero.
func TestNoDisplaySaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desk")
	}
	bin := deskBinary(t)
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

// TestDisplayThatCannotOpen: with DISPLAY naming a display that is not
// there (or, on Windows, no OpenGL) the graphics library panics; the desk
// says the window cannot open and what to check, not 程序内部错误.
func TestDisplayThatCannotOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desk")
	}
	bin := deskBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "--data", data)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8", "DISPLAY=:4242"}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), "无法打开程序窗口") || strings.Contains(string(out), "程序内部错误") {
		t.Fatalf("with a display that cannot open: %v\n%s", err, out)
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// deskBinary builds ebill-desk once for the package's tests.
func deskBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ebill-desk-test")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "ebill-desk")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
