package printing

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
)

var runtimeWindows = runtime.GOOS == "windows"

// TestMain fails the run when a test leaves a file in the package
// directory: printing/-.png was committed by accident, written there by a
// debugging helper (writePNG, since removed) that was given a relative
// path. Tests write under t.TempDir().
func TestMain(m *testing.M) {
	before := listDir(".")
	code := m.Run()
	for _, name := range listDir(".") {
		if !slices.Contains(before, name) {
			fmt.Fprintf(os.Stderr, "a test left %q in the printing package directory; write under t.TempDir()\n", name)
			code = 1
		}
	}
	os.Exit(code)
}

func listDir(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
