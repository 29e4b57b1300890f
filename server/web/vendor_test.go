package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestVendoredFiles: the front-end libraries served at
// /admin/static/vendor are the ones scripts/vendor.sh checked (a file
// swapped in the repository fails here), and their licences ship with them.
func TestVendoredFiles(t *testing.T) {
	sums, err := staticFS.ReadFile("static/vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(sums)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		data, err := staticFS.ReadFile("static/vendor/" + f[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s does not match its recorded SHA-256", f[1])
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d vendored files checked, want htmx and ECharts", n)
	}
	for _, lic := range []string{"htmx.org.LICENSE", "echarts.LICENSE", "echarts.NOTICE"} {
		if _, err := staticFS.ReadFile("static/vendor/" + lic); err != nil {
			t.Errorf("no %s", lic)
		}
	}
}
