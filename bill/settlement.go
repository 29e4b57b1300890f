package bill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Settlement is one settlement to bill: the business JSON of the
// Bosssoft-style invoiceEBillOutpatient call (and its inpatient,
// registration and exam siblings), with the same field names, so one parser
// serves the CLI, the GUI's import and the server's HIS API.
//
// Struct tags: `max` is the specification's length (in characters), what
// the bill face is laid out for; it is enforced where `strict` is set —
// keys, codes, dates, identity and numbers that something depends on.
// Other text (names, wards, detail codes…) is stored as sent up to
// LenientTextMax, because real HIS clients exceed the table (nhis sends a
// 32-character UUID as a 货币误差 line's code) and the face shrinks or
// shortens what does not fit. `req` lists the bill kinds for which a field
// is required ("all" for every kind).
type Settlement struct {
	BusNo         Text  `json:"busNo,omitempty" max:"50" strict:"y" req:"all"`
	BusType       Text  `json:"busType,omitempty" max:"20" strict:"y" req:"all"`
	BusDateTime   Text  `json:"busDateTime,omitempty" max:"17" strict:"y" req:"all"`
	PlaceCode     Text  `json:"placeCode,omitempty" max:"50" strict:"y"`
	Payee         Text  `json:"payee,omitempty" max:"60" req:"all"`
	Author        Text  `json:"author,omitempty" max:"60" req:"all"`
	Checker       Text  `json:"checker,omitempty" max:"60"`
	Remark        Text  `json:"remark,omitempty" max:"200"`
	TotalAmt      Money `json:"totalAmt,omitempty"`
	IsArrears     Text  `json:"isArrears,omitempty" max:"1" strict:"y"`
	ArrearsReason Text  `json:"arrearsReason,omitempty" max:"200"`
	// Payment references, kept as sent: 支付宝账户, 微信支付订单号, 微信
	// 公众号或小程序用户ID, 微信医保支付订单号, 业务票据关联号.
	AlipayCode       Text `json:"alipayCode,omitempty" max:"100"`
	WeChatOrderNo    Text `json:"weChatOrderNo,omitempty" max:"100"`
	OpenID           Text `json:"openID,omitempty" max:"60"`
	WeChatMedTransNo Text `json:"weChatMedTransNo,omitempty" max:"100"`
	EBillRelateNo    Text `json:"eBillRelateNo,omitempty" max:"32"`

	// Payer (交款人).
	Payer     Text `json:"payer,omitempty" max:"100" req:"all"`
	PayerType Text `json:"payerType,omitempty" max:"1" strict:"y" req:"all"`
	IDCardNo  Text `json:"idCardNo,omitempty" max:"30" strict:"y"`
	// IDCardType is the kind of identity document (证件类型), kept as sent.
	IDCardType Text `json:"idCardType,omitempty" max:"20"`
	CardType   Text `json:"cardType,omitempty" max:"10" strict:"y"`
	CardNo     Text `json:"cardNo,omitempty" max:"50"`
	Tel        Text `json:"tel,omitempty" max:"20" strict:"y"`
	Email      Text `json:"email,omitempty" max:"100"`

	// Visit (就诊信息).
	MedicalInstitution  Text `json:"medicalInstitution,omitempty" max:"30"`
	MedCareInstitution  Text `json:"medCareInstitution,omitempty" max:"60"`
	MedCareTypeCode     Text `json:"medCareTypeCode,omitempty" max:"30"`
	MedicalCareType     Text `json:"medicalCareType,omitempty" max:"60"`
	MedicalInsuranceID  Text `json:"medicalInsuranceID,omitempty" max:"30"`
	PatientCategory     Text `json:"patientCategory,omitempty" max:"60" req:"outpatient,inpatient,registration"`
	PatientCategoryCode Text `json:"patientCategoryCode,omitempty" max:"60"`
	PatientID           Text `json:"patientId,omitempty" max:"30"`
	PatientNo           Text `json:"patientNo,omitempty" max:"30"`
	CaseNumber          Text `json:"caseNumber,omitempty" max:"50"`
	ConsultationDate    Text `json:"consultationDate,omitempty" max:"10" strict:"y" req:"outpatient,registration"`
	Sex                 Text `json:"sex,omitempty" max:"4"`
	Age                 Text `json:"age,omitempty" max:"10"`
	HospitalNo          Text `json:"hospitalNo,omitempty" max:"30" req:"inpatient"`
	InHospitalDate      Text `json:"inHospitalDate,omitempty" max:"10" strict:"y" req:"inpatient"`
	OutHospitalDate     Text `json:"outHospitalDate,omitempty" max:"10" strict:"y" req:"inpatient"`
	HospitalDays        Text `json:"hospitalDays,omitempty" max:"10" strict:"y"`
	Ward                Text `json:"patientWard,omitempty" max:"60"`
	HospitalArea        Text `json:"hospitalArea,omitempty" max:"60"` // 病区 as the reference names it (patientWard is read too)
	BedNo               Text `json:"bedNo,omitempty" max:"20"`
	// 住院科别: the admitting and discharging departments (入院/出院科室).
	// Older platform versions send an outpatient's 就诊科室 as category.
	Category          Text `json:"category,omitempty" max:"60"`
	CategoryCode      Text `json:"categoryCode,omitempty" max:"60"`
	LeaveCategory     Text `json:"leaveCategory,omitempty" max:"60"`
	LeaveCategoryCode Text `json:"leaveCategoryCode,omitempty" max:"60"`
	CheckUpNo         Text `json:"checkUpNo,omitempty" max:"50" req:"exam"`
	VisitNo           Text `json:"visitNo,omitempty" max:"20"` // 住院就诊编号 (may equal hospitalNo)
	ICD               Text `json:"ICD,omitempty" max:"20"`     // 疾病编码
	// SpecialDiseasesName is the insured special disease (特殊病种名称).
	SpecialDiseasesName Text `json:"specialDiseasesName,omitempty" max:"200"`

	// A deposit voucher's 缴款人 (when not the patient), the account the
	// deposit came from, and the payer's work unit or address.
	Drawee      Text `json:"drawee,omitempty" max:"50"`
	AccountName Text `json:"accountName,omitempty" max:"200"`
	AccountNo   Text `json:"accountNo,omitempty" max:"200"`
	AccountBank Text `json:"accountBank,omitempty" max:"200"`
	WorkUnit    Text `json:"workUnit,omitempty" max:"200"`

	// Amount split of the insurance settlement (all fen).
	FundPay          Money `json:"fundPay,omitempty"`
	AccountPay       Money `json:"accountPay,omitempty"`
	OtherFundPay     Money `json:"otherfundPay,omitempty"`
	OwnPay           Money `json:"ownPay,omitempty"`
	SelfConceitedAmt Money `json:"selfConceitedAmt,omitempty"`
	SelfPayAmt       Money `json:"selfPayAmt,omitempty"`
	SelfCashPay      Money `json:"selfCashPay,omitempty"`
	ReimbursementAmt Money `json:"reimbursementAmt,omitempty"`
	OwnAcBalance     Money `json:"ownAcBalance,omitempty"`
	// The inpatient deposit account (住院预交金): 预缴金额, 补缴金额, 退费金额.
	CashPay        Money `json:"cashPay,omitempty"`
	CashRecharge   Money `json:"cashRecharge,omitempty"`
	CashRefund     Money `json:"cashRefund,omitempty"`
	BalancedNumber Text  `json:"balancedNumber,omitempty" max:"100"`

	ChargeDetail     []ChargeLine `json:"chargeDetail,omitempty"`
	ListDetail       []DetailLine `json:"listDetail,omitempty"`
	PayChannelDetail []PayChannel `json:"payChannelDetail,omitempty"`
	OtherInfo        []OtherInfo  `json:"otherInfo,omitempty"`
	// OtherMedicalList is further insurance information (其它医保信息).
	OtherMedicalList []OtherMedical `json:"otherMedicalList,omitempty"`
	// PayMentVoucher lists the deposit vouchers the settlement consumed
	// (预交金凭证消费扣款列表).
	PayMentVoucher []VoucherRef `json:"payMentVoucher,omitempty"`
}

