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

// TestNoWindowSaysWhy (issues 19, 20, 21): the desk started where no
// window can open does not panic with a Go stack trace or say 程序内部错误:
// it says why in Chinese, on standard error and in desk.log, and exits
// non-zero — with no display at all, and with DISPLAY naming one that is
// not there (where the graphics library panics, as it does on Windows
// without OpenGL).
func TestNoWindowSaysWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desk")
	}
	bin := deskBinary(t)
	for _, c := range []struct{ display, want string }{{"", "没有图形显示"}, {":4242", "无法打开程序窗口"}} {
		data := filepath.Join(t.TempDir(), "data")
		cmd := exec.Command(bin, "--data", data)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
		if c.display != "" {
			cmd.Env = append(cmd.Env, "DISPLAY="+c.display)
		}
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), c.want) || strings.Contains(string(out), "goroutine") ||
			strings.Contains(string(out), "程序内部错误") {
			t.Fatalf("DISPLAY=%q: %v\n%s", c.display, err, out)
		}
		if log, _ := os.ReadFile(filepath.Join(data, "desk.log")); !strings.Contains(string(log), c.want) {
			t.Fatalf("DISPLAY=%q: desk.log:\n%s", c.display, log)
		}
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
