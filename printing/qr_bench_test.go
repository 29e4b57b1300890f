package printing

import "testing"

func BenchmarkQRPNG(b *testing.B) {
	url := "https://pj.example-hospital.cn/v?a=123.45&c=35060126&d=20261125&k=a1b2c3&n=0000000001&s=0a1b2c3d"
	for b.Loop() {
		if _, err := QRPNG(url, 240); err != nil {
			b.Fatal(err)
		}
	}
}
