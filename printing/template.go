package printing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/ebill/ebill/assets"
	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
)

// Template describes a pre-printed, pre-numbered paper bill form: where
// each variable field lands, in mm from the paper's top-left corner. The
// form's own text, frame and number are on the paper already.
type Template struct {
	Name       string          `json:"name"`
	Title      string          `json:"title"`
	Kinds      []bill.Kind     `json:"kinds"`
	Width      float64         `json:"width"`
	Height     float64         `json:"height"`
	Size       float64         `json:"size"` // default text size, points
	Fields     []TemplateField `json:"fields"`
	Categories CategoryGrid    `json:"categories"`
	// QR places the e-bill's verification QR code (Size mm square, quiet
	// zone included), when the form has room for it; none when Size is 0.
	QR *TemplateQR `json:"qr,omitempty"`
}

// TemplateQR is where a paper form prints the verification QR code.
type TemplateQR struct {
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Size float64 `json:"size"`
}

// TemplateField places one value. (X, Y) is the top-left corner of the
// text; W, when set, is the box the text must fit (it shrinks, then is cut)
// and within which it is aligned.
type TemplateField struct {
	Field string  `json:"field"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	W     float64 `json:"w,omitempty"`
	Size  float64 `json:"size,omitempty"`
	Align string  `json:"align,omitempty"` // left (default), center, right
}

// CategoryGrid places the charge categories: Rows × Columns cells, filled
// down each column; each cell shows the name, then the amount right-aligned.
type CategoryGrid struct {
	X           float64 `json:"x"`
	Y           float64 `json:"y"`
	Rows        int     `json:"rows"`
	Columns     int     `json:"columns"`
	RowHeight   float64 `json:"rowHeight"`
	ColumnWidth float64 `json:"columnWidth"`
	NameWidth   float64 `json:"nameWidth"`
	AmountWidth float64 `json:"amountWidth"`
	Size        float64 `json:"size,omitempty"`
}

// TemplateFields names every field a template may place, with its Chinese
// description (for `ebill printer templates` and the docs).
var TemplateFields = map[string]string{
	"eBill": "电子票据代码、号码、校验码", "eBillCode": "电子票据代码", "eBillNo": "电子票据号码", "checkCode": "校验码",
	"date": "开票日期", "year": "开票年", "month": "开票月", "day": "开票日",
	"payer": "交款人", "payerID": "交款人证件号（脱敏）", "busNo": "业务流水号", "patientNo": "门诊号",
	"hospitalNo": "住院号", "patientCategory": "科室/患者类别", "visitDate": "就诊日期", "stay": "住院时间",
	"hospitalDays": "住院天数", "ward": "病区床号", "sex": "性别", "age": "年龄", "insuranceType": "医保类型",
	"insuranceNo": "医保编号", "institution": "医疗机构类型", "checkUpNo": "体检号",
	"totalCapitals": "合计（大写）", "total": "合计（小写）", "fundPay": "医保统筹基金支付",
	"accountPay": "个人账户支付", "otherFundPay": "其他支付", "selfCashPay": "个人现金支付",
	"selfPayAmt": "个人自付", "ownPay": "个人自费", "selfConceitedAmt": "个人自负", "payChannels": "支付方式",
	"unit": "收款单位", "payee": "收款人", "checker": "复核人", "remark": "备注",
	"caseNumber": "病历号", "category": "住院科别（入院—出院科室）", "cashPay": "预缴金额", "cashRecharge": "补缴金额",
	"cashRefund": "退费金额",
}

// TemplateNames lists the templates shipped in assets.
func TemplateNames() []string {
	entries, _ := fs.ReadDir(assets.Templates, "templates")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	return out
}

// LoadTemplate reads a shipped template by name, or a template file when
// name ends in .json (a hospital's own form).
func LoadTemplate(name string) (*Template, error) {
	var data []byte
	var err error
	if strings.HasSuffix(name, ".json") {
		data, err = os.ReadFile(name)
		if err != nil {
			return nil, bill.Errorf(bill.EInvalid, "无法读取票据模板文件 %s：%v", name, err)
		}
	} else {
		data, err = fs.ReadFile(assets.Templates, "templates/"+name+".json")
		if err != nil {
			return nil, bill.Errorf(bill.EInvalid, "没有名为 %q 的票据模板；可选：%s，或给出模板文件路径（.json）。",
				name, strings.Join(TemplateNames(), "、"))
		}
	}
	return ParseTemplate(data)
}

// ParseTemplate decodes and checks a template: unknown fields, fields off
// the paper and missing sizes are refused with a message naming them.
func ParseTemplate(data []byte) (*Template, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, bill.Errorf(bill.EInvalid, "票据模板格式不正确：%v", err)
	}
	if t.Width <= 0 || t.Height <= 0 || t.Width > 500 || t.Height > 500 {
		return nil, bill.Errorf(bill.EInvalid, "票据模板 %s 的纸张尺寸 %.1f×%.1f 毫米不合理。", t.Name, t.Width, t.Height)
	}
	if t.Size == 0 {
		t.Size = 10
	}
	if q := t.QR; q != nil && (q.Size < 15 || q.X < 0 || q.Y < 0 || q.X+q.Size > t.Width || q.Y+q.Size > t.Height) {
		return nil, bill.Errorf(bill.EInvalid, "票据模板 %s 的二维码位置（%.1f, %.1f）或尺寸 %.1f 毫米不合理：至少 15 毫米，且须在纸张内。", t.Name, q.X, q.Y, q.Size)
	}
	for _, k := range t.Kinds {
		if _, err := bill.ParseKind(string(k)); err != nil {
			return nil, bill.Errorf(bill.EInvalid, "票据模板 %s：%s", t.Name, bill.ErrorMessage(err))
		}
	}
	for _, f := range t.Fields {
		if _, ok := TemplateFields[f.Field]; !ok {
			return nil, bill.Errorf(bill.EInvalid, "票据模板 %s 中的字段 %q 不存在。", t.Name, f.Field)
		}
		if f.X < 0 || f.Y < 0 || f.X+f.W > t.Width || f.Y > t.Height {
			return nil, bill.Errorf(bill.EInvalid, "票据模板 %s 中字段 %s 的位置（%.1f, %.1f）超出纸张。", t.Name, f.Field, f.X, f.Y)
		}
		switch f.Align {
		case "", "left", "center", "right":
		default:
			return nil, bill.Errorf(bill.EInvalid, "票据模板 %s 中字段 %s 的对齐方式 %q 不正确（left、center、right）。", t.Name, f.Field, f.Align)
		}
	}
	c := t.Categories
	if c.Rows < 0 || c.Columns < 0 || c.X+float64(c.Columns)*c.ColumnWidth > t.Width+0.01 ||
		c.Y+float64(c.Rows)*c.RowHeight > t.Height+0.01 {
		return nil, bill.Errorf(bill.EInvalid, "票据模板 %s 的收费项目区域超出纸张。", t.Name)
	}
	return &t, nil
}

// ForKind picks the shipped template for a bill kind.
func ForKind(k bill.Kind) (*Template, error) {
	for _, name := range TemplateNames() {
		t, err := LoadTemplate(name)
		if err != nil {
			return nil, err
		}
		if slices.Contains(t.Kinds, k) {
			return t, nil
		}
	}
	return nil, bill.Errorf(bill.EInvalid, "没有适用于%s票据的纸质票据模板。", k.Name())
}

// Offset is a printer's calibration: how far to move everything, in mm
// (positive X to the right, positive Y down).
type Offset struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Layout places the bill's values on the template, moved by the printer's
// calibration offset.
func (t *Template) Layout(info BillInfo, f *Font, off Offset) *Document {
	p := &page{f: f}
	if t.QR != nil && t.QR.Size > 0 && info.VerifyURL != "" {
		p.add(QR{X: t.QR.X, Y: t.QR.Y, Size: t.QR.Size, Content: info.VerifyURL})
	}
	vals := paperValues(info)
	for _, fd := range t.Fields {
		size := fd.Size
		if size == 0 {
			size = t.Size
		}
		align := AlignLeft
		switch fd.Align {
		case "center":
			align = AlignCenter
		case "right":
			align = AlignRight
		}
		color := Black
		if info.Bill.Red != nil && strings.HasPrefix(vals[fd.Field], "-") {
			color = Red
		}
		p.text(fd.Field, fd.X, fd.Y, fd.W, size, align, color, vals[fd.Field])
	}
	c := t.Categories
	size := c.Size
	if size == 0 {
		size = t.Size
	}
	lines := faceCategories(info.Bill.Settlement.ChargeDetail)
	if cells := c.Rows * c.Columns; len(lines) > cells && cells > 0 {
		var rest bill.Money
		for _, l := range info.Bill.Settlement.ChargeDetail[cells-1:] {
			rest += l.Amt
		}
		lines = append(lines[:cells-1], faceLine{name: "其他", amt: rest.String()})
	}
	for i, l := range lines {
		if c.Rows == 0 || i >= c.Rows*c.Columns {
			break
		}
		x := c.X + float64(i/c.Rows)*c.ColumnWidth
		y := c.Y + float64(i%c.Rows)*c.RowHeight
		p.text("category", x, y, c.NameWidth, size, AlignLeft, Black, l.name)
		p.text("amount", x+c.NameWidth, y, c.AmountWidth, size, AlignRight, Black, l.amt)
	}
	doc := &Document{Title: t.Title + " " + info.Bill.BillCode + " " + info.Bill.BillNo, Width: t.Width, Height: t.Height,
		Pages: []*Page{{Items: p.items}}}
	return doc.Shift(off.X, off.Y)
}

// paperValues is the text of every template field for a bill.
func paperValues(info BillInfo) map[string]string {
	b := info.Bill
	s := &b.Settlement
	at := b.IssuedTime().In(bill.Beijing)
	v := map[string]string{
		"eBill":     fmt.Sprintf("电子票据代码：%s  号码：%s  校验码：%s", b.BillCode, b.BillNo, info.CheckCode),
		"eBillCode": b.BillCode, "eBillNo": b.BillNo, "checkCode": info.CheckCode,
		"date": at.Format("2006-01-02"), "year": at.Format("2006"), "month": at.Format("01"), "day": at.Format("02"),
		"payer": string(s.Payer), "payerID": bill.PayerID(s), "busNo": string(s.BusNo),
		"patientNo": string(s.PatientNo), "hospitalNo": string(s.HospitalNo), "patientCategory": string(s.PatientCategory),
		"visitDate": dashDate(string(s.ConsultationDate)), "hospitalDays": string(s.HospitalDays),
		"ward": strings.TrimSpace(string(s.Ward) + " " + string(s.BedNo)), "sex": string(s.Sex), "age": string(s.Age),
		"insuranceNo": bill.MaskID(string(s.MedicalInsuranceID)), "institution": string(s.MedicalInstitution), "checkUpNo": string(s.CheckUpNo),
		"totalCapitals": s.TotalAmt.Capitals(), "total": "¥" + s.TotalAmt.String(),
		"fundPay": s.FundPay.String(), "accountPay": s.AccountPay.String(), "otherFundPay": s.OtherFundPay.String(),
		"selfCashPay": s.SelfCashPay.String(), "selfPayAmt": s.SelfPayAmt.String(), "ownPay": s.OwnPay.String(),
		"selfConceitedAmt": s.SelfConceitedAmt.String(), "unit": b.UnitName, "payee": string(s.Payee),
		"checker": string(s.Checker), "remark": pii.MaskText(string(s.Remark)),
		"caseNumber": string(s.CaseNumber), "cashPay": s.CashPay.String(), "cashRecharge": s.CashRecharge.String(),
		"cashRefund": s.CashRefund.String(),
	}
	v["category"], v["stay"], v["insuranceType"], v["payChannels"] = departments(s), stayText(s), insuranceName(s), payChannelsText(info, s)
	if b.Red != nil {
		v["remark"] = strings.TrimSpace("红字冲销 原票据 " + b.Red.OrigBillCode + " " + b.Red.OrigBillNo + " " + v["remark"])
	}
	return v
}

// FieldNames lists TemplateFields' keys in order, for help texts.
func FieldNames() []string {
	out := make([]string, 0, len(TemplateFields))
	for k := range TemplateFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