// ChargeLine is one charge category on the bill face (chargeDetail).
type ChargeLine struct {
	SortNo     Text     `json:"sortNo,omitempty" max:"10"`
	ChargeCode Text     `json:"chargeCode,omitempty" max:"50" strict:"y" req:"all"`
	ChargeName Text     `json:"chargeName,omitempty" max:"100" req:"all"`
	Unit       Text     `json:"unit,omitempty" max:"20"`
	Std        Money4   `json:"std,omitempty"`
	Number     Quantity `json:"number,omitempty"`
	Amt        Money    `json:"amt,omitempty"`
	SelfAmt    Money    `json:"selfAmt,omitempty"`
	Remark     Text     `json:"remark,omitempty" max:"200"`
}

// DetailLine is one item of the detail list (listDetail, 医疗收费明细).
type DetailLine struct {
	ListDetailNo    Text     `json:"listDetailNo,omitempty" max:"60"`
	ChargeCode      Text     `json:"chargeCode,omitempty" max:"50" strict:"y" req:"all"`
	ChargeName      Text     `json:"chargeName,omitempty" max:"100"`
	PrescribeCode   Text     `json:"prescribeCode,omitempty" max:"60"`
	ListTypeCode    Text     `json:"listTypeCode,omitempty" max:"50"`
	ListTypeName    Text     `json:"listTypeName,omitempty" max:"100"`
	Code            Text     `json:"code,omitempty" max:"30"`
	Name            Text     `json:"name,omitempty" max:"100" req:"all"`
	Form            Text     `json:"form,omitempty" max:"50"`
	Specification   Text     `json:"specification,omitempty" max:"100"`
	Unit            Text     `json:"unit,omitempty" max:"20"`
	Std             Money4   `json:"std,omitempty"`
	Number          Quantity `json:"number,omitempty"`
	Amt             Money4   `json:"amt,omitempty"`
	SelfAmt         Money4   `json:"selfAmt,omitempty"`
	ReceivableAmt   Money4   `json:"receivableAmt,omitempty"`
	MedicalCareType Text     `json:"medicalCareType,omitempty" max:"10"`
	MedCareItemCode Text     `json:"medCareItemCode,omitempty" max:"100"`
	MedCareItemName Text     `json:"medCareItemName,omitempty" max:"100"`
	Remark          Text     `json:"remark,omitempty" max:"200"`
}

