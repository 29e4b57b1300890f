package printing

import (
	"image"
	"image/png"
	"os"
	"runtime"
	"testing"
)

func writePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, img); err != nil {
		t.Fatal(err)
	}
}

var runtimeWindows = runtime.GOOS == "windows"
