package bill

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func sealExample(t *testing.T, key *PrivateKey) *Sealed {
	t.Helper()
	s := parseExample(t, "outpatient.json")
	b := &Bill{ID: "0192f0a0-0000-7000-8000-000000000001", Kind: Outpatient, BillCode: "35060126",
		BillNo: FormatBillNo(1), PlaceCode: "P01", IssuedAt: FormatIssuedAt(time.Date(2026, 11, 25, 1, 30, 15, 123e6, time.UTC)),
		Seq: 1, PrevHash: GenesisHash, UnitName: "厦门市某区医院", Settlement: *s}
	sealed, err := Seal(b, key)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func TestSealAndOpen(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealExample(t, key)
	if len(sealed.CheckCode) != 6 || strings.Trim(sealed.CheckCode, "0123456789abcdef") != "" {
		t.Fatalf("check code %q", sealed.CheckCode)
	}
	b, err := Open(sealed.Content, sealed.Hash, sealed.Signature, sealed.CheckCode, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if b.BillNo != "0000000001" || b.Settlement.TotalAmt != 12345 || b.Settlement.PatientNo != "2026112500000001234" {
		t.Fatalf("opened %+v", b)
	}

	other, _ := GenerateKey()
	tampered := bytes.Replace(sealed.Content, []byte(`"totalAmt":"123.45"`), []byte(`"totalAmt":"23.45"`), 1)
	cases := []struct {
		name               string
		content, hash, sig []byte
		check              string
		pub                *PublicKey
		want               string
	}{
		{"edited content", tampered, sealed.Hash, sealed.Signature, sealed.CheckCode, key.Public(), "哈希"},
		{"edited content and hash", tampered, ContentHash(tampered), sealed.Signature, sealed.CheckCode, key.Public(), "签名"},
		{"other key", sealed.Content, sealed.Hash, sealed.Signature, sealed.CheckCode, other.Public(), "签名"},
		{"made-up check code", sealed.Content, sealed.Hash, sealed.Signature, "abcdef", key.Public(), "校验码"},
	}
	for _, c := range cases {
		if _, err := Open(c.content, c.hash, c.sig, c.check, c.pub); ErrorCode(err) != ETampered || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ETampered mentioning %s", c.name, err, c.want)
		}
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	key, _ := GenerateKey()
	privPEM, err := key.PEM()
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := key.Public().PEM()
	if !strings.HasPrefix(privPEM, "-----BEGIN PRIVATE KEY-----") || !strings.HasPrefix(pubPEM, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("PEM headers: %q %q", privPEM[:30], pubPEM[:30])
	}
	k2, err := ParsePrivateKeyPEM(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ParsePublicKeyPEM(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := k2.Sign([]byte("hello"))
	if !p2.Verify([]byte("hello"), sig) || p2.Verify([]byte("hellO"), sig) {
		t.Fatal("signature from parsed key does not verify as it should")
	}
	if _, err := ParsePrivateKeyPEM(pubPEM); ErrorCode(err) != EInvalid {
		t.Fatalf("public PEM accepted as private: %v", err)
	}
}

func TestReverse(t *testing.T) {
	s := parseExample(t, "outpatient.json")
	r := Reverse(*s)
	if r.TotalAmt != -12345 || r.ChargeDetail[0].Amt != -2000 || r.ListDetail[4].Amt != 2 || r.PayChannelDetail[1].Value != -4345 || r.FundPay != -6000 {
		t.Fatalf("reverse: %+v", r)
	}
	if s.ChargeDetail[0].Amt != 2000 || s.PayChannelDetail[1].Value != 4345 {
		t.Fatal("Reverse changed the original")
	}
}

func TestIDs(t *testing.T) {
	for _, id := range []string{"350203198503122015", "11010519491231002X", "11010519491231002x"} {
		if err := CheckResidentID(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	for _, id := range []string{"350203198503122016", "35020319850312201", "3502031985031220AB", "350203198513122015"} {
		if CheckResidentID(id) == nil {
			t.Errorf("%s accepted", id)
		}
	}
	for _, c := range []string{"91350200MA2YXK0B1U", "91350211MA8RHW4N7T", "91350200ma2yxk0b1u"} {
		if err := CheckCreditCode(c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	for _, c := range []string{"91350200MA2YXK0B1X", "91350200MA2YXK0BIU", "9135"} {
		if CheckCreditCode(c) == nil {
			t.Errorf("%s accepted", c)
		}
	}
	if got := MaskID("350203198503122015"); got != "350203********2015" {
		t.Errorf("MaskID = %s", got)
	}
	if got := MaskID("ABC"); got != "**C" {
		t.Errorf("MaskID short = %s", got)
	}
}

func TestSegmentsAndCodes(t *testing.T) {
	a := Segment{"35060126", 1, 1000}
	if a.Len() != 1000 || a.Remaining(1) != 1000 || a.Remaining(1001) != 0 || a.Remaining(600) != 401 {
		t.Fatal("segment arithmetic")
	}
	if !a.Overlaps(Segment{"35060126", 1000, 2000}) || a.Overlaps(Segment{"35060126", 1001, 2000}) || a.Overlaps(Segment{"35060226", 1, 10}) {
		t.Fatal("overlap")
	}
	if !a.Contains("35060126", 1000) || a.Contains("35060126", 1001) || a.Contains("35060226", 5) {
		t.Fatal("contains")
	}
	for _, bad := range []Segment{{"35060126", 0, 5}, {"35060126", 6, 5}, {"3506012", 1, 5}, {"35060126", 1, MaxBillNo + 1}} {
		if bad.Validate() == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if FormatBillNo(42) != "0000000042" {
		t.Fatal("FormatBillNo")
	}
	if n, err := ParseBillNo("0000000042"); n != 42 || err != nil {
		t.Fatal("ParseBillNo")
	}
	for _, bad := range []string{"", "0", "12345678901", "12a"} {
		if _, err := ParseBillNo(bad); err == nil {
			t.Errorf("ParseBillNo(%q) accepted", bad)
		}
	}
}

func TestLimits(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := Limits{MaxHours: 24, MaxCount: 10, MaxAmount: 100000, MaxSingle: 50000}
	tests := []struct {
		name   string
		st     OfflineState
		total  Money
		red    bool
		err    string
		warned bool
	}{
		{"fresh", OfflineState{}, 1000, false, "", false},
		{"single too big", OfflineState{}, 50001, false, "单张", false},
		{"single ignored for red", OfflineState{}, -60000, true, "", false},
		{"count at limit", OfflineState{Count: 10, Oldest: now}, 1, false, "10 张", false},
		{"count warning", OfflineState{Count: 7, Oldest: now}, 1, false, "", true},
		{"amount", OfflineState{Count: 1, Amount: 99000, Oldest: now}, 1001, false, "累计金额", false},
		{"red counts by absolute value", OfflineState{Count: 1, Amount: 99000, Oldest: now}, -1001, true, "累计金额", false},
		{"hours", OfflineState{Count: 1, Amount: 1, Oldest: now.Add(-25 * time.Hour)}, 1, false, "小时", false},
		{"hours warning", OfflineState{Count: 1, Amount: 1, Oldest: now.Add(-20 * time.Hour)}, 1, false, "", true},
	}
	for _, tt := range tests {
		w, err := l.Check(tt.st, now, tt.total, tt.red)
		if tt.err == "" && err != nil || tt.err != "" && (ErrorCode(err) != ELimit || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.err)
		}
		if (len(w) > 0) != tt.warned {
			t.Errorf("%s: warnings %v, want warned=%v", tt.name, w, tt.warned)
		}
	}
}

func TestCanonicalWithEqualsPlainEncoding(t *testing.T) {
	key, _ := GenerateKey()
	sealed := sealExample(t, key)
	plain, err := marshalCanonical(&sealed.Bill)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, sealed.Content) {
		t.Fatalf("content differs from encoding the Bill:\n%s\n%s", plain, sealed.Content)
	}
	red := sealed.Bill
	red.Red = &RedRef{OrigID: "x", OrigBillCode: "35060126", OrigBillNo: "0000000001", Reason: "退费"}
	withRed, _ := red.Canonical()
	plainRed, _ := marshalCanonical(&red)
	if !bytes.Equal(withRed, plainRed) {
		t.Fatalf("red bill content differs:\n%s\n%s", plainRed, withRed)
	}
}

// TestMaskPhone: the middle of a mobile number is hidden; a short number
// keeps only its last 2 characters, never all of them.
func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"13800005678": "138****5678", "05925551234": "059****1234", "5551234": "*****34", "12": "12", "": ""} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
