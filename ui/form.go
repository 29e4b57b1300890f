package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// The issue form's logic, in plain functions: what the cashier typed
// becomes a settlement through the same bill rules as every other path.

// formLine is one charge item on the form.
type formLine struct {
	Item localstore.ChargeItem
	Qty  bill.Quantity
}

// Amount is price × quantity, with the 4 decimals of a detail line.
func (l formLine) Amount() bill.Money4 {
	a, _ := l.Item.Price.Times(l.Qty)
	return a
}

// payRow is one pay channel and what was paid through it.
type payRow struct {
	Code   string
	Amount bill.Money
	Blank  bool // nothing typed: takes what is left to allocate
}

// formInput is everything the issue screen collects.
type formInput struct {
	Kind                                   bill.Kind
	BusNo, Department                      string
	Payer, PayerType, IDCardNo             string
	PatientNo, Sex, Age, VisitDate         string
	HospitalNo, InDate, OutDate, CheckUpNo string
	CaseNumber, Ward, BedNo                string     // inpatient: 病历号, 病区, 床号
	InDept, OutDept                        string     // inpatient: 入院科室, 出院科室 (住院科别)
	CashPay, CashRecharge, CashRefund      bill.Money // inpatient: 预缴, 补缴, 退费金额 (printed, not collected)
	InsuranceType, InsuranceNo             string
	Lines                                  []formLine
	FundPay, AccountPay, OtherFundPay      bill.Money // the insurance's part
	SelfPayAmt, SelfConceitedAmt, OwnPay   bill.Money // how the patient's part splits (shown on the bill)
	Pays                                   []payRow
	Payee                                  string
	Checker                                string // 复核人, from the billing point's settings
	Now                                    time.Time
}

// InsurancePayChannel is the pay channel that carries the insurance part
// (统筹 + 个人账户 + 其他支付) of a settlement, as HIS systems in the field send it.
const InsurancePayChannel = "11"

var busTypes = map[bill.Kind]string{bill.Outpatient: "02", bill.Inpatient: "01", bill.Registration: "06", bill.Exam: "02"}

// formTotals is what the screen shows live as the cashier types.
type formTotals struct {
	Categories []bill.ChargeLine
	Total      bill.Money
	SelfCash   bill.Money // what the patient pays besides the insurance
	ToAllocate bill.Money // SelfCash not yet given a pay channel
}

// details builds the detail lines and categories of the form's lines, and
// sums them (categories rounded to fen, with explicit 货币误差 lines).
func (in *formInput) details() *bill.Settlement {
	s := &bill.Settlement{}
	seen := map[string]bool{}
	for i, l := range in.Lines {
		cat := l.Item.CategoryCode
		name := bill.ChargeCategories[cat]
		if name == "" {
			name = "其他费"
		}
		if !seen[cat] {
			seen[cat] = true
			s.ChargeDetail = append(s.ChargeDetail, bill.ChargeLine{SortNo: bill.Text(fmt.Sprint(len(s.ChargeDetail) + 1)),
				ChargeCode: bill.Text(cat), ChargeName: bill.Text(name), Unit: "项", Number: bill.Quantity(10000)})
		}
		s.ListDetail = append(s.ListDetail, bill.DetailLine{ListDetailNo: bill.Text(fmt.Sprint(i + 1)), ChargeCode: bill.Text(cat),
			ChargeName: bill.Text(name), Code: bill.Text(l.Item.Code), Name: bill.Text(l.Item.Name), Specification: bill.Text(l.Item.Spec),
			Unit: bill.Text(l.Item.Unit), Std: l.Item.Price, Number: l.Qty, Amt: l.Amount(), MedicalCareType: bill.Text(l.Item.MedicalClass)})
	}
	s.SumDetails()
	for i := range s.ChargeDetail {
		s.ChargeDetail[i].Std = s.ChargeDetail[i].Amt.Money4()
	}
	return s
}

// totals computes what the screen shows.
func (in *formInput) totals() formTotals {
	s := in.details()
	t := formTotals{Categories: s.ChargeDetail, Total: s.TotalAmt}
	t.SelfCash = t.Total - in.insured()
	t.ToAllocate = t.SelfCash
	for _, p := range in.Pays {
		t.ToAllocate -= p.Amount
	}
	return t
}

// insured is what the insurance pays: pooled fund, personal account and
// other funds; the patient pays the rest in cash (or by card, WeChat…).
func (in *formInput) insured() bill.Money { return in.FundPay + in.AccountPay + in.OtherFundPay }

