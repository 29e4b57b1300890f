package bill

import (
	"strings"
	"time"
	"unicode/utf8"
)

// CheckResidentID checks an 18-character resident identity card number
// (GB 11643): 17 digits, a real birth date, and the ISO 7064 MOD 11-2 check
// character (0-9 or X). The returned error says what is wrong in Chinese.
func CheckResidentID(id string) error {
	if len(id) != 18 {
		return Errorf(EInvalid, "身份证号应为18位，当前为%d位", utf8.RuneCountInString(id))
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return Errorf(EInvalid, "身份证号前17位应为数字")
		}
		sum += int(c-'0') * weights[i]
	}
	if _, err := time.Parse("20060102", id[6:14]); err != nil {
		return Errorf(EInvalid, "身份证号中的出生日期 %s 不存在", id[6:14])
	}
	want := "10X98765432"[sum%11]
	got := id[17]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		return Errorf(EInvalid, "身份证号校验位不正确，请核对号码")
	}
	return nil
}

// CheckCreditCode checks an 18-character unified social credit code
// (统一社会信用代码, GB 32100): its character set and its check character.
func CheckCreditCode(code string) error {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	if len(code) != 18 {
		return Errorf(EInvalid, "统一社会信用代码应为18位，当前为%d位", utf8.RuneCountInString(code))
	}
	weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	up := strings.ToUpper(code)
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(chars, up[i])
		if v < 0 {
			return Errorf(EInvalid, "统一社会信用代码含有不允许的字符 %q", up[i])
		}
		sum += v * weights[i]
	}
	want := chars[(31-sum%31)%31]
	if up[17] != want {
		return Errorf(EInvalid, "统一社会信用代码校验位不正确，请核对代码")
	}
	return nil
}

// MaskID hides the middle of an identity number for lists and prints, as
// the national specimens print a resident ID — its first 6 and last 4
// characters: 350203199001011234 → 350203********1234. Values shorter than
// 15 keep their first and last 4; up to 8 characters only the last one.
func MaskID(id string) string {
	r := []rune(id)
	switch {
	case len(r) == 0:
		return ""
	case len(r) <= 8:
		return strings.Repeat("*", len(r)-1) + string(r[len(r)-1])
	case len(r) < 15:
		return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// MaskPhone hides the middle of a phone number as lists and prints show
// it (security.md PI-1): 13800005678 → 138****5678; one shorter than 8
// characters keeps only its last 2.
func MaskPhone(tel string) string {
	r := []rune(tel)
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 8:
		keep := max(len(r)-2, 0)
		return strings.Repeat("*", keep) + string(r[keep:])
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// PayerID is the payer's number as a bill prints it: a unit's 统一社会信用代码
// in full (not personal data; the unit's accounts office needs it), a
// person's number masked (MaskID).
func PayerID(s *Settlement) string {
	if s.PayerType == "2" {
		return string(s.IDCardNo)
	}
	return MaskID(string(s.IDCardNo))
}
