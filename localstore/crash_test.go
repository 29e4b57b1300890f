package localstore

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
)

// The helper process: when EBILL_HELPER_DIR is set, the test binary issues
// registration bills into that station until killed (or COUNT are done),
// printing "ACK busNo code no" after each commit returns.
func TestMain(m *testing.M) {
	if dir := os.Getenv("EBILL_HELPER_DIR"); dir != "" {
		os.Exit(helperIssue(dir, os.Getenv("EBILL_HELPER_PREFIX"), os.Getenv("EBILL_HELPER_COUNT")))
	}
	os.Exit(m.Run())
}

func helperIssue(dir, prefix, countText string) int {
	count, _ := strconv.Atoi(countText)
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		fmt.Printf("ERR open: %v\n", err)
		return 1
	}
	defer s.Close()
	raw, err := os.ReadFile("../examples/registration.json")
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		return 1
	}
	for i := 0; count == 0 || i < count; i++ {
		set, _ := bill.ParseSettlement(raw)
		set.BusNo = bill.Text(fmt.Sprintf("%s%d", prefix, i))
		res, err := s.Issue(ctx, bill.Registration, set)
		if err != nil {
			fmt.Printf("ERR %s: %v\n", set.BusNo, err)
			return 1
		}
		fmt.Printf("ACK %s %s %d\n", set.BusNo, res.Bill.BillCode, res.Bill.BillNo)
	}
	return 0
}

// startHelper runs the helper and collects its ACK and ERR lines.
func startHelper(t *testing.T, dir, prefix string, count int) (*exec.Cmd, func() (acks, errs []string)) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EBILL_HELPER_DIR="+dir, "EBILL_HELPER_PREFIX="+prefix, "EBILL_HELPER_COUNT="+strconv.Itoa(count))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks, errs []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "ACK "):
				acks = append(acks, strings.TrimPrefix(line, "ACK "))
			case strings.HasPrefix(line, "ERR "):
				errs = append(errs, line)
			}
		}
	}()
	return cmd, func() ([]string, []string) { wg.Wait(); return acks, errs }
}

// checkContiguous asserts that the registration bills are numbered exactly
// 1..n with no hole and no duplicate, that each acknowledged bill is there
// with its acknowledged number, and that verify passes.
func checkContiguous(t *testing.T, dir string, acks []string) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, a := range acks {
		f := strings.Fields(a)
		b, err := s.BillByBusNo(ctx, f[0])
		if err != nil {
			t.Fatalf("acknowledged bill %s lost: %v", a, err)
		}
		if b.BillCode != f[1] || strconv.FormatInt(b.BillNo, 10) != f[2] {
			t.Fatalf("acknowledged %s, stored as %s %d", a, b.BillCode, b.BillNo)
		}
	}
	rows, err := s.read.Query("SELECT bill_no FROM bills WHERE bill_code = '35060126' ORDER BY bill_no")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := int64(1)
	for rows.Next() {
		var no int64
		rows.Scan(&no)
		if no != want {
			t.Fatalf("numbers not contiguous: got %d, want %d", no, want)
		}
		want++
	}
	stock, _ := s.Stock(ctx)
	if stock[0].Next != want {
		t.Fatalf("segment next %d, bills end at %d", stock[0].Next, want-1)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after crashes: %v %+v", err, rep)
	}
	t.Logf("%d bills, %d acknowledged, numbers 1..%d contiguous, chain verified", rep.Bills, len(acks), want-1)
}

func newHelperStation(t *testing.T) string {
	s, dir := newDemoStore(t)
	if err := s.SetLimits(context.Background(), bill.Limits{}, "test"); err != nil { // no offline limits
		t.Fatal(err)
	}
	s.Close()
	return dir
}

func TestCrashLosesNoAcknowledgedBill(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := newHelperStation(t)
	var all []string
	const kills = 25
	for round := 0; round < kills; round++ {
		cmd, collect := startHelper(t, dir, fmt.Sprintf("K%02d-", round), 0)
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		acks, errs := collect()
		if len(errs) > 0 {
			t.Fatalf("round %d: helper failed: %v", round, errs)
		}
		all = append(all, acks...)
	}
	if len(all) < kills {
		t.Fatalf("only %d bills acknowledged in %d rounds: the helper barely ran", len(all), kills)
	}
	checkContiguous(t, dir, all)
}

func TestTwoProcessesIssueAtOnce(t *testing.T) {
	dir := newHelperStation(t)
	const each = 300
	a, collectA := startHelper(t, dir, "A-", each)
	b, collectB := startHelper(t, dir, "B-", each)
	errA, errB := a.Wait(), b.Wait()
	acksA, errsA := collectA()
	acksB, errsB := collectB()
	if errA != nil || errB != nil || len(errsA)+len(errsB) > 0 {
		t.Fatalf("helpers failed: %v %v %v %v", errA, errB, errsA, errsB)
	}
	if len(acksA) != each || len(acksB) != each {
		t.Fatalf("acknowledged %d + %d, want %d each", len(acksA), len(acksB), each)
	}
	seen := map[string]bool{}
	for _, ack := range append(acksA, acksB...) {
		no := strings.Fields(ack)[2]
		if seen[no] {
			t.Fatalf("number %s issued twice", no)
		}
		seen[no] = true
	}
	checkContiguous(t, dir, append(acksA, acksB...))
}
