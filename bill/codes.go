package bill

import (
	"fmt"
	"strconv"
)

// MaxBillNo is the largest 10-digit bill number.
const MaxBillNo = 9_999_999_999

// CheckBillCode checks a bill code (票据代码): 8 digits — region (2), class
// (2), kind (2), year (2). Which region, class and kind digits are valid is
// configuration, not code.
func CheckBillCode(code string) error {
	if len(code) != 8 || !allDigits(code) {
		return Errorf(EInvalid, "票据代码 %q 格式不正确，应为8位数字，例如 35060126", code)
	}
	return nil
}

// CheckPaperCode checks a pre-printed paper bill's code: 8 to 12 digits
// (paper codes vary by province and print run).
func CheckPaperCode(code string) error {
	if len(code) < 8 || len(code) > 12 || !allDigits(code) {
		return Errorf(EInvalid, "纸质票据代码 %q 格式不正确，应为8至12位数字", code)
	}
	return nil
}

// FormatBillNo writes a bill number with its 10 digits.
func FormatBillNo(n int64) string { return fmt.Sprintf("%010d", n) }

// ParseBillNo reads a bill number: 1 to 10 digits, 1..MaxBillNo.
func ParseBillNo(s string) (int64, error) {
	if s == "" || len(s) > 10 || !allDigits(s) {
		return 0, Errorf(EInvalid, "票据号码 %q 格式不正确，应为不超过10位的数字", s)
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	if n < 1 {
		return 0, Errorf(EInvalid, "票据号码不能为 0")
	}
	return n, nil
}

// Segment is a range [Start, End] of bill numbers under one bill code: the
// unit of allocation (号段) and of paper stock.
type Segment struct {
	Code  string
	Start int64
	End   int64
}

// Validate checks the code and that 1 ≤ Start ≤ End ≤ MaxBillNo.
func (s Segment) Validate() error {
	if err := CheckBillCode(s.Code); err != nil && CheckPaperCode(s.Code) != nil {
		return err
	}
	if s.Start < 1 || s.End > MaxBillNo || s.Start > s.End {
		return Errorf(EInvalid, "号段 %s–%s 不正确：起始号应不大于终止号，且在 1 至 %d 之间",
			FormatBillNo(s.Start), FormatBillNo(s.End), int64(MaxBillNo))
	}
	return nil
}

// Len is the count of numbers in the segment.
func (s Segment) Len() int64 { return s.End - s.Start + 1 }

// Contains reports whether number n of code lies in the segment.
func (s Segment) Contains(code string, n int64) bool {
	return code == s.Code && n >= s.Start && n <= s.End
}

// Overlaps reports whether two segments share a number.
func (s Segment) Overlaps(o Segment) bool {
	return s.Code == o.Code && s.Start <= o.End && o.Start <= s.End
}

// Remaining is how many numbers are left when next is the next unused one.
func (s Segment) Remaining(next int64) int64 {
	if next < s.Start {
		next = s.Start
	}
	if next > s.End {
		return 0
	}
	return s.End - next + 1
}

// String writes "35060126 0000000001–0000001000".
func (s Segment) String() string {
	return fmt.Sprintf("%s %s–%s", s.Code, FormatBillNo(s.Start), FormatBillNo(s.End))
}
