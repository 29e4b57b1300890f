package server_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	gosync "sync"
	"testing"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// TestMain doubles as the allocation helper process: with
// EBILL_ALLOC_DSN set, it runs 16 goroutines allocating segments through
// its own Store on that database, prints each, and exits.
func TestMain(m *testing.M) {
	if dsn := os.Getenv("EBILL_ALLOC_DSN"); dsn != "" {
		os.Exit(allocHelper(dsn, os.Getenv("EBILL_ALLOC_NAME")))
	}
	os.Exit(m.Run())
}

const (
	raceGoroutines = 16
	racePerWorker  = 10
)

func allocHelper(dsn, name string) int {
	ctx := context.Background()
	s, err := server.OpenStore(ctx, dsn, "")
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	defer s.Close()
	var wg gosync.WaitGroup
	var mu gosync.Mutex
	failed := false
	for g := 0; g < raceGoroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < racePerWorker; i++ {
				point := fmt.Sprintf("P%02d", (g+i)%4)
				seg, err := s.Allocate(ctx, point, outCode, fmt.Sprintf("%s-%d-%d", name, g, i))
				mu.Lock()
				if err != nil {
					fmt.Println("ERR", err)
					failed = true
				} else {
					fmt.Println("SEG", seg.Start, seg.End)
				}
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	if failed {
		return 1
	}
	return 0
}

// TestAllocationRace: two processes × 16 goroutines allocate from one
// PostgreSQL at once; afterwards no two segments share a number, and every
// segment a process was given is in the database.
func TestAllocationRace(t *testing.T) {
	dsn := pgDSN(t)
	if dsn == "" {
		t.Skip("EBILL_TEST_PG not set")
	}
	ctx := context.Background()
	s, err := server.OpenStore(ctx, dsn, "")
	must(t, err)
	defer s.Close()
	must(t, s.SetBillKind(ctx, bill.Outpatient, outCode))
	_, err = s.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: outCode, Start: 1, End: 10_000_000})
	must(t, err)
	for i := 0; i < 4; i++ {
		must(t, s.AddPoint(ctx, fmt.Sprintf("P%02d", i), "窗口", server.PointStation))
		st := wire.DefaultSettings
		st.MaxHeld = 10_000_000 // this test races allocations, not the cap
		must(t, s.SetPointSettings(ctx, fmt.Sprintf("P%02d", i), st))
	}
	type result struct {
		segs [][2]int64
		errs []string
		err  error
	}
	results := make([]result, 2)
	var wg gosync.WaitGroup
	for p := 0; p < 2; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "EBILL_ALLOC_DSN="+dsn, fmt.Sprintf("EBILL_ALLOC_NAME=proc%d", p))
			out, err := cmd.StdoutPipe()
			if err != nil {
				results[p].err = err
				return
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				results[p].err = err
				return
			}
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				switch {
				case len(f) == 3 && f[0] == "SEG":
					a, _ := strconv.ParseInt(f[1], 10, 64)
					b, _ := strconv.ParseInt(f[2], 10, 64)
					results[p].segs = append(results[p].segs, [2]int64{a, b})
				case len(f) > 0 && f[0] == "ERR":
					results[p].errs = append(results[p].errs, sc.Text())
				}
			}
			results[p].err = cmd.Wait()
		}(p)
	}
	wg.Wait()
	var all [][2]int64
	for p, r := range results {
		if r.err != nil || len(r.errs) > 0 {
			t.Fatalf("process %d: %v %v", p, r.err, r.errs)
		}
		all = append(all, r.segs...)
	}
	want := 2 * raceGoroutines * racePerWorker
	if len(all) != want {
		t.Fatalf("%d segments handed out, want %d", len(all), want)
	}
	segs, err := s.Segments(ctx, "")
	must(t, err)
	if len(segs) != want {
		t.Fatalf("database holds %d segments, want %d", len(segs), want)
	}
	var overlaps int
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			if segs[i].Start <= segs[j].End && segs[j].Start <= segs[i].End {
				overlaps++
			}
		}
	}
	if overlaps > 0 {
		t.Fatalf("%d overlapping segment pairs", overlaps)
	}
	stock, _ := s.Stock(ctx)
	if stock[0].Allocated != int64(want)*1000 {
		t.Fatalf("stock pointer moved %d, segments hold %d", stock[0].Allocated, want*1000)
	}
	t.Logf("%d segments from 2 processes × %d goroutines, none overlapping", len(segs), raceGoroutines)
}
