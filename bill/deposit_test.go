package bill

import (
	"strings"
	"testing"
)

// deposit is an inpatient deposit voucher of 3,000.00 yuan as the server
// builds it from an invoicePayMentVoucher request.
func deposit() *Settlement {
	s := &Settlement{BusNo: "YJ20261201001", BusType: "07", BusDateTime: "20261201093000000", Payee: "王收费", Author: "王收费",
		Payer: "张三", CardType: "1", CardNo: "A0001", HospitalNo: "ZY0001", VisitNo: "ZY0001", Category: "内科",
		InHospitalDate: "2026-12-01", TotalAmt: 300000,
		PayChannelDetail: []PayChannel{{Code: "02", Value: 100000}, {Code: "05", Value: 200000}}}
	s.ChargeDetail = []ChargeLine{DepositLine(s.BusType, s.TotalAmt)}
	s.Normalize()
	return s
}

func TestDepositValidate(t *testing.T) {
	if err := deposit().Validate(Deposit); err != nil {
		t.Fatalf("a sound deposit voucher: %v", err)
	}
	tests := []struct {
		name, field, msg string
		edit             func(s *Settlement)
	}{
		{"business type", "busType", "07（住院预交金）", func(s *Settlement) { s.BusType = "02" }},
		{"hospital number", "hospitalNo", "住院号", func(s *Settlement) { s.HospitalNo = "" }},
		{"line differs from amount", "chargeDetail", "一行预交金", func(s *Settlement) { s.ChargeDetail[0].Amt--; s.TotalAmt--; s.PayChannelDetail[0].Value-- }},
		{"two lines", "chargeDetail", "一行预交金", func(s *Settlement) {
			s.ChargeDetail = append(s.ChargeDetail, ChargeLine{ChargeCode: "X", ChargeName: "X", Amt: 1})
			s.TotalAmt++
			s.PayChannelDetail[0].Value++
		}},
		{"channels", "payChannelDetail", "不符", func(s *Settlement) { s.PayChannelDetail[1].Value-- }},
		{"zero", "totalAmt", "大于 0", func(s *Settlement) { s.TotalAmt = 0 }},
		{"voucher reference", "payMentVoucher[0].voucherNo", "必填", func(s *Settlement) {
			s.PayMentVoucher = []VoucherRef{{VoucherBatchCode: "35060226"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := deposit()
			tt.edit(s)
			err := s.Validate(Deposit)
			e, ok := err.(*Error)
			if !ok || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v; want field %q with %q", err, tt.field, tt.msg)
			}
		})
	}
	// An exam deposit needs no hospital number.
	s := deposit()
	s.BusType, s.HospitalNo = "08", ""
	s.ChargeDetail = []ChargeLine{DepositLine(s.BusType, s.TotalAmt)}
	if err := s.Validate(Deposit); err != nil {
		t.Fatalf("exam deposit: %v", err)
	}
	if s.ChargeDetail[0].ChargeName != "体检预交金" {
		t.Errorf("exam deposit line named %q", s.ChargeDetail[0].ChargeName)
	}
}

func TestRefundDeposit(t *testing.T) {
	orig := deposit()
	f := RefundFields{Payee: "李退费", BusDateTime: "20261205100000000", OwnAcBalance: 300000, Remark: "出院结余退款"}
	r, err := RefundDeposit(*orig, 120050, f)
	if err != nil {
		t.Fatal(err)
	}
	if r.TotalAmt != -120050 || len(r.ChargeDetail) != 1 || r.ChargeDetail[0].Amt != -120050 || r.ChargeDetail[0].Number != -10000 ||
		r.ChargeDetail[0].Std != Money(120050).Money4() || r.PayChannelDetail != nil {
		t.Errorf("refund content: total %s, lines %+v, channels %+v", r.TotalAmt, r.ChargeDetail, r.PayChannelDetail)
	}
	if r.Payer != orig.Payer || r.HospitalNo != orig.HospitalNo || RefundFieldsOf(&r) != f {
		t.Errorf("refund keeps the voucher's payer and carries its own fields: %+v", r)
	}
	if orig.TotalAmt != 300000 || orig.ChargeDetail[0].Amt != 300000 {
		t.Error("the original was changed")
	}
	for _, amt := range []Money{0, -1, 300001} {
		if _, err := RefundDeposit(*orig, amt, f); err == nil {
			t.Errorf("refund of %s accepted", amt)
		}
	}
	if _, err := RefundDeposit(*orig, 300000, f); err != nil {
		t.Errorf("a refund of the whole deposit: %v", err)
	}
}

func TestParseAnyKind(t *testing.T) {
	if k, err := ParseAnyKind("预交金"); err != nil || k != Deposit {
		t.Errorf("预交金: %v %v", k, err)
	}
	if _, err := ParseKind("deposit"); err == nil {
		t.Error("ParseKind accepted deposit, a kind stations do not issue")
	}
	if k, err := ParseAnyKind("门诊"); err != nil || k != Outpatient {
		t.Errorf("门诊: %v %v", k, err)
	}
}

func TestCommonKind(t *testing.T) {
	for bt, want := range map[Text]Kind{"09": Transfer, "10": Donation, "11": NonTax} {
		if k, err := CommonKind(bt); err != nil || k != want {
			t.Errorf("busType %s: %v %v", bt, k, err)
		}
	}
	if _, err := CommonKind("02"); err == nil {
		t.Error("busType 02 is not a general bill's")
	}
	for _, k := range ServerKinds {
		if k.Medical() {
			t.Errorf("%s is a server kind and medical", k)
		}
		if got, err := ParseAnyKind(k.Name()); err != nil || got != k {
			t.Errorf("ParseAnyKind(%s): %v %v", k.Name(), got, err)
		}
		if _, err := ParseKind(string(k)); err == nil {
			t.Errorf("ParseKind accepted %s, which stations do not issue", k)
		}
	}
	s := deposit()
	s.BusType = "10"
	s.ChargeDetail = []ChargeLine{{SortNo: "1", ChargeCode: "JZ01", ChargeName: "捐赠", Amt: s.TotalAmt}}
	if err := s.Validate(Transfer); err == nil || !strings.Contains(err.Error(), "不是往来结算票据的") {
		t.Errorf("a 捐赠 busType on a 往来 bill: %v", err)
	}
	if err := s.Validate(Donation); err != nil {
		t.Errorf("a 捐赠票: %v", err)
	}
}
