package cli

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/ebill/ebill/bill"
)

func TestFinish(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		json bool
		out  string
	}{
		{nil, ExitOK, false, ""},
		{ErrUsage, ExitUsage, false, ""},
		{bill.FieldErrorf("totalAmt", "金额最多两位小数"), ExitInvalid, true, `"field": "totalAmt"`},
		{bill.Errorf(bill.EAlreadyReversed, "已冲销"), ExitConflict, false, ""},
		{bill.Errorf(bill.ELimit, "已停止开票"), ExitBlocked, false, ""},
		{bill.Errorf(bill.ETampered, "校验未通过"), ExitTampered, false, ""},
		{bill.Errorf(bill.EUnavailable, "无法连接服务器"), ExitDenied, false, ""},
		{errors.New("disk on fire"), ExitInternal, false, ""},
		{Reported{Err: bill.Errorf(bill.EConflict, "x")}, ExitConflict, true, ""}, // already printed: no second JSON document
	} {
		var out, errOut bytes.Buffer
		o := &Out{Prog: "t", JSON: tc.json, Stdout: &out, Stderr: &errOut, Log: discard()}
		if got := o.Finish(tc.err); got != tc.code {
			t.Errorf("Finish(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if tc.out != "" && !strings.Contains(out.String(), tc.out) {
			t.Errorf("Finish(%v) printed %q", tc.err, out.String())
		}
		if _, ok := tc.err.(Reported); ok && out.Len() != 0 {
			t.Errorf("a reported error was printed again: %q", out.String())
		}
		if tc.err != nil && !errors.Is(tc.err, ErrUsage) && !strings.HasPrefix(errOut.String(), "错误：") {
			t.Errorf("stderr %q", errOut.String())
		}
	}
}

func TestParsePositional(t *testing.T) {
	o := &Out{Prog: "t", Stderr: &bytes.Buffer{}}
	fs := o.Flags("point add", "编码 --name 名称")
	name := fs.String("name", "", "")
	pos, err := o.Parse(fs, []string{"P01", "--name", "窗口"}, true)
	if err != nil || pos != "P01" || *name != "窗口" {
		t.Fatalf("leading positional: %q %q %v", pos, *name, err)
	}
	fs = o.Flags("point add", "")
	fs.String("name", "", "")
	if pos, err = o.Parse(fs, []string{"--name", "x", "P02"}, true); err != nil || pos != "P02" {
		t.Fatalf("trailing positional: %q %v", pos, err)
	}
	fs = o.Flags("x", "")
	if _, err = o.Parse(fs, []string{"extra"}, false); !errors.Is(err, ErrUsage) {
		t.Fatalf("stray argument: %v", err)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestNumberFlags: numbers are decimal text whatever their leading zeros
// (Go's own flags read 0001000000 as octal 262,144 and refuse 0000000008).
func TestNumberFlags(t *testing.T) {
	o := &Out{Prog: "t", Stdout: io.Discard, Stderr: io.Discard, Log: discard()}
	fs := o.Flags("x", "")
	from, to := BillNo(fs, "from", ""), BillNo(fs, "to", "")
	count := Int64(fs, "count", 0, 1, "")
	limit := Int(fs, "limit", 100, 1, "")
	if _, err := o.Parse(fs, []string{"--from", "0000000008", "--to", "0001000000", "--count", "0100"}, false); err != nil {
		t.Fatal(err)
	}
	if *from != 8 || *to != 1000000 || *count != 100 || *limit != 100 {
		t.Fatalf("from %d to %d count %d limit %d", *from, *to, *count, *limit)
	}
	for _, args := range [][]string{{"--from", "0x10"}, {"--from", "12345678901"}, {"--count", "0"}, {"--limit", "1e3"}, {"--from", "0"}} {
		fs := o.Flags("x", "")
		BillNo(fs, "from", "")
		Int64(fs, "count", 0, 1, "")
		Int(fs, "limit", 100, 1, "")
		_, err := o.Parse(fs, args, false)
		if bill.ErrorCode(err) != bill.EInvalid || !strings.Contains(bill.ErrorMessage(err), "参数 "+args[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
}
