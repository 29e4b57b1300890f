package wire

import "testing"

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"0.19.326", "0.19.326", 0},
		{"0.19.326+c3ed5a4", "0.19.326", 0},
		{"0.19.99", "0.19.326", -1},
		{"0.20", "0.19.999", 1},
		{"v0.19.400", "0.19.326", 1},
		{"0.19", "0.19.0", -1},
		{"dev", "0.19.1", -1},
		{"", "0.0.1", -1},
		{"c3ed5a4-dirty", "0.1", -1},
		{"1.0.0", "dev", 1},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
