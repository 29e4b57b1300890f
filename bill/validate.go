package bill

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Kind is the kind of a medical bill.
type Kind string

// The bill kinds of domain.md §3.
const (
	Outpatient   Kind = "outpatient"
	Inpatient    Kind = "inpatient"
	Registration Kind = "registration"
	Exam         Kind = "exam"
	// Deposit is the deposit voucher (预交金电子凭证) of an inpatient,
	// outpatient or exam deposit.
	Deposit Kind = "deposit"
	// The general bills a hospital issues besides medical ones
	// (invoiceEBillCommon): 往来结算票据 (busType 09), 公益事业捐赠票据
	// (10) and 非税收入通用票据 (11).
	Transfer Kind = "transfer"
	Donation Kind = "donation"
	NonTax   Kind = "nontax"
)

// Kinds lists the medical bill kinds, the ones stations issue, in display order.
var Kinds = []Kind{Outpatient, Inpatient, Registration, Exam}

// ServerKinds are issued for HIS by server points only, each under a bill
// code of its own: stations are never given their numbers.
var ServerKinds = []Kind{Deposit, Transfer, Donation, NonTax}

// AllKinds lists every kind the ledger holds.
var AllKinds = append(append([]Kind(nil), Kinds...), ServerKinds...)

// Medical reports whether k is a medical bill kind (one of Kinds).
func (k Kind) Medical() bool {
	switch k {
	case Outpatient, Inpatient, Registration, Exam:
		return true
	}
	return false
}

// Name is the kind's Chinese name as printed in titles: 门诊, 住院, 挂号, 体检…
func (k Kind) Name() string {
	switch k {
	case Outpatient:
		return "门诊"
	case Inpatient:
		return "住院"
	case Registration:
		return "挂号"
	case Exam:
		return "体检"
	case Deposit:
		return "预交金"
	case Transfer:
		return "往来结算"
	case Donation:
		return "公益事业捐赠"
	case NonTax:
		return "非税收入通用"
	}
	return string(k)
}

// CommonKind is the general bill kind of an invoiceEBillCommon business
// type: 09 往来, 10 捐赠, 11 非税通用.
func CommonKind(busType Text) (Kind, error) {
	switch busType {
	case "09":
		return Transfer, nil
	case "10":
		return Donation, nil
	case "11":
		return NonTax, nil
	}
	return "", FieldErrorf("busType", "通用票据的业务标识应为 09（往来票）、10（捐赠票）或 11（非税通用票），收到 %q", busType)
}

// InferKind tells a settlement's kind from its content: an exam number
// makes it an exam bill, a hospital number or admission date an inpatient
// bill, business type 06 a registration bill, and anything else outpatient.
func InferKind(s *Settlement) Kind {
	switch {
	case strings.TrimSpace(string(s.CheckUpNo)) != "":
		return Exam
	case s.HospitalNo != "" || s.InHospitalDate != "":
		return Inpatient
	case strings.TrimSpace(string(s.BusType)) == "06":
		return Registration
	}
	return Outpatient
}

// ChargeCategories names the charge categories of domain.md §3 as the bill
// face prints them.
var ChargeCategories = map[string]string{
	"01": "床位费", "02": "诊察费", "03": "检查费", "04": "化验费", "05": "治疗费", "06": "手术费", "07": "护理费",
	"08": "卫生材料费", "09": "西药费", "10": "中药饮片费", "11": "中成药费", "12": "一般诊疗费", "13": "挂号费", "14": "其他费",
}

// ParseKind accepts a kind by its English or Chinese name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if s == string(k) || s == k.Name() {
			return k, nil
		}
	}
	return "", Errorf(EInvalid, "未知的票据种类 %q，可选：outpatient(门诊)、inpatient(住院)、registration(挂号)、exam(体检)", s)
}

