package server

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

// TestAddRowsLockOrder: figures are written in key order whatever order
// they come in, so that two uploads adding to the same rows (the '*'
// rollups of bill_trend every point shares) lock them in the same order.
// In map order, 32 HIS clients deadlocked: 42 bills/s, p99 6 s.
func TestAddRowsLockOrder(t *testing.T) {
	var got []any
	exec := func(_ context.Context, _ string, args ...any) (sql.Result, error) {
		got = append(got, args...)
		return nil, nil
	}
	rows := [][]any{{"P02", "*", int64(5), int64(1)}, {"*", "*", int64(5), int64(1)}, {"P01", "outpatient", int64(4), int64(1)},
		{"*", "outpatient", int64(5), int64(1)}, {"P01", "*", int64(3), int64(1)}}
	if err := addRows(context.Background(), exec, "bill_trend", []string{"point_code", "kind", "hour"}, []string{"bills"}, rows); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < len(got); i += 4 {
		keys = append(keys, got[i].(string)+"/"+got[i+1].(string))
	}
	if want := []string{"*/*", "*/outpatient", "P01/*", "P01/outpatient", "P02/*"}; !slices.Equal(keys, want) {
		t.Fatalf("written in the order %v, want %v", keys, want)
	}
}
