package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
)

// benchPDF measures e-bill PDFs per second on one core (GOMAXPROCS=1, one
// goroutine), with the font parsed once, against fpdf's default of parsing
// the whole font for every document, in alternating rounds; then on every
// core.
func benchPDF(n, rounds int, example string) error {
	raw, err := os.ReadFile(example)
	if err != nil {
		return err
	}
	s, err := bill.ParseSettlement(raw)
	if err != nil {
		return err
	}
	s.Normalize()
	b := &bill.Bill{V: 1, ID: "0193a4b2-0000-7000-8000-000000000001", Kind: bill.Outpatient, BillCode: "35060126",
		BillNo: "0000000123", PlaceCode: "P01", IssuedAt: "2026-11-25T01:30:15.123Z", Seq: 123,
		UnitName: "厦门市海沧区第一医院", UnitCode: "12350205MB0123456X", Settlement: *s}
	ref := bill.NewVerifyRef(b, "a1b2c3", []byte("signature"))
	f, err := printing.DefaultFont()
	if err != nil {
		return err
	}
	info := printing.BillInfo{Bill: b, CheckCode: "a1b2c3", VerifyURL: ref.URL("https://pj.example-hospital.cn")}

	prev := runtime.GOMAXPROCS(1)
	one := func(opt printing.PDFOptions) (time.Duration, int, error) {
		start := time.Now()
		out, err := printing.PDF(printing.Face(info, f), f, opt)
		return time.Since(start), len(out), err
	}
	oneOFD := func() (time.Duration, int, error) {
		start := time.Now()
		out, err := printing.BillOFD(info, f)
		return time.Since(start), len(out), err
	}
	var base, ours, ofds []time.Duration
	var baseSize, ourSize, ofdSize int
	var baseTime, ourTime, ofdTime time.Duration
	baseN := max(n/10, 20) // the baseline is slow; fewer documents say as much
	for r := 0; r < rounds; r++ {
		for i := 0; i < baseN; i++ {
			d, size, err := one(printing.PDFOptions{WholeFont: true, Created: b.IssuedTime()})
			if err != nil {
				return err
			}
			base, baseSize, baseTime = append(base, d), size, baseTime+d
		}
		for i := 0; i < n; i++ {
			d, size, err := one(printing.PDFOptions{Created: b.IssuedTime()})
			if err != nil {
				return err
			}
			ours, ourSize, ourTime = append(ours, d), size, ourTime+d
		}
		for i := 0; i < n; i++ { // the same bill as OFD (issue 21), in the same run
			d, size, err := oneOFD()
			if err != nil {
				return err
			}
			ofds, ofdSize, ofdTime = append(ofds, d), size, ofdTime+d
		}
	}
	runtime.GOMAXPROCS(prev)

	// Every core: one goroutine per core, font shared.
	cores := runtime.NumCPU()
	per := n * rounds / cores
	start := time.Now()
	errs := make(chan error, cores)
	for c := 0; c < cores; c++ {
		go func() {
			for i := 0; i < per; i++ {
				if _, err := printing.PDF(printing.Face(info, f), f, printing.PDFOptions{Created: b.IssuedTime()}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for c := 0; c < cores; c++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	all := time.Since(start)

	rate := func(ds []time.Duration, total time.Duration) float64 { return float64(len(ds)) / total.Seconds() }
	pct := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
	}
	fmt.Printf("e-bill PDF and OFD (face + detail list, %d pages), one core (GOMAXPROCS=1)\n", len(printing.Face(info, f).Pages))
	fmt.Printf("%-44s %8s %9s %9s %9s\n", "case", "PDFs/s", "p50 ms", "p99 ms", "size KB")
	fmt.Printf("%-44s %8.0f %9.2f %9.2f %9.1f\n", "fpdf, whole font parsed per PDF (baseline)", rate(base, baseTime), pct(base, .5), pct(base, .99), float64(baseSize)/1024)
	fmt.Printf("%-44s %8.0f %9.2f %9.2f %9.1f\n", "printing.PDF, font parsed once, subset", rate(ours, ourTime), pct(ours, .5), pct(ours, .99), float64(ourSize)/1024)
	fmt.Printf("%-44s %8.0f %9.2f %9.2f %9.1f\n", "printing.BillOFD, the same bill as OFD", rate(ofds, ofdTime), pct(ofds, .5), pct(ofds, .99), float64(ofdSize)/1024)
	perCore := rate(ours, ourTime)
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	fmt.Printf("speed-up over baseline: %.1f×\n", perCore/rate(base, baseTime))
	fmt.Printf("PDFs/s per core: %.0f          target ≥ 200: %s\n", perCore, verdict(perCore >= 200))
	fmt.Printf("PDF size: %.1f KB             target ≤ 150 KB: %s\n", float64(ourSize)/1024, verdict(ourSize <= 150<<10))
	fmt.Printf("all %d cores: %.0f PDFs/s\n", cores, float64(per*cores)/all.Seconds())
	return nil
}
