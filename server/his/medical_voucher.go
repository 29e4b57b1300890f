package his

import (
	"context"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// The deposit voucher services of the reference (bosssoft-v3.md §5,
// 财政预交金): a deposit voucher is issued for each inpatient or exam
// deposit, refunded in parts by red vouchers, and the bill of a settlement
// that consumed deposits may be reversed to release them
// (cancelPayMentVoucherBalance). The answers carry the reference's voucher
// fields and, as the reference's examples do and ZLHIS reads, the same
// values under the e-bill names.

func (s *Adapter) voucherServices(publicURL string) map[string]MedicalService {
	return map[string]MedicalService{
		"invoicePayMentVoucher": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalVoucherIssue(ctx, app, data, publicURL)
		},
		"writeOffPayMentVoucher": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalVoucherRefund(ctx, app, data, publicURL)
		},
		"cancelPayMentVoucherBalance": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalVoucherCancel(ctx, app, data, publicURL)
		},
		"invalidPayMentVoucherPaper": func(ctx context.Context, app *server.HISApp, data []byte) (any, error) {
			return s.medicalVoucherPaperVoid(ctx, app, data, publicURL)
		},
	}
}

// voucherFields answers with a voucher: its reference fields, and the same
// values under the names of an issued bill (e-bill fields, named as the
// reference's examples name them) or of a red bill.
func (s *Adapter) voucherFields(ctx context.Context, iss *server.Issued, publicURL string) (map[string]string, error) {
	f, err := s.issuedFields(ctx, iss.LedgerBill, publicURL, iss.Signature)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"voucherBatchCode": f.BillBatchCode, "voucherNo": f.BillNo, "voucherRandom": f.Random,
		"createTime": f.CreateTime, "billQRCode": f.BillQRCode, "pictureUrl": f.PictureURL, "pictureNetUrl": f.PictureNetURL}
	if iss.RedOf == "" {
		out["billBatchCode"], out["billNo"], out["random"] = f.BillBatchCode, f.BillNo, f.Random
	} else {
		out["eScarletBillBatchCode"], out["eScarletBillNo"], out["eScarletRandom"] = f.BillBatchCode, f.BillNo, f.Random
	}
	return out, nil
}