// settlement builds the settlement the store validates and issues.
func (in *formInput) settlement() (*bill.Settlement, error) {
	if len(in.Lines) == 0 {
		return nil, bill.Errorf(bill.EInvalid, "请先添加收费项目（在“项目检索”中输入编码、名称或拼音首字母，回车添加）。")
	}
	for _, l := range in.Lines {
		if l.Qty <= 0 {
			return nil, bill.Errorf(bill.EInvalid, "“%s”的数量必须大于 0。", l.Item.Name)
		}
	}
	s := in.details()
	t := in.totals()
	for _, m := range []struct {
		name  string
		field string
		v     bill.Money
	}{{"医保统筹", "fundPay", in.FundPay}, {"个人账户", "accountPay", in.AccountPay}, {"其他支付", "otherfundPay", in.OtherFundPay},
		{"个人自付", "selfPayAmt", in.SelfPayAmt}, {"个人自负", "selfConceitedAmt", in.SelfConceitedAmt}, {"个人自费", "ownPay", in.OwnPay}} {
		if m.v < 0 {
			return nil, bill.FieldErrorf(m.field, "%s不能为负数：%s 元。", m.name, m.v)
		}
		if m.v > t.Total {
			return nil, bill.FieldErrorf(m.field, "%s %s 元超过了总金额 %s 元。", m.name, m.v, t.Total)
		}
	}
	if t.SelfCash < 0 {
		return nil, bill.FieldErrorf("fundPay", "医保统筹、个人账户和其他支付合计 %s 元超过了总金额 %s 元。", in.insured(), t.Total)
	}
	// Pay channels: the insurance part, then the cashier's rows; one row
	// left blank takes what is left.
	if in.insured() > 0 {
		s.PayChannelDetail = append(s.PayChannelDetail, bill.PayChannel{Code: InsurancePayChannel, Value: in.insured()})
	}
	left := t.SelfCash
	blank := -1
	for i, p := range in.Pays {
		if p.Blank {
			if blank >= 0 {
				return nil, bill.Errorf(bill.EInvalid, "有多种支付方式没有填写金额；请填写金额，只留一种自动取剩余金额。")
			}
			blank = i
			continue
		}
		left -= p.Amount
	}
	for i, p := range in.Pays {
		amount := p.Amount
		if i == blank {
			amount, left = left, 0
		}
		if amount < 0 {
			return nil, bill.FieldErrorf("payChannelDetail", "支付金额不能为负数，还需分配的金额为 %s 元。", amount)
		}
		if amount > 0 {
			s.PayChannelDetail = append(s.PayChannelDetail, bill.PayChannel{Code: bill.Text(p.Code), Value: amount})
		}
	}
	if left != 0 {
		return nil, bill.FieldErrorf("payChannelDetail", "支付方式合计与个人现金应付 %s 元不符，还需分配 %s 元。", t.SelfCash, left)
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	busNo := strings.TrimSpace(in.BusNo)
	if busNo == "" {
		return nil, bill.FieldErrorf("busNo", "业务流水号不能为空。")
	}
	s.BusNo, s.BusType, s.BusDateTime = bill.Text(busNo), bill.Text(busTypes[in.Kind]), bill.Text(bill.FormatBusDateTime(now))
	s.Payee, s.Author, s.Checker = bill.Text(in.Payee), bill.Text(in.Payee), bill.Text(in.Checker)
	s.Payer, s.PayerType, s.IDCardNo = bill.Text(strings.TrimSpace(in.Payer)), bill.Text(in.PayerType), bill.Text(strings.ToUpper(strings.TrimSpace(in.IDCardNo)))
	s.PatientNo, s.PatientID, s.Sex, s.Age = bill.Text(in.PatientNo), bill.Text(in.PatientNo), bill.Text(in.Sex), bill.Text(in.Age)
	s.PatientCategory = bill.Text(in.Department)
	s.MedCareTypeCode, s.MedicalInsuranceID = bill.Text(in.InsuranceType), bill.Text(in.InsuranceNo)
	s.MedicalCareType = bill.Text(insuranceNames[in.InsuranceType])
	s.FundPay, s.AccountPay, s.OtherFundPay, s.SelfCashPay = in.FundPay, in.AccountPay, in.OtherFundPay, t.SelfCash
	s.SelfPayAmt, s.SelfConceitedAmt, s.OwnPay, s.ReimbursementAmt = in.SelfPayAmt, in.SelfConceitedAmt, in.OwnPay, in.insured()
	switch in.Kind {
	case bill.Outpatient, bill.Registration:
		s.ConsultationDate = bill.Text(in.VisitDate)
	case bill.Inpatient:
		s.HospitalNo, s.InHospitalDate, s.OutHospitalDate = bill.Text(in.HospitalNo), bill.Text(in.InDate), bill.Text(in.OutDate)
		s.CaseNumber, s.Ward, s.BedNo = bill.Text(in.CaseNumber), bill.Text(in.Ward), bill.Text(in.BedNo)
		s.Category, s.LeaveCategory = bill.Text(in.InDept), bill.Text(in.OutDept)
		if s.Category == "" {
			s.Category = bill.Text(in.Department)
		}
		s.CashPay, s.CashRecharge, s.CashRefund = in.CashPay, in.CashRecharge, in.CashRefund
	case bill.Exam:
		s.CheckUpNo = bill.Text(in.CheckUpNo)
	}
	s.Normalize()
	if err := s.Validate(in.Kind); err != nil {
		return nil, err
	}
	return s, nil
}

var insuranceNames = map[string]string{"01": "职工基本医疗保险", "02": "城乡居民基本医疗保险", "06": "全公费", "07": "全自费", "99": "其他"}

// newBusNo is the BusNo of a bill typed at the desk: the point, the time
// and a sequence, so a double F9 finds the first bill instead of a second.
func newBusNo(place string, now time.Time, seq int) string {
	return fmt.Sprintf("%s%s%04d", place, now.In(bill.Beijing).Format("060102150405"), seq%10000)
}

// parseMoneyField reads a yuan amount typed by a cashier; empty is zero.
func parseMoneyField(name, s string) (bill.Money, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥"))
	if s == "" {
		return 0, nil
	}
	m, err := bill.ParseMoney(s)
	if err != nil {
		return 0, bill.Errorf(bill.EInvalid, "%s：%s", name, bill.ErrorMessage(err))
	}
	return m, nil
}