// ParseAnyKind accepts any kind of AllKinds by its English or Chinese name.
func ParseAnyKind(s string) (Kind, error) {
	for _, k := range AllKinds {
		if s == string(k) || s == k.Name() {
			return k, nil
		}
	}
	return "", Errorf(EInvalid, "未知的票据种类 %q，可选：outpatient(门诊)、inpatient(住院)、registration(挂号)、exam(体检)、"+
		"deposit(预交金)、transfer(往来结算)、donation(公益事业捐赠)、nontax(非税收入通用)", s)
}

// Validate checks a normalized settlement against the rules of a blue
// (positive) bill of kind k: required fields per kind, lengths, formats,
// identity checksums, and that every total adds up exactly. The first
// problem found is returned as an *Error naming the field.
func (s *Settlement) Validate(k Kind) error {
	if _, err := ParseAnyKind(string(k)); err != nil {
		return err
	}
	checks := []func(Kind) error{s.checkTexts, s.checkFormats, s.checkPayer, s.checkAmounts, s.checkDetails, s.checkPayChannels, s.checkDeposit, s.checkCommon}
	for _, check := range checks {
		if err := check(k); err != nil {
			return err
		}
	}
	return nil
}

func (s *Settlement) checkTexts(k Kind) error {
	if err := checkStructTexts("", s, k); err != nil {
		return err
	}
	for i := range s.ChargeDetail {
		if err := checkStructTexts(fmt.Sprintf("chargeDetail[%d].", i), &s.ChargeDetail[i], k); err != nil {
			return err
		}
	}
	for i := range s.ListDetail {
		if err := checkStructTexts(fmt.Sprintf("listDetail[%d].", i), &s.ListDetail[i], k); err != nil {
			return err
		}
	}
	for i := range s.PayChannelDetail {
		if err := checkStructTexts(fmt.Sprintf("payChannelDetail[%d].", i), &s.PayChannelDetail[i], k); err != nil {
			return err
		}
	}
	for i := range s.OtherInfo {
		if err := checkStructTexts(fmt.Sprintf("otherInfo[%d].", i), &s.OtherInfo[i], k); err != nil {
			return err
		}
	}
	for i := range s.OtherMedicalList {
		if err := checkStructTexts(fmt.Sprintf("otherMedicalList[%d].", i), &s.OtherMedicalList[i], k); err != nil {
			return err
		}
	}
	for i := range s.PayMentVoucher {
		if err := checkStructTexts(fmt.Sprintf("payMentVoucher[%d].", i), &s.PayMentVoucher[i], k); err != nil {
			return err
		}
	}
	return nil
}

var textType = reflect.TypeOf(Text(""))

// LenientTextMax is the longest text accepted in a field whose `max` is
// not strict: a sane bound on what a real client sends, not the spec table.
const LenientTextMax = 500

// textField is one Text field of a struct and the rules of its tags.
type textField struct {
	index int
	name  string // JSON name
	max   int    // the longest value accepted
	req   string
}

var textFieldCache sync.Map // reflect.Type → []textField

// textFields lists the Text fields of struct type t, read from its tags once.
func textFields(t reflect.Type) []textField {
	if fs, ok := textFieldCache.Load(t); ok {
		return fs.([]textField)
	}
	var fs []textField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type != textType {
			continue
		}
		max, _ := strconv.Atoi(f.Tag.Get("max"))
		if max > 0 && f.Tag.Get("strict") == "" {
			max = LenientTextMax
		}
		fs = append(fs, textField{index: i, name: strings.Split(f.Tag.Get("json"), ",")[0], max: max, req: f.Tag.Get("req")})
	}
	textFieldCache.Store(t, fs)
	return fs
}

