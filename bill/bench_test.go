package bill

import "testing"

func BenchmarkParseSettlement(b *testing.B) {
	raw := loadExample(b, "outpatient.json")
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseSettlement(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	s := parseExample(b, "outpatient.json")
	for i := 0; i < b.N; i++ {
		if err := s.Validate(Outpatient); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	key, _ := GenerateKey()
	bl := &Bill{ID: "x", Kind: Outpatient, BillCode: "35060126", BillNo: "0000000001", PrevHash: GenesisHash,
		Settlement: *parseExample(b, "outpatient.json")}
	for i := 0; i < b.N; i++ {
		if _, err := Seal(bl, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCapitals(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = Money(123456789012).Capitals()
	}
}
