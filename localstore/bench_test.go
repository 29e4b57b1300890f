package localstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebill/ebill/bill"
)

func BenchmarkIssue(b *testing.B) {
	t := &testing.T{}
	_ = t
	dir := b.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Init(ctx, InitParams{PlaceCode: "P01"})
	s.SetupDemo(ctx, 2026)
	s.SetLimits(ctx, bill.Limits{}, "bench")
	sets := make([]*bill.Settlement, b.N)
	for i := range sets {
		sets[i] = example(b, "outpatient.json")
		sets[i].BusNo = bill.Text(fmt.Sprintf("B%08d", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Issue(ctx, bill.Outpatient, sets[i]); err != nil {
			b.Fatal(err)
		}
	}
}