// medicalVoucherIssue is invoicePayMentVoucher: the request's fields are a
// settlement's (payer, busNo, category, hospitalNo…) and amt, the deposit.
func (s *Adapter) medicalVoucherIssue(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	st, err := bill.ParseSettlement(data)
	if err != nil {
		return nil, failMedical(ResultBadData, "%s", bill.ErrorMessage(err))
	}
	var req struct {
		Amt bill.Money `json:"amt"`
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	if st.TotalAmt == 0 {
		st.TotalAmt = req.Amt
	}
	if len(st.ChargeDetail) > 0 {
		return nil, failMedical(ResultInvalid, "预交金凭证没有收费项目，请不要传 chargeDetail")
	}
	st.ChargeDetail = []bill.ChargeLine{bill.DepositLine(bill.Text(strings.TrimSpace(string(st.BusType))), st.TotalAmt)}
	warn(ctx, st.Warnings()...)
	place, err := placeFor(app, st.PlaceCode)
	if err != nil {
		return nil, err
	}
	iss, err := s.IssueAt(ctx, place, bill.Deposit, st)
	if err != nil {
		return nil, err
	}
	return s.voucherFields(ctx, iss, publicURL)
}

// voucherFor loads the deposit voucher a request names.
func (s *Adapter) voucherFor(ctx context.Context, app *server.HISApp, code, no bill.Text) (*server.LedgerBill, error) {
	lb, err := s.billFor(ctx, app, strings.TrimSpace(string(code)), no)
	if err != nil {
		return nil, err
	}
	if lb.Kind != bill.Deposit || lb.RedOf != "" {
		return nil, failMedical(ResultInvalid, "%s %s 不是预交金凭证", lb.BillCode, lb.BillNo)
	}
	return lb, nil
}

// medicalVoucherRefund is writeOffPayMentVoucher: the red voucher of amt
// of a deposit voucher. billBatchCode and billNo name the settlement's
// bill the refund follows, when there is one; they are not required to be
// a bill of this server.
func (s *Adapter) medicalVoucherRefund(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct {
		VoucherBatchCode, VoucherNo, Reason, Operator, BusDateTime, Remark bill.Text
		Amt, OwnAcBalance                                                  bill.Money
	}
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	v, err := s.voucherFor(ctx, app, req.VoucherBatchCode, req.VoucherNo)
	if err != nil {
		return nil, err
	}
	busAt := bill.Text(strings.TrimSpace(string(req.BusDateTime)))
	if len(busAt) == 14 {
		busAt += "000"
	}
	if _, err := bill.ParseBusDateTime(string(busAt)); err != nil {
		return nil, failMedical(ResultInvalid, "busDateTime：%s", bill.ErrorMessage(err))
	}
	f := bill.RefundFields{Payee: bill.Text(strings.TrimSpace(string(req.Operator))), BusDateTime: busAt,
		OwnAcBalance: req.OwnAcBalance, Remark: bill.Text(strings.TrimSpace(string(req.Remark)))}
	red, err := s.RefundAt(ctx, v.Point, v.BillCode, mustBillNo(v.BillNo), req.Amt, f, string(req.Reason), string(req.Operator))
	if err != nil {
		return nil, err
	}
	return s.voucherFields(ctx, red, publicURL)
}

// medicalVoucherCancel is cancelPayMentVoucherBalance: the settlement's
// bill that consumed deposit vouchers is reversed, and the deposits are
// the patient's again. Answered as writeOffEBill answers, with the red
// bill's values also under the voucher names (ZLHIS reads those).
func (s *Adapter) medicalVoucherCancel(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	var req struct{ BillBatchCode, BillNo, Reason, Operator bill.Text }
	if err := decodeBusiness(data, &req); err != nil {
		return nil, err
	}
	lb, err := s.billFor(ctx, app, strings.TrimSpace(string(req.BillBatchCode)), req.BillNo)
	if err != nil {
		return nil, err
	}
	if lb.Kind == bill.Deposit {
		return nil, failMedical(ResultInvalid, "%s %s 是预交金凭证；撤销预交金结算请传结算时开具的电子票据，预交金退款请调用 writeOffPayMentVoucher", lb.BillCode, lb.BillNo)
	}
	red, err := s.ReverseAt(ctx, lb.Point, lb.BillCode, mustBillNo(lb.BillNo), string(req.Reason), string(req.Operator))
	if err != nil {
		return nil, err
	}
	out, err := s.redFields(ctx, red, publicURL)
	if err != nil {
		return nil, err
	}
	out["voucherBatchCode"], out["voucherNo"], out["voucherRandom"] = out["eScarletBillBatchCode"], out["eScarletBillNo"], out["eScarletRandom"]
	return out, nil
}

// medicalVoucherPaperVoid is invalidPayMentVoucherPaper: the paper copy of
// a deposit voucher is voided and what is left of the deposit refunded.
func (s *Adapter) medicalVoucherPaperVoid(ctx context.Context, app *server.HISApp, data []byte, publicURL string) (any, error) {
	pv, err := s.readPaperVoid(ctx, app, data)
	if err != nil {
		return nil, err
	}
	lb := pv.bill
	if lb.Kind != bill.Deposit {
		return nil, failMedical(ResultInvalid, "纸质票据 %s %s 换开自电子票据 %s %s，不是预交金凭证；请调用 invalidPaper",
			pv.code, bill.FormatBillNo(pv.no), lb.BillCode, lb.BillNo)
	}
	red, err := s.ReverseAt(ctx, pv.place, lb.BillCode, mustBillNo(lb.BillNo), pv.reason, pv.author)
	if err != nil {
		return nil, err
	}
	out, err := s.voucherFields(ctx, red, publicURL)
	if err != nil {
		return nil, err
	}
	out["pBillBatchCode"], out["pBillNo"] = pv.code, bill.FormatBillNo(pv.no)
	return out, nil
}