// PayChannel is one way the payer paid (payChannelDetail).
type PayChannel struct {
	Code  Text  `json:"payChannelCode,omitempty" max:"20" strict:"y" req:"all"`
	Value Money `json:"payChannelValue,omitempty"`
}

// OtherInfo is an extra name/value shown on the bill (otherInfo).
type OtherInfo struct {
	InfoNo    Text `json:"infoNo,omitempty" max:"10"`
	InfoName  Text `json:"infoName,omitempty" max:"100"`
	InfoValue Text `json:"infoValue,omitempty" max:"200"`
}

// OtherMedical is one item of further insurance information (otherMedicalList).
type OtherMedical struct {
	InfoNo    Text `json:"infoNo,omitempty" max:"10"`
	InfoName  Text `json:"infoName,omitempty" max:"100"`
	InfoValue Text `json:"infoValue,omitempty" max:"100"`
	InfoOther Text `json:"infoOther,omitempty" max:"100"`
}

// VoucherRef names a deposit voucher a settlement consumed (payMentVoucher).
type VoucherRef struct {
	VoucherBatchCode Text `json:"voucherBatchCode,omitempty" max:"50" strict:"y" req:"all"`
	VoucherNo        Text `json:"voucherNo,omitempty" max:"20" strict:"y" req:"all"`
}

// RoundingLineName names the explicit rounding line (货币误差) that carries the
// difference between a category's 4-decimal details and its amount in fen.
const RoundingLineName = "货币误差"

// IsRounding reports whether d is the explicit rounding line.
func (d DetailLine) IsRounding() bool {
	return string(d.Name) == RoundingLineName || string(d.ChargeName) == RoundingLineName
}

// Text is a string field read leniently, as HIS clients in the field send
// them: a JSON string, a number kept as its literal text (19-digit patient
// numbers never pass through a float), or null for empty.
type Text string