// checkStructTexts applies the `req` and `max` tags of the Text fields of
// the struct that p points to.
func checkStructTexts(prefix string, p any, k Kind) error {
	v := reflect.ValueOf(p).Elem()
	for _, f := range textFields(v.Type()) {
		val := v.Field(f.index).String()
		if val == "" {
			if required(f.req, k) {
				return FieldErrorf(prefix+f.name, "必填项为空，请填写")
			}
			continue
		}
		name := prefix + f.name
		if !utf8.ValidString(val) || strings.ContainsRune(val, utf8.RuneError) {
			return FieldErrorf(name, "含有无法识别的字符（�，多为 GBK 等编码转换失败），请以 UTF-8 重新发送原文")
		}
		if f.max > 0 && utf8.RuneCountInString(val) > f.max {
			return FieldErrorf(name, "长度 %d 超过上限 %d 个字符", utf8.RuneCountInString(val), f.max)
		}
		if strings.ContainsFunc(val, func(r rune) bool { return r < 0x20 && r != '\t' }) {
			return FieldErrorf(name, "含有控制字符，请删除")
		}
	}
	return nil
}

func required(tag string, k Kind) bool {
	for _, w := range strings.Split(tag, ",") {
		if w == "all" || w == string(k) {
			return true
		}
	}
	return false
}

// trimTexts trims the spaces around every Text field of the struct p points to.
func trimTexts(p any) {
	v := reflect.ValueOf(p).Elem()
	for _, f := range textFields(v.Type()) {
		fv := v.Field(f.index)
		if s := fv.String(); s != "" {
			fv.SetString(strings.TrimSpace(s))
		}
	}
}

func (s *Settlement) checkFormats(Kind) error {
	if _, err := ParseBusDateTime(string(s.BusDateTime)); err != nil {
		return FieldErrorf("busDateTime", "%s", ErrorMessage(err))
	}
	dates := []struct {
		name string
		v    Text
	}{{"consultationDate", s.ConsultationDate}, {"inHospitalDate", s.InHospitalDate}, {"outHospitalDate", s.OutHospitalDate}}
	for _, d := range dates {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse("20060102", string(d.v)); err != nil || len(d.v) != 8 {
			return FieldErrorf(d.name, "日期 %q 格式不正确，应为 yyyyMMdd，例如 20261125", d.v)
		}
	}
	if s.InHospitalDate != "" && s.OutHospitalDate != "" && s.OutHospitalDate < s.InHospitalDate {
		return FieldErrorf("outHospitalDate", "出院日期 %s 早于入院日期 %s", s.OutHospitalDate, s.InHospitalDate)
	}
	if s.IsArrears != "0" && s.IsArrears != "1" {
		return FieldErrorf("isArrears", "应为 0（否）或 1（是），收到 %q", s.IsArrears)
	}
	if s.Tel != "" && strings.Trim(string(s.Tel), "0123456789-+ ") != "" {
		return FieldErrorf("tel", "电话号码只能包含数字和“-”，收到 %q", s.Tel)
	}
	if s.Email != "" && !strings.Contains(string(s.Email), "@") {
		return FieldErrorf("email", "电子邮箱格式不正确：%q", s.Email)
	}
	return nil
}

// BusDateTimeLayout is the protocol's timestamp layout, yyyyMMddHHmmssSSS.
const BusDateTimeLayout = "20060102150405.000"

// ParseBusDateTime reads a yyyyMMddHHmmssSSS timestamp in Beijing time.
func ParseBusDateTime(s string) (time.Time, error) {
	if len(s) != 17 || !allDigits(s) {
		return time.Time{}, Errorf(EInvalid, "时间 %q 格式不正确，应为17位 yyyyMMddHHmmssSSS，例如 20261125093000000", s)
	}
	t, err := time.ParseInLocation(BusDateTimeLayout, s[:14]+"."+s[14:], Beijing)
	if err != nil {
		return time.Time{}, Errorf(EInvalid, "时间 %q 不存在，请核对", s)
	}
	return t, nil
}

// FormatBusDateTime writes t in Beijing time as yyyyMMddHHmmssSSS.
func FormatBusDateTime(t time.Time) string {
	return strings.Replace(t.In(Beijing).Format(BusDateTimeLayout), ".", "", 1)
}

// Beijing is China Standard Time (UTC+8, no daylight saving since 1991),
// the zone of every time a user sees. Fixed, so no tzdata is needed.
var Beijing = time.FixedZone("CST", 8*3600)

