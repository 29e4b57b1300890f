package printing

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// TestSubsetSameAcrossSeconds: the embedded font subset — and so the
// patient's PDF — is the same bytes a second later (the font library
// stamps head.modified with the time of writing; stableHead fixes it), and
// its checksums still hold.
func TestSubsetSameAcrossSeconds(t *testing.T) {
	f, err := DefaultFont()
	if err != nil {
		t.Fatal(err)
	}
	runes := map[rune]bool{'票': true, '据': true, '号': true, '1': true}
	a, err := f.Subset(runes)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	b, err := f.Subset(runes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the subset differs a second later")
	}
	if sum := sfntChecksum(a); sum != 0xB1B0AFBA {
		t.Fatalf("the font's checksum is %#x, want 0xB1B0AFBA", sum)
	}
	n := int(binary.BigEndian.Uint16(a[4:]))
	for i := 0; i < n; i++ {
		rec := a[12+16*i:]
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		table := append([]byte(nil), a[off:off+(length+3)&^3]...)
		if string(rec[:4]) == "head" {
			binary.BigEndian.PutUint32(table[8:], 0)
		}
		if got, want := sfntChecksum(table), binary.BigEndian.Uint32(rec[4:]); got != want {
			t.Errorf("table %s: checksum %#x, recorded %#x", rec[:4], got, want)
		}
	}
}
