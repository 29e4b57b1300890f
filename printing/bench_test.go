package printing

import "testing"

func BenchmarkFacePDF(b *testing.B) {
	f := testFont(b)
	bl := sampleBill(b)
	info := BillInfo{Bill: bl, CheckCode: "a1b2c3", VerifyURL: "https://pj.example-hospital.cn/v?a=123.45&c=35060126&d=20261125&k=a1b2c3&n=0000000123&s=0a1b2c3d"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PDF(Face(info, f), f, PDFOptions{Created: bl.IssuedTime()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFacePDFParallel(b *testing.B) {
	f := testFont(b)
	bl := sampleBill(b)
	info := BillInfo{Bill: bl, CheckCode: "a1b2c3", VerifyURL: "https://pj.example-hospital.cn/v?a=123.45&c=35060126&d=20261125&k=a1b2c3&n=0000000123&s=0a1b2c3d"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := PDF(Face(info, f), f, PDFOptions{Created: bl.IssuedTime()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
