package bill

import (
	"net/url"
	"strings"
	"testing"
)

func TestVerifyRefRoundTrip(t *testing.T) {
	b := &Bill{BillCode: "35060126", BillNo: "0000000007", IssuedAt: "2026-11-25T17:30:00.000Z",
		Settlement: Settlement{TotalAmt: 12345}}
	sig := []byte("signature bytes")
	r := NewVerifyRef(b, "a1b2c3", sig)
	if r.Date != "20261126" { // 17:30 UTC is the next day in Beijing
		t.Fatalf("date %q, want the Beijing date 20261126", r.Date)
	}
	u := r.URL("https://pj.example.cn/")
	want := "https://pj.example.cn/v?a=123.45&c=35060126&d=20261126&k=a1b2c3&n=0000000007&s=" + r.Token
	if u != want {
		t.Fatalf("url\n%s\nwant\n%s", u, want)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	back := ParseVerifyQuery(parsed.Query())
	if back != r || !back.Valid(sig) {
		t.Fatalf("round trip %+v, valid=%v", back, back.Valid(sig))
	}
	if back.Valid([]byte("another bill's signature")) {
		t.Fatal("token valid under another signature")
	}
	forged := back
	forged.Amount = "1.00"
	if forged.Valid(sig) {
		t.Fatal("an edited amount kept its token")
	}
	if len(r.Token) != 8 || strings.Trim(r.Token, "0123456789abcdef") != "" {
		t.Fatalf("token %q is not 8 hex digits", r.Token)
	}
}
