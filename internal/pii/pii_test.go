package pii

import (
	"bytes"
	"regexp"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`{"idCardNo":"11010119900307408X","tel":"13800138000","alt":"+8613912345678","no":"0000000042","total":12345678901,"bad":"110101199003074571","ts":"1764633600000","hash":"ab13800138000cd","remark":"电话13700137000"}`)
	masked, sealed := s.Seal(content, []byte("bill-1"))
	for _, leak := range []string{"11010119900307408X", `"13800138000"`, "13912345678", "13700137000"} {
		if bytes.Contains(masked, []byte(leak)) || bytes.Contains(sealed, []byte(leak)) {
			t.Errorf("%s left in the stored form: %s", leak, masked)
		}
	}
	// Numbers that are neither stay: a wrong check digit, a bill number, a timestamp.
	// Numbers that are neither stay, and so do digit runs inside a hex token.
	for _, keep := range []string{"110101199003074571", "0000000042", "1764633600000", "12345678901", "ab13800138000cd"} {
		if !bytes.Contains(masked, []byte(keep)) {
			t.Errorf("%s was masked: %s", keep, masked)
		}
	}
	if len(masked) != len(content) || !regexp.MustCompile(`"idCardNo":"000000000000000000"`).Match(masked) {
		t.Errorf("masked form %s", masked)
	}
	got, err := s.Open(masked, sealed, []byte("bill-1"))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("open = %s, %v", got, err)
	}
	if _, err := s.Open(masked, sealed, []byte("bill-2")); err == nil {
		t.Error("sealed part opened for another row")
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(masked, sealed, []byte("bill-1")); err != ErrKey {
		t.Errorf("other key: %v, want ErrKey", err)
	}
	// Rotation: a new key seals, the old one still opens.
	rotated, _ := New(bytes.Repeat([]byte{8}, KeySize), bytes.Repeat([]byte{7}, KeySize))
	if got, err := rotated.Open(masked, sealed, []byte("bill-1")); err != nil || !bytes.Equal(got, content) {
		t.Errorf("rotated open = %v", err)
	}
	plain := []byte(`{"payer":"张三","total":100}`)
	if m, sl := s.Seal(plain, nil); sl != nil || !bytes.Equal(m, plain) {
		t.Error("content without personal numbers changed")
	}
}

// TestMask: IDs and mobile numbers in free text are masked as a bill
// prints them, other digits left alone, the length kept.
func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"联系电话13912345678，证件350203198503122015": "联系电话139****5678，证件350203********2015",
		"住院号2026112500000001234 床位12":          "住院号2026112500000001234 床位12",
		"tel:8613912345678":                    "tel:86139****5678",
		"35020319850312001X":                   "350203********001X",
	} {
		if got := MaskText(in); got != want || len(got) != len(in) {
			t.Errorf("MaskText(%q) = %q, want %q", in, got, want)
		}
	}
}
