package bill

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func loadExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseExample(t testing.TB, name string) *Settlement {
	t.Helper()
	s, err := ParseSettlement(loadExample(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	s.Normalize()
	return s
}

func TestExamplesAreValid(t *testing.T) {
	kinds := map[string]Kind{"outpatient.json": Outpatient, "inpatient.json": Inpatient,
		"registration.json": Registration, "exam.json": Exam, "unit-payer.json": Exam}
	for name, k := range kinds {
		s := parseExample(t, name)
		if err := s.Validate(k); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseLenient(t *testing.T) {
	s := parseExample(t, "outpatient.json")
	if s.PatientNo != "2026112500000001234" {
		t.Errorf("patientNo = %q: a 19-digit number must keep every digit", s.PatientNo)
	}
	if s.TotalAmt != 12345 {
		t.Errorf("totalAmt = %d fen, want 12345", s.TotalAmt)
	}
	last := s.ListDetail[len(s.ListDetail)-1]
	if !last.IsRounding() || last.Amt != -2 {
		t.Errorf("rounding line = %+v, want 货币误差 of -0.0002", last)
	}
	if s.Email != "" {
		t.Errorf("null email = %q", s.Email)
	}
	// Base64 padding written as \u003d, and a BOM, are read as usual.
	doc := append([]byte("\xef\xbb\xbf"), bytes.Replace(loadExample(t, "outpatient.json"), []byte(`"remark": ""`), []byte(`"remark": "YWI\u003d"`), 1)...)
	s2, err := ParseSettlement(doc)
	if err != nil || s2.Remark != "YWI=" {
		t.Fatalf("remark = %q, %v", s2.Remark, err)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	base := string(loadExample(t, "outpatient.json"))
	tests := []struct {
		old, new string
		field    string
	}{
		{`"totalAmt": 123.45`, `"totalAmt": 123.456`, "totalAmt"},
		{`"totalAmt": 123.45`, `"totalAmt": "NaN"`, "totalAmt"},
		{`"fundPay": "60.00"`, `"fundPay": {"x":1}`, "fundPay"},
		{`"amt": "35.00"`, `"amt": "35.00001"`, "listDetail[1].amt"},
		{`"payChannelValue": "43.45"`, `"payChannelValue": "43,45"`, "payChannelDetail[1].payChannelValue"},
		{`"chargeDetail": [`, `"chargeDetail": 5, "x": [`, "chargeDetail"},
	}
	for _, tt := range tests {
		doc := strings.Replace(base, tt.old, tt.new, 1)
		if doc == base {
			t.Fatalf("replacement %q not found", tt.old)
		}
		_, err := ParseSettlement([]byte(doc))
		e, ok := err.(*Error)
		if !ok || e.Code != EInvalid || e.Field != tt.field {
			t.Errorf("%s → %v (%#v); want EInvalid on field %s", tt.new, err, err, tt.field)
		}
	}
	if _, err := ParseSettlement([]byte(`{"busNo": `)); ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), "JSON") {
		t.Errorf("truncated JSON: %v", err)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name  string
		kind  Kind
		edit  func(s *Settlement)
		field string
		msg   string
	}{
		{"busNo required", Outpatient, func(s *Settlement) { s.BusNo = "" }, "busNo", "必填"},
		{"payee required", Outpatient, func(s *Settlement) { s.Payee = " " }, "payee", "必填"},
		{"busNo too long", Outpatient, func(s *Settlement) { s.BusNo = Text(strings.Repeat("1", 51)) }, "busNo", "超过上限"},
		{"payer too long", Outpatient, func(s *Settlement) { s.Payer = Text(strings.Repeat("张", LenientTextMax+1)) }, "payer", "超过上限"},
		{"idCardNo too long", Outpatient, func(s *Settlement) { s.IDCardNo = Text(strings.Repeat("A", 31)) }, "idCardNo", "超过上限"},
		{"bad busDateTime", Outpatient, func(s *Settlement) { s.BusDateTime = "2026-11-25" }, "busDateTime", "yyyyMMddHHmmssSSS"},
		{"impossible busDateTime", Outpatient, func(s *Settlement) { s.BusDateTime = "20261131093015123" }, "busDateTime", "不存在"},
		{"bad consultation date", Outpatient, func(s *Settlement) { s.ConsultationDate = "20261399" }, "consultationDate", "yyyyMMdd"},
		{"dept required outpatient", Outpatient, func(s *Settlement) { s.PatientCategory = "" }, "patientCategory", "必填"},
		{"hospitalNo required inpatient", Inpatient, func(s *Settlement) { s.HospitalNo = "" }, "hospitalNo", "必填"},
		{"checkUpNo required exam", Exam, func(s *Settlement) { s.CheckUpNo = "" }, "checkUpNo", "必填"},
		{"payer type", Outpatient, func(s *Settlement) { s.PayerType = "3" }, "payerType", "1（个人）或 2（单位）"},
		{"replacement character", Outpatient, func(s *Settlement) { s.Payer = "张\ufffd" }, "payer", "无法识别的字符"},
		{"credit code checksum", Outpatient, func(s *Settlement) { s.PayerType = "2"; s.IDCardNo = "91350200MA2YXK0B1X" }, "idCardNo", "校验位"},
		{"isArrears", Outpatient, func(s *Settlement) { s.IsArrears = "Y" }, "isArrears", "0（否）或 1（是）"},
		{"tel", Outpatient, func(s *Settlement) { s.Tel = "138abc" }, "tel", "电话"},
		{"control char", Outpatient, func(s *Settlement) { s.Remark = "a\x01b" }, "remark", "控制字符"},
		{"total zero", Outpatient, func(s *Settlement) { s.TotalAmt = 0 }, "totalAmt", "大于 0"},
		{"total mismatch", Outpatient, func(s *Settlement) { s.TotalAmt++ }, "totalAmt", "不符"},
		{"negative split", Outpatient, func(s *Settlement) { s.FundPay = -1 }, "fundPay", "负数"},
		{"no categories", Outpatient, func(s *Settlement) { s.ChargeDetail = nil }, "chargeDetail", "至少"},
		{"duplicate category", Outpatient, func(s *Settlement) { s.ChargeDetail[1].ChargeCode = "02" }, "chargeDetail[1].chargeCode", "重复"},
		{"category name required", Outpatient, func(s *Settlement) { s.ChargeDetail[0].ChargeName = "" }, "chargeDetail[0].chargeName", "必填"},
		{"detail without category", Outpatient, func(s *Settlement) { s.ListDetail[0].ChargeCode = "99" }, "listDetail[0].chargeCode", "不在"},
		{"category != details", Outpatient, func(s *Settlement) { s.ListDetail[2].Amt += 1 }, "chargeDetail[2].amt", "货币误差"},
		{"missing rounding line", Outpatient, func(s *Settlement) { s.ListDetail = s.ListDetail[:4] }, "chargeDetail[2].amt", "相差 -0.0002"},
		{"rounding line too big", Outpatient, func(s *Settlement) {
			s.ListDetail[4].Amt = 100
			s.ListDetail[3].Amt -= 102
		}, "listDetail[4].amt", "不足 1 分"},
		{"negative detail", Outpatient, func(s *Settlement) { s.ListDetail[0].Amt = -1 }, "listDetail[0].amt", "负数"},
		{"no pay channel", Outpatient, func(s *Settlement) { s.PayChannelDetail = nil }, "payChannelDetail", "至少"},
		{"pay channels != total", Outpatient, func(s *Settlement) { s.PayChannelDetail[1].Value -= 45 }, "payChannelDetail", "还需分配 0.45 元"},
		{"pay channel code", Outpatient, func(s *Settlement) { s.PayChannelDetail[0].Code = "" }, "payChannelDetail[0].payChannelCode", "必填"},
		{"unknown kind", Kind("dental"), func(s *Settlement) {}, "", "未知的票据种类"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := map[Kind]string{Inpatient: "inpatient.json", Exam: "exam.json"}[tt.kind]
			if file == "" {
				file = "outpatient.json"
			}
			s := parseExample(t, file)
			tt.edit(s)
			s.Normalize()
			err := s.Validate(tt.kind)
			e, ok := err.(*Error)
			if !ok || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v; want field %q with %q", err, tt.field, tt.msg)
			}
		})
	}
}

// TestResidentIDWarns: a resident ID with a wrong check digit or birth
// date does not block the bill (HIS patient records carry typos); it is a
// warning, and the number is kept as sent.
func TestResidentIDWarns(t *testing.T) {
	for id, want := range map[string]string{"350203198503122016": "校验位", "350203198502302015": "出生日期", "350203198503122015": ""} {
		s := parseExample(t, "outpatient.json")
		s.IDCardNo = Text(id)
		s.Normalize()
		if err := s.Validate(Outpatient); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		w := s.Warnings()
		if want == "" && len(w) != 0 || want != "" && (len(w) != 1 || !strings.Contains(w[0], want) || strings.Contains(w[0], id)) {
			t.Errorf("%s: warnings %q, want one with %q (the number masked)", id, w, want)
		}
		if string(s.IDCardNo) != id {
			t.Errorf("stored %q, sent %q", s.IDCardNo, id)
		}
	}
}

// TestParseRefusesGBK: GBK bytes are refused with EEncoding before JSON
// decoding could turn them into U+FFFD.
func TestParseRefusesGBK(t *testing.T) {
	gbk := []byte("{\"payer\":\"\xd5\xc5\xc8\xfd\"}") // 张三 in GBK
	_, err := ParseSettlement(gbk)
	if ErrorCode(err) != EEncoding || !strings.Contains(ErrorMessage(err), "UTF-8") || !strings.Contains(ErrorMessage(err), "第 11 字节") {
		t.Fatalf("GBK: %v", err)
	}
}

func TestNormalizeAndCanonical(t *testing.T) {
	a := parseExample(t, "inpatient.json")
	if a.InHospitalDate != "20261120" {
		t.Errorf("inHospitalDate = %q, want 20261120", a.InHospitalDate)
	}
	// Same content with other spellings encodes to the same bytes.
	doc := strings.NewReplacer(`"totalAmt": "3866.50"`, `"totalAmt": 3866.5`, `"2026-11-20"`, `"20261120"`,
		`"payer": "李四"`, `"payer": "  李四 "`).Replace(string(loadExample(t, "inpatient.json")))
	b, err := ParseSettlement([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b.Normalize()
	if !bytes.Equal(a.Canonical(), b.Canonical()) {
		t.Fatalf("canonical differs:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	b.TotalAmt++
	if bytes.Equal(a.Canonical(), b.Canonical()) {
		t.Fatal("different content, same canonical bytes")
	}
}

func TestSumDetailsAddsRoundingLine(t *testing.T) {
	s := parseExample(t, "outpatient.json")
	s.ListDetail = s.ListDetail[:4] // drop the HIS's own rounding line
	s.SumDetails()
	if s.ChargeDetail[2].Amt != 6845 || s.TotalAmt != 12345 {
		t.Fatalf("category = %s, total = %s", s.ChargeDetail[2].Amt, s.TotalAmt)
	}
	last := s.ListDetail[len(s.ListDetail)-1]
	if !last.IsRounding() || last.Amt != -2 || last.ChargeCode != "09" {
		t.Fatalf("rounding line %+v", last)
	}
	if err := s.Validate(Outpatient); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseSettlement(f *testing.F) {
	for _, name := range []string{"outpatient.json", "inpatient.json", "registration.json", "exam.json", "unit-payer.json"} {
		f.Add(loadExample(f, name))
	}
	f.Add([]byte(`{"totalAmt": -2.0E-4, "patientNo": 12345678901234567890}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSettlement(data)
		if err != nil {
			// Bad input is EInvalid; bytes that are not UTF-8 are
			// EEncoding, and only they.
			if code := ErrorCode(err); code != EInvalid && (code != EEncoding || utf8.Valid(data)) {
				t.Fatalf("error code %q for %q: %v", ErrorCode(err), data, err)
			}
			return
		}
		s.Normalize()
		c1 := s.Canonical()
		_ = s.Validate(Outpatient) // must not panic
		// The canonical form parses back to the same canonical form.
		s2, err := ParseSettlement(c1)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c1)
		}
		s2.Normalize()
		if c2 := s2.Canonical(); !bytes.Equal(c1, c2) {
			t.Fatalf("canonical not stable:\n%s\n%s", c1, c2)
		}
	})
}
