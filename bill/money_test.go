package bill

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		err  string // substring of the error; "" for success
	}{
		{"0", 0, ""},
		{"12", 1200, ""},
		{"12.3", 1230, ""},
		{"12.30", 1230, ""},
		{"12.34", 1234, ""},
		{"-0.05", -5, ""},
		{"+7.5", 750, ""},
		{".5", 50, ""},
		{"5.", 500, ""},
		{" 8.88 ", 888, ""},
		{"0012.30", 1230, ""},
		{"12.300", 1230, ""},  // trailing zero beyond 2 decimals is exact
		{"1.2E+2", 12000, ""}, // exponent notation, exact
		{"1.5e-1", 15, ""},    // 0.15
		{"-2.0E-2", -2, ""},   // -0.02
		{"999999999999.99", 99_999_999_999_999, ""},
		{"12.345", 0, "两位小数"},
		{"0.001", 0, "两位小数"},
		{"2.0E-4", 0, "两位小数"},
		{"1000000000000", 0, "超出"},
		{"99999999999999999999999", 0, "超出"},
		{"1e400", 0, "超出"},
		{"", 0, "格式"},
		{"-", 0, "格式"},
		{".", 0, "格式"},
		{"NaN", 0, "格式"},
		{"Inf", 0, "格式"},
		{"-Infinity", 0, "格式"},
		{"1,000.00", 0, "格式"},
		{"¥5", 0, "格式"},
		{"0x10", 0, "格式"},
		{"1e", 0, "格式"},
		{"1 000", 0, "格式"},
		{"１２", 0, "格式"}, // full-width digits
		{"--1", 0, "格式"},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseMoney(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseMoney(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.err)
		}
		if ErrorCode(err) != EInvalid {
			t.Errorf("ParseMoney(%q) error code %q, want %q", tt.in, ErrorCode(err), EInvalid)
		}
	}
}

func TestParseMoney4AndQuantity(t *testing.T) {
	m, err := ParseMoney4("-2.0E-4")
	if err != nil || m != -2 {
		t.Fatalf("ParseMoney4(-2.0E-4) = %d, %v; want -2", m, err)
	}
	if m, _ := ParseMoney4("0.4583"); m != 4583 {
		t.Errorf("ParseMoney4(0.4583) = %d", m)
	}
	if _, err := ParseMoney4("0.45831"); err == nil || !strings.Contains(err.Error(), "四位小数") {
		t.Errorf("ParseMoney4(0.45831) err = %v, want four-decimal error", err)
	}
	if q, _ := ParseQuantity("2.5"); q != 25000 {
		t.Errorf("ParseQuantity(2.5) = %d", q)
	}
}

func TestMoneyFormat(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{Money(0), "0.00"}, {Money(5), "0.05"}, {Money(-5), "-0.05"}, {Money(123456), "1234.56"},
		{Money4(-2), "-0.0002"}, {Money4(123400), "12.34"}, {Money4(123450), "12.345"}, {Money4(0), "0.00"},
		{Quantity(10000), "1"}, {Quantity(25000), "2.5"}, {Quantity(-10000), "-1"},
	}
	for _, tt := range tests {
		if got := tt.v.(interface{ String() string }).String(); got != tt.want {
			t.Errorf("%T(%v).String() = %q, want %q", tt.v, tt.v, got, tt.want)
		}
	}
}

func TestRoundFen(t *testing.T) {
	tests := []struct {
		in      Money4
		want    Money
		wantAdj Money4
	}{
		{684502, 6845, -2}, {684550, 6846, 50}, {684549, 6845, -49}, {-684550, -6846, -50}, {100, 1, 0}, {0, 0, 0},
	}
	for _, tt := range tests {
		got, adj := tt.in.RoundFen()
		if got != tt.want || adj != tt.wantAdj || got.Money4() != tt.in+adj {
			t.Errorf("(%s).RoundFen() = %s, %s; want %s, %s", tt.in, got, adj, tt.want, tt.wantAdj)
		}
	}
}

func TestTimes(t *testing.T) {
	price, _ := ParseMoney4("0.4583")
	qty, _ := ParseQuantity("24")
	if got, exact := price.Times(qty); got != 109992 || !exact {
		t.Errorf("0.4583 × 24 = %s exact=%v; want 10.9992 exact", got, exact)
	}
	qty, _ = ParseQuantity("0.3333")
	if got, exact := price.Times(qty); got != 1528 || exact { // 0.15275139 → 0.1528
		t.Errorf("0.4583 × 0.3333 = %s exact=%v; want 0.1528 inexact", got, exact)
	}
}

func TestMoneyJSON(t *testing.T) {
	var v struct {
		A Money  `json:"a"`
		B Money  `json:"b"`
		C Money4 `json:"c"`
		D Money  `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"a":12.3,"b":"4.56","c":-2.0E-4,"d":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 1230 || v.B != 456 || v.C != -2 || v.D != 0 {
		t.Fatalf("decoded %+v", v)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"a":"12.30","b":"4.56","c":"-0.0002","d":"0.00"}` {
		t.Fatalf("encoded %s", out)
	}
	if err := json.Unmarshal([]byte(`{"a":true}`), &v); err == nil {
		t.Fatal("bool accepted as money")
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "12.34", "-0.05", "1.2E+2", "2.0E-4", "NaN", "1e400", "  3 ", ".5", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("ParseMoney(%q): error code %q", s, ErrorCode(err))
			}
			return
		}
		if m > MaxMoney || m < -MaxMoney {
			t.Fatalf("ParseMoney(%q) = %d beyond the limit", s, m)
		}
		// Formatting and parsing again is exact.
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %s → %d, %v", s, m, back, err)
		}
		if m4, err := ParseMoney4(s); err != nil || m4 != m.Money4() {
			t.Fatalf("ParseMoney4(%q) = %d, %v; want %d", s, m4, err, m.Money4())
		}
	})
}