func (t *Text) UnmarshalJSON(b []byte) error {
	s, null, err := jsonScalar(b)
	if err != nil {
		return err
	}
	if null {
		*t = ""
		return nil
	}
	*t = Text(s)
	return nil
}

// MaxSettlementBytes bounds a settlement document.
const MaxSettlementBytes = 4 << 20

// ParseSettlement decodes a settlement's business JSON. Unknown fields are
// ignored and nulls read as empty; amounts are read exactly from strings or
// numbers. The error names the offending field in Chinese. It does not
// validate business rules: call Validate for that.
func ParseSettlement(data []byte) (*Settlement, error) {
	if len(data) > MaxSettlementBytes {
		return nil, Errorf(EInvalid, "结算数据过大（%d 字节），上限为 %d 字节", len(data), MaxSettlementBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from Windows editors
	if err := CheckUTF8(data); err != nil {
		return nil, err
	}
	var s Settlement
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, describeJSONError(data, err)
	}
	return &s, nil
}

// CheckUTF8 refuses data that is not UTF-8 — GBK from older HIS or a
// file saved by a Chinese-locale Windows editor — before JSON decoding
// would replace the bytes with U+FFFD and a legal bill would be signed
// with the damage in it.
func CheckUTF8(data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	at := 0
	for at < len(data) {
		r, size := utf8.DecodeRune(data[at:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		at += size
	}
	return Errorf(EEncoding, "结算数据不是 UTF-8 编码（第 %d 字节起，多为 GBK）：请改用 UTF-8 编码后重新发送（文件请另存为 UTF-8）；没有开具任何票据", at+1)
}

// describeJSONError turns a decoding error into an *Error naming the field.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return Errorf(EInvalid, "结算数据不是合法的 JSON（第 %d 字节附近）：%v", syn.Offset, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return FieldErrorf(typ.Field, "类型不正确：收到 %s，应为 %s", typ.Value, jsonTypeName(typ.Type.Kind().String()))
	}
	if field, msg := locateBadValue(data); field != "" {
		return FieldErrorf(field, "%s", msg)
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(EInvalid, "结算数据无法解析：%v", err)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "slice":
		return "数组"
	case "struct":
		return "对象"
	}
	return "字符串或数字"
}

// locateBadValue finds the first field whose value our lenient types refuse,
// so that the message can name it (encoding/json does not give the path of
// an error returned by UnmarshalJSON).
func locateBadValue(data []byte) (field, msg string) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root map[string]any
	if dec.Decode(&root) != nil {
		return "", ""
	}
	return findBad("", root, settlementFieldKinds[""])
}

type valueKind int

const (
	kindText valueKind = iota
	kindMoney
	kindMoney4
	kindQuantity
)

// settlementFieldKinds lists, per array ("" for the top level), the fields
// whose values are not plain text.
var settlementFieldKinds = map[string]map[string]valueKind{
	"": {"totalAmt": kindMoney, "fundPay": kindMoney, "accountPay": kindMoney, "otherfundPay": kindMoney,
		"ownPay": kindMoney, "selfConceitedAmt": kindMoney, "selfPayAmt": kindMoney, "selfCashPay": kindMoney,
		"reimbursementAmt": kindMoney, "ownAcBalance": kindMoney, "cashPay": kindMoney, "cashRecharge": kindMoney, "cashRefund": kindMoney},
	"chargeDetail":     {"std": kindMoney4, "number": kindQuantity, "amt": kindMoney, "selfAmt": kindMoney},
	"listDetail":       {"std": kindMoney4, "number": kindQuantity, "amt": kindMoney4, "selfAmt": kindMoney4, "receivableAmt": kindMoney4},
	"payChannelDetail": {"payChannelValue": kindMoney},
	"otherInfo":        {},
	"otherMedicalList": {},
	"payMentVoucher":   {},
}

func findBad(prefix string, obj map[string]any, kinds map[string]valueKind) (string, string) {
	for name, v := range obj {
		path := prefix + name
		if sub, isArray := settlementFieldKinds[name]; isArray && prefix == "" {
			arr, ok := v.([]any)
			if v != nil && !ok {
				return path, "应为数组"
			}
			for i, el := range arr {
				m, ok := el.(map[string]any)
				if !ok {
					return fmt.Sprintf("%s[%d]", path, i), "应为对象"
				}
				if f, msg := findBad(fmt.Sprintf("%s[%d].", path, i), m, sub); f != "" {
					return f, msg
				}
			}
			continue
		}
		if msg := checkScalar(v, kinds[name]); msg != "" {
			return path, msg
		}
	}
	return "", ""
}

