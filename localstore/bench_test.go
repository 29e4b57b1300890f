package localstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebill/ebill/bill"
)

// BenchmarkIssue profiles the issuing transaction (make bench runs the
// comparison with its baseline: cmd/ebill-bench).
func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Init(ctx, InitParams{PlaceCode: "P01"}); err != nil {
		b.Fatal(err)
	}
	if err := s.SetupDemo(ctx, 2026); err != nil {
		b.Fatal(err)
	}
	if err := s.SetLimits(ctx, bill.Limits{}, "bench"); err != nil {
		b.Fatal(err)
	}
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
