package cli

import (
	"flag"
	"strconv"
	"strings"

	"github.com/ebill/ebill/bill"
)

// Numbers on the command line are decimal text, always: Go's own integer
// flags read a leading 0 as octal (--from 0000000001 --to 0001000000 was
// 262,144 numbers, and --from 0000000008 an error). Bill and paper numbers
// are digit strings as printed on the bill (at most 10 digits, leading
// zeros allowed); counts and limits are decimal integers.

// numberFlag is a flag.Value holding a decimal integer.
type numberFlag struct {
	n      *int64
	billNo bool  // a bill or paper number: 1–10 digits, not 0
	min    int64 // the least value accepted (counts)
	err    error // the last Set error, reported in Chinese by Parse
}

func (f *numberFlag) String() string {
	if f.n == nil {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f *numberFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if f.billNo {
		n, err := bill.ParseBillNo(s)
		if err != nil {
			f.err = err
			return err
		}
		*f.n = n
		return nil
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 18 || strings.Trim(digits, "0123456789") != "" {
		f.err = bill.Errorf(bill.EInvalid, "%q 不是十进制整数", s)
		return f.err
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	if n < f.min {
		f.err = bill.Errorf(bill.EInvalid, "%s 不能小于 %d", s, f.min)
		return f.err
	}
	*f.n = n
	return nil
}

// BillNo defines a bill or paper number flag (--from 0000000001): decimal
// digits, leading zeros allowed, 1–10 digits. Zero means not given.
func BillNo(fs *flag.FlagSet, name, usage string) *int64 {
	n := new(int64)
	fs.Var(&numberFlag{n: n, billNo: true}, name, usage)
	return n
}

// Int64 defines a decimal integer flag of at least min ("0100" is one
// hundred, never octal).
func Int64(fs *flag.FlagSet, name string, value, min int64, usage string) *int64 {
	n := &value
	fs.Var(&numberFlag{n: n, min: min}, name, usage)
	return n
}

// Int is Int64 for int flags.
func Int(fs *flag.FlagSet, name string, value, min int, usage string) *int {
	n := new(int)
	*n = value
	fs.Var(&intFlag{numberFlag{n: new(int64), min: int64(min)}, n}, name, usage)
	return n
}

type intFlag struct {
	numberFlag
	out *int
}

func (f *intFlag) String() string {
	if f.out == nil {
		return ""
	}
	return strconv.Itoa(*f.out)
}

func (f *intFlag) Set(s string) error {
	if err := f.numberFlag.Set(s); err != nil {
		return err
	}
	*f.out = int(*f.numberFlag.n)
	return nil
}

// flagError is the Chinese error of the number flag that failed to parse.
func flagError(fs *flag.FlagSet) error {
	var found error
	fs.VisitAll(func(f *flag.Flag) {
		var err error
		switch v := f.Value.(type) {
		case *numberFlag:
			err = v.err
		case *intFlag:
			err = v.err
		}
		if err != nil && found == nil {
			found = bill.Errorf(bill.EInvalid, "参数 --%s：%s", f.Name, bill.ErrorMessage(err))
		}
	})
	return found
}