func checkScalar(v any, kind valueKind) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = fmt.Sprint(x)
		if kind == kindText {
			return "应为字符串或数字，不能是 true/false"
		}
	default:
		return "应为字符串或数字，不能是对象或数组"
	}
	var err error
	switch kind {
	case kindMoney:
		_, err = ParseMoney(s)
	case kindMoney4:
		_, err = ParseMoney4(s)
	case kindQuantity:
		_, err = ParseQuantity(s)
	}
	if err != nil {
		return ErrorMessage(err)
	}
	return ""
}

func jsonUnquote(b []byte, s *string) error {
	if err := json.Unmarshal(b, s); err != nil {
		return fmt.Errorf("字符串格式不正确")
	}
	return nil
}

// Clone returns a copy that shares no slice with s.
func (s *Settlement) Clone() *Settlement {
	c := *s
	c.ChargeDetail = append([]ChargeLine(nil), s.ChargeDetail...)
	c.ListDetail = append([]DetailLine(nil), s.ListDetail...)
	c.PayChannelDetail = append([]PayChannel(nil), s.PayChannelDetail...)
	c.OtherInfo = append([]OtherInfo(nil), s.OtherInfo...)
	c.OtherMedicalList = append([]OtherMedical(nil), s.OtherMedicalList...)
	c.PayMentVoucher = append([]VoucherRef(nil), s.PayMentVoucher...)
	return &c
}

// Normalize trims spaces from every text field and writes dates in one form
// (busDateTime as yyyyMMddHHmmssSSS, visit dates as yyyyMMdd), so that the
// same settlement always encodes to the same bytes.
func (s *Settlement) Normalize() {
	trimTexts(s)
	for i := range s.ChargeDetail {
		trimTexts(&s.ChargeDetail[i])
	}
	for i := range s.ListDetail {
		trimTexts(&s.ListDetail[i])
	}
	for i := range s.PayChannelDetail {
		trimTexts(&s.PayChannelDetail[i])
	}
	for i := range s.OtherInfo {
		trimTexts(&s.OtherInfo[i])
	}
	for i := range s.OtherMedicalList {
		trimTexts(&s.OtherMedicalList[i])
	}
	for i := range s.PayMentVoucher {
		trimTexts(&s.PayMentVoucher[i])
	}
	if len(s.BusDateTime) == 14 && allDigits(string(s.BusDateTime)) {
		s.BusDateTime += "000"
	}
	for _, d := range []*Text{&s.ConsultationDate, &s.InHospitalDate, &s.OutHospitalDate} {
		if len(*d) == 10 && (*d)[4] == '-' && (*d)[7] == '-' {
			*d = Text(strings.ReplaceAll(string(*d), "-", ""))
		}
	}
	// Other platform versions and the reference send the 就诊科室 as
	// category/categoryCode (an inpatient bill has only category, its
	// 入院科室) and the ward as hospitalArea: the fields the rules and the
	// face read are filled from them; the fields stay as sent.
	if s.PatientCategory == "" {
		s.PatientCategory = s.Category
	}
	if s.PatientCategoryCode == "" {
		s.PatientCategoryCode = s.CategoryCode
	}
	if s.Ward == "" {
		s.Ward = s.HospitalArea
	}
	if s.IsArrears == "" {
		s.IsArrears = "0"
	}
	if s.PayerType == "" {
		s.PayerType = "1"
	}
}

// Canonical returns the settlement's canonical encoding: the same content
// always gives the same bytes, whatever field order or number spelling the
// caller used. Its SM3 hash is the idempotency fingerprint of a BusNo.
func (s *Settlement) Canonical() []byte {
	b, err := marshalCanonical(s)
	if err != nil {
		panic(fmt.Sprintf("bill: canonical settlement: %v", err)) // only plain types: cannot fail
	}
	return b
}

func marshalCanonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
