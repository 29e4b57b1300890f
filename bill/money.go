package bill

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Money is an amount in fen (分), the unit of every total, category amount,
// amount split and pay channel. It is never a float.
type Money int64

// Money4 is an amount in units of 1/10000 yuan (0.01 fen): the precision of
// unit prices and detail-line amounts (a drug's price per tablet). A sum of
// Money4 becomes Money only through an explicit rounding (货币误差) line.
type Money4 int64

// Quantity is a count of units with up to 4 decimals (0.5 box, 2.25 ml).
type Quantity int64

// Limits of the amounts we accept: below 1万亿 yuan, which is what the
// Chinese-capital writer covers and far above any hospital bill.
const (
	MaxMoney    Money    = 99_999_999_999_999 // 999,999,999,999.99 yuan
	MaxMoney4   Money4   = Money4(MaxMoney) * 100
	MaxQuantity Quantity = 99_999_999_9999 // 9,999,999.9999 units
)

// ParseMoney parses a yuan amount such as "12.30", "-0.05" or "1.2E+2" into
// fen, exactly. It rejects more than 2 significant decimals, text that is not
// a plain decimal number (NaN, Inf, "1,000", "¥5"), and amounts beyond MaxMoney.
func ParseMoney(s string) (Money, error) {
	v, err := parseFixed(s, 2, int64(MaxMoney), "金额", "两")
	return Money(v), err
}

// ParseMoney4 parses a yuan amount with up to 4 decimals (unit prices,
// detail amounts), exactly; exponent notation such as "-2.0E-4" is accepted.
func ParseMoney4(s string) (Money4, error) {
	v, err := parseFixed(s, 4, int64(MaxMoney4), "金额", "四")
	return Money4(v), err
}

// ParseQuantity parses a quantity with up to 4 decimals.
func ParseQuantity(s string) (Quantity, error) {
	v, err := parseFixed(s, 4, int64(MaxQuantity), "数量", "四")
	return Quantity(v), err
}

// parseFixed parses a decimal number exactly into an integer scaled by
// 10^scale. Trailing zeros beyond the scale are harmless ("1.230" is 1.23);
// any other digit beyond it is an error, never a rounding.
func parseFixed(s string, scale int, max int64, what, scaleWord string) (int64, error) {
	bad := func() error {
		return Errorf(EInvalid, "%s格式不正确：%q，应为数字，例如 12.30", what, s)
	}
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	mant, exp := t, 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant = t[:i]
		e, err := strconv.Atoi(t[i+1:])
		if err != nil || len(t[i+1:]) > 4 || strings.ContainsAny(t[i+1:], " _") {
			return 0, bad()
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || !allDigits(digits) {
		return 0, bad()
	}
	decimals := len(frac) - exp
	digits = strings.TrimLeft(digits, "0")
	for decimals > scale && strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		decimals--
	}
	if digits == "" {
		return 0, nil
	}
	if decimals > scale {
		return 0, Errorf(EInvalid, "%s最多%s位小数：%q", what, scaleWord, s)
	}
	if len(digits)+(scale-decimals) > 18 {
		return 0, Errorf(EInvalid, "%s超出允许范围：%q", what, s)
	}
	v, _ := strconv.ParseInt(digits, 10, 64)
	for i := decimals; i < scale; i++ {
		v *= 10
	}
	if v > max {
		return 0, Errorf(EInvalid, "%s超出允许范围：%q", what, s)
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatFixed writes v scaled by 10^scale with at least minDec decimals,
// trimming trailing zeros beyond minDec.
func formatFixed(v int64, scale, minDec int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	s := strconv.FormatUint(u, 10)
	for len(s) <= scale {
		s = "0" + s
	}
	ip, fp := s[:len(s)-scale], s[len(s)-scale:]
	for len(fp) > minDec && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg {
		out = "-" + out
	}
	return out
}

// String formats m in yuan with exactly two decimals: "12.30", "-0.05".
func (m Money) String() string { return formatFixed(int64(m), 2, 2) }

// Money4 converts m to the 4-decimal unit exactly.
func (m Money) Money4() Money4 { return Money4(m) * 100 }

// String formats m in yuan with 2 to 4 decimals: "12.30", "0.0002".
func (m Money4) String() string { return formatFixed(int64(m), 4, 2) }

// String formats q with up to 4 decimals and none when whole: "2", "0.5".
func (q Quantity) String() string { return formatFixed(int64(q), 4, 0) }

// RoundFen rounds m to fen, half away from zero, and returns the rounded
// amount and the adjustment (rounded - m) that a 货币误差 line must carry.
func (m Money4) RoundFen() (Money, Money4) {
	q, r := int64(m)/100, int64(m)%100
	switch {
	case r >= 50:
		q++
	case r <= -50:
		q--
	}
	return Money(q), Money(q).Money4() - m
}

// Times returns price × quantity rounded half away from zero to Money4, and
// whether the product was exact.
func (m Money4) Times(q Quantity) (Money4, bool) {
	p := new(big.Int).Mul(big.NewInt(int64(m)), big.NewInt(int64(q)))
	quo, rem := new(big.Int).QuoRem(p, big.NewInt(10000), new(big.Int))
	exact := rem.Sign() == 0
	twice := new(big.Int).Abs(rem)
	twice.Lsh(twice, 1)
	if twice.Cmp(big.NewInt(10000)) >= 0 {
		quo.Add(quo, big.NewInt(int64(p.Sign())))
	}
	return Money4(quo.Int64()), exact
}

// JSON: amounts are written as strings ("12.30") so that no reader ever
// meets them as floats, and read from strings or numbers, exactly.

// MarshalText makes encoding/json write amounts as JSON strings; it is
// cheaper than MarshalJSON, whose output encoding/json re-scans.
func (m Money) MarshalText() ([]byte, error)    { return []byte(m.String()), nil }
func (m Money4) MarshalText() ([]byte, error)   { return []byte(m.String()), nil }
func (q Quantity) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

func (m *Money) UnmarshalJSON(b []byte) error {
	s, null, err := jsonScalar(b)
	if err != nil || null {
		return err
	}
	v, err := ParseMoney(s)
	*m = v
	return err
}

func (m *Money4) UnmarshalJSON(b []byte) error {
	s, null, err := jsonScalar(b)
	if err != nil || null {
		return err
	}
	v, err := ParseMoney4(s)
	*m = v
	return err
}

func (q *Quantity) UnmarshalJSON(b []byte) error {
	s, null, err := jsonScalar(b)
	if err != nil || null {
		return err
	}
	v, err := ParseQuantity(s)
	*q = v
	return err
}

// jsonScalar returns the text of a JSON string or number literal without
// ever converting it to a float; null reports null.
func jsonScalar(b []byte) (s string, null bool, err error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", true, nil
	case len(b) >= 2 && b[0] == '"':
		// Most values have no escapes: take the bytes between the quotes.
		if inner := b[1 : len(b)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner), false, nil
		}
		var str string
		if err := jsonUnquote(b, &str); err != nil {
			return "", false, err
		}
		return str, false, nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		return string(b), false, nil
	}
	return "", false, fmt.Errorf("不是数字或字符串：%s", truncate(string(b), 40))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
