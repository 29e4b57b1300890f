package bill

import "fmt"

// Deposit vouchers (预交金电子凭证, bosssoft-v3.md §5). A voucher is a
// sealed document of its own kind: numbered from its own bill code, chained
// and signed like a bill. Its face has one line, the deposit. A refund is a
// red voucher of part or all of what is left of a deposit; several refunds
// may draw on one voucher until nothing is left.

// Deposit business types: 07 住院预交金, 08 体检预交金, 12 门诊预交金.
const (
	BusTypeInpatientDeposit  = "07"
	BusTypeExamDeposit       = "08"
	BusTypeOutpatientDeposit = "12"
)

// DepositName is the name of a deposit of a business type, as the
// voucher's line and title print it.
func DepositName(busType Text) string {
	switch busType {
	case BusTypeExamDeposit:
		return "体检预交金"
	case BusTypeOutpatientDeposit:
		return "门诊预交金"
	}
	return "住院预交金"
}

// DepositLine is the one line of a deposit voucher of amount amt (negative
// on a refund).
func DepositLine(busType Text, amt Money) ChargeLine {
	// As bill.Reverse writes a red line: the price stays, the quantity
	// and amount turn negative.
	std, n := amt, Quantity(10000)
	if amt < 0 {
		std, n = -amt, -n
	}
	return ChargeLine{SortNo: "1", ChargeCode: "YJ" + busType, ChargeName: Text(DepositName(busType)), Std: std.Money4(), Number: n, Amt: amt}
}

// checkDeposit: a deposit voucher has a deposit business type, the
// inpatient deposit a hospital number, and exactly its one deposit line.
func (s *Settlement) checkDeposit(k Kind) error {
	if k != Deposit {
		return nil
	}
	switch s.BusType {
	case BusTypeInpatientDeposit:
		if s.HospitalNo == "" {
			return FieldErrorf("hospitalNo", "住院预交金凭证必须填写患者住院号")
		}
	case BusTypeExamDeposit, BusTypeOutpatientDeposit:
	default:
		return FieldErrorf("busType", "预交金凭证的业务标识应为 07（住院预交金）、08（体检预交金）或 12（门诊预交金），收到 %q", s.BusType)
	}
	if len(s.ChargeDetail) != 1 || s.ChargeDetail[0] != DepositLine(s.BusType, s.TotalAmt) {
		return FieldErrorf("chargeDetail", "预交金凭证只有一行预交金")
	}
	if len(s.ListDetail) > 0 {
		return FieldErrorf("listDetail", "预交金凭证没有费用明细")
	}
	return nil
}

// RefundFields are what a deposit refund (writeOffPayMentVoucher) says
// of itself; everything else is the original voucher's.
type RefundFields struct {
	Payee        Text  // the cashier who refunded
	BusDateTime  Text  // when
	OwnAcBalance Money // the deposit account's balance before the refund
	Remark       Text
}

// RefundDeposit is the content of the red voucher that refunds amt (> 0)
// of a deposit voucher orig: its one line −amt, no pay channels (the
// request does not say how the money went back).
func RefundDeposit(orig Settlement, amt Money, f RefundFields) (Settlement, error) {
	if amt <= 0 || amt > orig.TotalAmt {
		return Settlement{}, FieldErrorf("amt", "退款金额 %s 元应大于 0 且不超过凭证金额 %s 元", amt, orig.TotalAmt)
	}
	r := orig
	r.TotalAmt = -amt
	r.ChargeDetail = []ChargeLine{DepositLine(orig.BusType, -amt)}
	r.ListDetail, r.PayChannelDetail = nil, nil
	r.Payee, r.BusDateTime, r.OwnAcBalance, r.Remark = f.Payee, f.BusDateTime, f.OwnAcBalance, f.Remark
	return r, nil
}

// RefundFieldsOf reads back the RefundFields of a red voucher.
func RefundFieldsOf(r *Settlement) RefundFields {
	return RefundFields{Payee: r.Payee, BusDateTime: r.BusDateTime, OwnAcBalance: r.OwnAcBalance, Remark: r.Remark}
}

// String names a voucher for messages: 代码 号码.
func (v VoucherRef) String() string { return fmt.Sprintf("%s %s", v.VoucherBatchCode, v.VoucherNo) }

// checkCommon: a general bill's business type is its kind's.
func (s *Settlement) checkCommon(k Kind) error {
	if k != Transfer && k != Donation && k != NonTax {
		return nil
	}
	if want, err := CommonKind(s.BusType); err != nil {
		return err
	} else if want != k {
		return FieldErrorf("busType", "业务标识 %s 是%s票据的，不是%s票据的", s.BusType, want.Name(), k.Name())
	}
	return nil
}