func (s *Settlement) checkPayer(Kind) error {
	if s.PayerType != "1" && s.PayerType != "2" {
		return FieldErrorf("payerType", "交款人类型应为 1（个人）或 2（单位），收到 %q", s.PayerType)
	}
	id := string(s.IDCardNo)
	if id == "" {
		return nil
	}
	if s.PayerType == "2" {
		if len(id) == 18 {
			if err := CheckCreditCode(id); err != nil {
				return FieldErrorf("idCardNo", "%s", ErrorMessage(err))
			}
		}
		return nil
	}
	// A resident ID is stored as sent: HIS patient records carry typos
	// (a wrong check digit), and the bill must not wait on them. Warnings
	// names the problem for the cashier and the server's log.
	return nil
}

// Warnings are what a valid settlement may be issued with but someone
// should look at: a resident ID number whose check digit or birth date is
// wrong. The desk asks the cashier to confirm; the HIS API logs and counts
// them.
func (s *Settlement) Warnings() []string {
	id := strings.TrimSpace(string(s.IDCardNo))
	if s.PayerType == "2" || !looksLikeResidentID(id) {
		return nil
	}
	if err := CheckResidentID(id); err != nil {
		return []string{fmt.Sprintf("证件号 %s：%s", MaskID(id), ErrorMessage(err))}
	}
	return nil
}

// looksLikeResidentID: 17 or 18 digits (optionally ending in X) is a
// resident ID; passports and other documents are not checked.
func looksLikeResidentID(id string) bool {
	if len(id) == 18 {
		return allDigits(id[:17])
	}
	return len(id) == 17 && allDigits(id)
}

func (s *Settlement) checkAmounts(Kind) error {
	if s.TotalAmt <= 0 {
		return FieldErrorf("totalAmt", "开票总金额必须大于 0，收到 %s 元", s.TotalAmt)
	}
	split := []struct {
		name string
		v    Money
	}{{"fundPay", s.FundPay}, {"accountPay", s.AccountPay}, {"otherfundPay", s.OtherFundPay}, {"ownPay", s.OwnPay},
		{"selfConceitedAmt", s.SelfConceitedAmt}, {"selfPayAmt", s.SelfPayAmt}, {"selfCashPay", s.SelfCashPay},
		{"reimbursementAmt", s.ReimbursementAmt}, {"cashPay", s.CashPay}, {"cashRecharge", s.CashRecharge}, {"cashRefund", s.CashRefund}}
	for _, f := range split {
		if f.v < 0 {
			return FieldErrorf(f.name, "金额不能为负数：%s 元", f.v)
		}
	}
	if len(s.ChargeDetail) == 0 {
		return FieldErrorf("chargeDetail", "至少需要一条收费项目")
	}
	var sum Money
	seen := map[Text]bool{}
	for i, c := range s.ChargeDetail {
		if c.Amt < 0 {
			return FieldErrorf(fmt.Sprintf("chargeDetail[%d].amt", i), "金额不能为负数：%s 元", c.Amt)
		}
		if seen[c.ChargeCode] {
			return FieldErrorf(fmt.Sprintf("chargeDetail[%d].chargeCode", i), "收费项目代码 %s 重复，同一类别请合并为一行", c.ChargeCode)
		}
		seen[c.ChargeCode] = true
		sum += c.Amt
	}
	if sum != s.TotalAmt {
		return FieldErrorf("totalAmt", "开票总金额 %s 元与收费项目合计 %s 元不符，相差 %s 元", s.TotalAmt, sum, s.TotalAmt-sum)
	}
	return nil
}

// checkDetails: every detail belongs to a category, and the details of each
// category that has any add up exactly to its amount; a 货币误差 line may
// carry a difference of less than one fen, and nothing else may.
func (s *Settlement) checkDetails(Kind) error {
	sums := map[Text]Money4{}
	for i, d := range s.ListDetail {
		name := fmt.Sprintf("listDetail[%d]", i)
		if _, ok := s.category(d.ChargeCode); !ok {
			return FieldErrorf(name+".chargeCode", "明细所属收费项目 %q 不在 chargeDetail 中", d.ChargeCode)
		}
		if d.IsRounding() {
			if d.Amt <= -100 || d.Amt >= 100 {
				return FieldErrorf(name+".amt", "“货币误差”行只能承载不足 1 分的尾差，收到 %s 元", d.Amt)
			}
		} else if d.Amt < 0 {
			return FieldErrorf(name+".amt", "明细金额不能为负数：%s 元", d.Amt)
		}
		sums[d.ChargeCode] += d.Amt
	}
	for i, c := range s.ChargeDetail {
		got, has := sums[c.ChargeCode]
		if !has || got == c.Amt.Money4() {
			continue
		}
		diff := c.Amt.Money4() - got
		return FieldErrorf(fmt.Sprintf("chargeDetail[%d].amt", i),
			"收费项目“%s”金额 %s 元与其明细合计 %s 元不符（相差 %s 元）；如为四舍五入尾差，请增加一行“货币误差”明细",
			c.ChargeName, c.Amt, got, diff)
	}
	return nil
}

func (s *Settlement) category(code Text) (ChargeLine, bool) {
	for _, c := range s.ChargeDetail {
		if c.ChargeCode == code {
			return c, true
		}
	}
	return ChargeLine{}, false
}

func (s *Settlement) checkPayChannels(Kind) error {
	if len(s.PayChannelDetail) == 0 {
		return FieldErrorf("payChannelDetail", "至少需要一种交费渠道")
	}
	var sum Money
	for i, p := range s.PayChannelDetail {
		if p.Value < 0 {
			return FieldErrorf(fmt.Sprintf("payChannelDetail[%d].payChannelValue", i), "交费金额不能为负数：%s 元", p.Value)
		}
		sum += p.Value
	}
	if sum != s.TotalAmt {
		return FieldErrorf("payChannelDetail", "交费渠道合计 %s 元与开票总金额 %s 元不符，还需分配 %s 元", sum, s.TotalAmt, s.TotalAmt-sum)
	}
	return nil
}

// AddRoundingLines appends, for each category whose details do not add up
// to its amount by less than one fen, the explicit 货币误差 line that makes
// them add up. It is how a form that computes categories from 4-decimal
// details keeps every rounding visible.
func (s *Settlement) AddRoundingLines() {
	sums := map[Text]Money4{}
	for _, d := range s.ListDetail {
		sums[d.ChargeCode] += d.Amt
	}
	for _, c := range s.ChargeDetail {
		got, has := sums[c.ChargeCode]
		diff := c.Amt.Money4() - got
		if !has || diff == 0 || diff <= -100 || diff >= 100 {
			continue
		}
		s.ListDetail = append(s.ListDetail, DetailLine{ChargeCode: c.ChargeCode, ChargeName: c.ChargeName,
			Name: RoundingLineName, Amt: diff})
	}
}

// SumDetails builds the categories' amounts from 4-decimal details: each
// category becomes the fen-rounded sum of its details, and a 货币误差 line is
// added where rounding changed it. Existing category amounts are replaced,
// and the total is set to the new sum.
func (s *Settlement) SumDetails() {
	sums := map[Text]Money4{}
	for _, d := range s.ListDetail {
		if !d.IsRounding() {
			sums[d.ChargeCode] += d.Amt
		}
	}
	kept := s.ListDetail[:0]
	for _, d := range s.ListDetail {
		if !d.IsRounding() {
			kept = append(kept, d)
		}
	}
	s.ListDetail = kept
	s.TotalAmt = 0
	for i := range s.ChargeDetail {
		if sum, ok := sums[s.ChargeDetail[i].ChargeCode]; ok {
			s.ChargeDetail[i].Amt, _ = sum.RoundFen()
		}
		s.TotalAmt += s.ChargeDetail[i].Amt
	}
	s.AddRoundingLines()
}
