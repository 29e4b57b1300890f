package printing

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/pii"
)

// BillInfo is what a bill's face shows besides the signed content.
type BillInfo struct {
	Bill      *bill.Bill
	CheckCode string
	// VerifyURL is the QR code's target: the server's verification page
	// for this bill (bill.VerifyRef.URL). Empty leaves the QR space blank.
	VerifyURL string
	// PayChannelNames names pay channel codes (from master data); codes
	// not in it use DefaultPayChannelNames, then the code itself.
	PayChannelNames map[string]string
	// Reversed marks a bill a red bill has reversed: printed again, it
	// carries 已冲红 (as a void bill carries 已作废).
	Reversed bool
	// Seal is the hospital's registered seal (票据专用章) as a PNG, printed
	// beside 收款单位（章） when configured; without it only the label is
	// printed — a drawn seal would be a fake one.
	Seal []byte
	// Signature is the billing point's SM2 signature over the bill's
	// canonical content. Only the OFD carries it (in its attachment).
	Signature []byte
}

// DefaultPayChannelNames are the standard pay channel codes of domain.md §3.
var DefaultPayChannelNames = map[string]string{
	"01": "POS", "02": "现金", "03": "转账", "04": "支付宝", "05": "微信",
	"06": "支票", "07": "银行卡", "08": "银联", "09": "自助机", "11": "医保",
}

// insuranceTypes names the insurance type codes (医保类型).
var insuranceTypes = map[string]string{
	"01": "职工基本医疗保险", "02": "城乡居民基本医疗保险", "06": "全公费", "07": "全自费", "99": "其他",
}

// provinces maps the region digits of a bill code (GB/T 2260) to the
// province named in the bill's title.
var provinces = map[string]string{
	"11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
	"21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
	"33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
	"41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
	"46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
	"54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
	"65": "新疆维吾尔自治区",
}

// Province names the province of a bill code by its first two digits.
func Province(billCode string) string {
	if len(billCode) >= 2 {
		return provinces[billCode[:2]]
	}
	return ""
}

// Title is the bill's title: "<province>医疗<kind>收费票据（电子）", or
// "<province>住院预交金电子凭证" for a deposit voucher, "<province>往来结算票据（电子）"
// and the like for the general bills.
// Registration and exam bills are issued on the outpatient form.
func Title(b *bill.Bill) string {
	switch b.Kind {
	case bill.Deposit:
		return Province(b.BillCode) + bill.DepositName(b.Settlement.BusType) + "电子凭证"
	case bill.Transfer, bill.Donation, bill.NonTax:
		return Province(b.BillCode) + b.Kind.Name() + "票据（电子）"
	}
	kind := "门诊"
	if b.Kind == bill.Inpatient {
		kind = "住院"
	}
	return Province(b.BillCode) + "医疗" + kind + "收费票据（电子）"
}

// Face sizes, in mm.
const (
	FaceWidth  = 240
	FaceHeight = 150
	faceLeft   = 10.0
	faceRight  = 230.0
	faceRows   = 7 // category rows per half of the table: 14 lines, one per category code
	// The header's two stacks.
	headerLeft  = faceLeft + 2
	headerRight = 140.0
)

// Face lays out the e-bill as a patient keeps it (domain.md §3): the face
// and, when the settlement has a detail list, the pages of 医疗收费明细清单.
func Face(info BillInfo, f *Font) *Document {
	b := info.Bill
	s := &b.Settlement
	p := &page{f: f}
	ink := Brown
	red := b.Red != nil

	// Title, QR code (top right, as on the specimen; the title area is
	// left clear for the platform's 监制章, which is never drawn here).
	if info.VerifyURL != "" {
		p.add(QR{X: faceRight - 26, Y: 3, Size: 26, Content: info.VerifyURL})
	}
	title := Title(b)
	p.text("title", 0, 8, FaceWidth, 17, AlignCenter, ink, title)
	tw := f.Width(title, 17)
	p.hline((FaceWidth-tw)/2, (FaceWidth+tw)/2, 16.6, 0.3, ink)
	p.hline((FaceWidth-tw)/2, (FaceWidth+tw)/2, 17.4, 0.3, ink)
	if red {
		p.add(Rect{X: (FaceWidth+tw)/2 + 4, Y: 6.5, W: 16, H: 10, Width: 0.6, Color: Red})
		p.text("red", (FaceWidth+tw)/2+4, 8, 16, 15, AlignCenter, Red, "红字")
	} else if info.Reversed {
		p.add(Rect{X: (FaceWidth+tw)/2 + 4, Y: 6.5, W: 22, H: 10, Width: 0.6, Color: Red})
		p.text("reversed", (FaceWidth+tw)/2+4, 8, 22, 15, AlignCenter, Red, "已冲红")
	}
	// The header in two stacks, labels in the form's brown, values in
	// black: left 票据代码, 交款人统一社会信用代码, 交款人; right 票据号码, 校验码,
	// 开票日期. A field with no value prints no label either (a bare
	// "统一社会信用代码：" reads as a fault of the bill).
	stack := func(field string, x, y, w float64, label, value string) {
		if strings.TrimSpace(value) == "" {
			return
		}
		p.text(field+"Label", x, y, 0, 10, AlignLeft, ink, label)
		lw := f.Width(label, 10)
		p.text(field, x+lw, y, w-lw, 10, AlignLeft, Black, value)
	}
	stack("billCode", headerLeft, 21, 110, "票据代码：", b.BillCode)
	stack("payerID", headerLeft, 27, 110, "交款人统一社会信用代码：", bill.PayerID(s))
	stack("payer", headerLeft, 33, 110, "交款人：", string(s.Payer))
	stack("billNo", headerRight, 21, 60, "票据号码：", b.BillNo)
	stack("checkCode", headerRight, 27, 60, "校验码：", info.CheckCode)
	stack("date", headerRight, 33, 60, "开票日期：", b.IssuedTime().In(bill.Beijing).Format("2006-01-02"))

	// The table frame.
	top, bottom := 39.0, 127.0
	p.add(Rect{X: faceLeft, Y: top, W: faceRight - faceLeft, H: bottom - top, Width: 0.4, Color: ink})
	mid := (faceLeft + faceRight) / 2
	head := top + 6
	rowsEnd := head + faceRows*5
	p.hline(faceLeft, faceRight, head, 0.2, ink)
	p.vline(mid, top, rowsEnd, 0.2, ink)
	cols := []struct {
		name string
		x, w float64
	}{{"项目名称", 0, 44}, {"数量/单位", 44, 18}, {"金额（元）", 62, 26}, {"备注", 88, 22}}
	for _, half := range []float64{faceLeft, mid} {
		for i, c := range cols {
			p.text("", half+c.x, top+1.5, c.w, 9, AlignCenter, ink, c.name)
			if i > 0 {
				p.vline(half+c.x, top, rowsEnd, 0.15, ink)
			}
		}
	}
	for i, c := range faceCategories(s.ChargeDetail) {
		half := faceLeft
		if i >= faceRows {
			half = mid
		}
		y := head + float64(i%faceRows)*5 + 1
		p.text("category", half+1.5, y, 41, 9, AlignLeft, Black, c.name)
		p.text("quantity", half+44, y, 17, 9, AlignRight, Black, c.qty)
		p.text("amount", half+62, y, 24.5, 9, AlignRight, Black, c.amt)
		p.text("categoryRemark", half+89, y, 20, 8, AlignLeft, Black, c.remark)
	}

	// Totals.
	totalTop := rowsEnd
	p.hline(faceLeft, faceRight, totalTop, 0.2, ink)
	// labelled values: the label in the form's brown, the value in black.
	pair := func(field string, x, y, w, size float64, label, value string) {
		p.text(field+"Label", x, y, 0, size, AlignLeft, ink, label)
		lw := f.Width(label, size)
		p.text(field, x+lw, y, w-lw, size, AlignLeft, Black, value)
	}
	pair("totalCapitals", faceLeft+1.5, totalTop+1.8, 140, 10, "金额合计（大写）", s.TotalAmt.Capitals())
	pair("total", 160, totalTop+1.8, 68, 10, "（小写）", "¥"+s.TotalAmt.String())

	// Other information: the visit and the whole amount split.
	infoTop := totalTop + 7
	p.hline(faceLeft, faceRight, infoTop, 0.2, ink)
	remarkTop := bottom - 8
	p.hline(faceLeft, faceRight, remarkTop, 0.2, ink)
	p.vline(faceLeft+8, infoTop, bottom, 0.15, ink)
	for i, r := range []rune("其他信息") {
		p.text("", faceLeft, infoTop+3+float64(i)*6, 8, 9, AlignCenter, ink, string(r))
	}
	p.text("", faceLeft, remarkTop+1.8, 8, 9, AlignCenter, ink, "备注")
	lines := otherInfo(b, info)
	const infoCols, infoRows = 4, 7 // a fixed 4-column grid, as the specimen's 其他信息
	colW := (faceRight - faceLeft - 10) / infoCols
	for i, l := range lines {
		row, col := i/infoCols, i%infoCols
		if row >= infoRows {
			break // the face holds 28 entries
		}
		x, y := faceLeft+9.5+float64(col)*colW, infoTop+0.8+float64(row)*4.4
		p.text(l.field+"Label", x, y, 0, 8, AlignLeft, ink, l.label+"：")
		lw := f.Width(l.label+"：", 8)
		p.text(l.field, x+lw, y, colW-1.5-lw, 8, AlignLeft, Black, l.value)
	}
	remark := pii.MaskText(string(s.Remark)) // HIS writes phone numbers into remarks
	if red {
		remark = strings.TrimSpace(fmt.Sprintf("红字冲销  原票据代码：%s  原票据号码：%s  原因：%s  %s",
			b.Red.OrigBillCode, b.Red.OrigBillNo, b.Red.Reason, remark))
	}
	remarkColor := Black
	if red {
		remarkColor = Red
	}
	p.text("remark", faceLeft+9.5, remarkTop+1.8, faceRight-faceLeft-11, 9, AlignLeft, remarkColor, remark)

	// Footer: the unit with its seal, checker, payee.
	const footer = 131.0
	unit := "收款单位（章）：" + b.UnitName
	pair("unit", faceLeft, footer, 95, 10, "收款单位（章）：", b.UnitName)
	if s.Checker != "" { // no value, no label
		pair("checker", 135, footer, 45, 10, "复核人：", string(s.Checker))
	}
	pair("payee", 185, footer, 45, 10, "收款人：", string(s.Payee))
	if site := verifySite(info.VerifyURL); site != "" {
		// The verification footnote: where anyone can check the bill.
		p.text("verifyNote", 135, footer+7, faceRight-135, 8, AlignLeft, ink,
			"本票据可扫描右上角二维码或登录 "+site+" 查验真伪")
	}
	if len(info.Seal) > 0 {
		// The hospital's own seal image, over the unit's name as a stamp is.
		cx := min(faceLeft+f.Width(unit, 10)+22, 112)
		p.add(Picture{X: cx - 20, Y: footer - 8, W: 40, H: 27, PNG: info.Seal})
	}

	doc := &Document{Title: title + " " + b.BillCode + " " + b.BillNo, Width: FaceWidth, Height: FaceHeight,
		Pages: []*Page{{Items: p.items}}}
	doc.Pages = append(doc.Pages, detailPages(b, info, f)...)
	return doc
}

// verifySite is the address of a verification link without its path:
// the site a footnote names.
func verifySite(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// nationalCategories is the order of the charge categories on the national
// specimen.
var nationalCategories = []string{"床位费", "诊察费", "检查费", "化验费", "治疗费", "手术费", "护理费", "卫生材料费",
	"西药费", "中药饮片费", "中成药费", "一般诊疗费", "挂号费", "其他费"}

// nationalOrder sorts categories as the specimen lists them (by name);
// categories it does not name keep their order after them.
func nationalOrder(lines []bill.ChargeLine) []bill.ChargeLine {
	rank := func(c bill.ChargeLine) int {
		for i, n := range nationalCategories {
			if strings.HasPrefix(string(c.ChargeName), n) {
				return i
			}
		}
		return len(nationalCategories)
	}
	out := append([]bill.ChargeLine(nil), lines...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

type faceLine struct{ name, qty, amt, remark string }

// faceCategories lists the category lines of the face: at most 14; more are
// summed into a last "其他（见清单）" line so the total still shows.
func faceCategories(lines []bill.ChargeLine) []faceLine {
	out := make([]faceLine, 0, len(lines))
	lines = nationalOrder(lines)
	for _, c := range lines {
		qty := ""
		if c.Number != 0 {
			qty = c.Number.String()
			if c.Unit != "" {
				qty += "/" + string(c.Unit) // 数量/单位
			}
		}
		out = append(out, faceLine{name: string(c.ChargeName), qty: qty, amt: c.Amt.String(), remark: pii.MaskText(string(c.Remark))})
	}
	if len(out) > 2*faceRows {
		var rest bill.Money
		for _, c := range lines[2*faceRows-1:] {
			rest += c.Amt
		}
		out = append(out[:2*faceRows-1], faceLine{name: "其他（见清单）", amt: rest.String()})
	}
	return out
}

type infoLine struct{ field, label, value string }

// otherInfo is the 其他信息 grid: the entries of the national filling rules
// for the bill's kind, in their order, each with its label even when its
// value is empty (the grid is part of the form); then what else the bill
// carries (age, days, ward, pay channels, the HIS's own entries), where it
// has a value.
func otherInfo(b *bill.Bill, info BillInfo) []infoLine {
	s := &b.Settlement
	var out []infoLine
	fixed := func(field, label, value string) { out = append(out, infoLine{field, label, value}) }
	extra := func(field, label, value string) {
		if value != "" {
			out = append(out, infoLine{field, label, value})
		}
	}
	fixed("busNo", "业务流水号", string(s.BusNo))
	if b.Kind == bill.Inpatient {
		fixed("caseNumber", "病历号", string(s.CaseNumber))
		fixed("hospitalNo", "住院号", string(s.HospitalNo))
		fixed("category", "住院科别", departments(s))
		fixed("stay", "住院时间", stayText(s))
		fixed("cashPay", "预缴金额", s.CashPay.String())
		fixed("cashRecharge", "补缴金额", s.CashRecharge.String())
		fixed("cashRefund", "退费金额", s.CashRefund.String())
	} else {
		fixed("patientNo", "门诊号", string(s.PatientNo))
		fixed("visitDate", "就诊日期", dashDate(string(s.ConsultationDate)))
	}
	fixed("institution", "医疗机构类型", string(s.MedicalInstitution))
	fixed("insuranceType", "医保类型", insuranceName(s))
	fixed("insuranceNo", "医保编号", bill.MaskID(string(s.MedicalInsuranceID))) // PI-1: first 6 and last 4
	fixed("sex", "性别", string(s.Sex))
	for _, m := range []struct {
		field, label string
		v            bill.Money
	}{
		{"fundPay", "医保统筹基金支付", s.FundPay}, {"otherFundPay", "其他支付", s.OtherFundPay},
		{"accountPay", "个人账户支付", s.AccountPay}, {"selfCashPay", "个人现金支付", s.SelfCashPay},
		{"selfPayAmt", "个人自付", s.SelfPayAmt}, {"ownPay", "个人自费", s.OwnPay},
		{"selfConceitedAmt", "个人自负", s.SelfConceitedAmt},
	} {
		fixed(m.field, m.label, m.v.String())
	}
	extra("checkUpNo", "体检号", string(s.CheckUpNo))
	extra("age", "年龄", string(s.Age))
	if b.Kind == bill.Inpatient {
		extra("hospitalDays", "住院天数", string(s.HospitalDays))
		extra("ward", "病区", strings.TrimSpace(string(s.Ward)+" "+string(s.BedNo)))
	}
	extra("payChannels", "支付方式", payChannelsText(info, s))
	for _, o := range s.OtherInfo {
		extra("otherInfo", string(o.InfoName), string(o.InfoValue))
	}
	return out
}

// departments is 住院科别: the admitting department, and the discharging
// one after a dash when it differs.
func departments(s *bill.Settlement) string {
	dept := string(s.Category)
	if dept == "" {
		dept = string(s.PatientCategory)
	}
	if l := string(s.LeaveCategory); l != "" && l != dept {
		dept = strings.TrimPrefix(dept+"—"+l, "—")
	}
	return dept
}

// stayText is 住院时间: admitted to discharged, "" without an admission date.
func stayText(s *bill.Settlement) string {
	if s.InHospitalDate == "" {
		return ""
	}
	return dashDate(string(s.InHospitalDate)) + "至" + dashDate(string(s.OutHospitalDate))
}

// insuranceName is 医保类型: the name sent, else the type code's name.
func insuranceName(s *bill.Settlement) string {
	if n := string(s.MedicalCareType); n != "" {
		return n
	}
	return insuranceTypes[string(s.MedCareTypeCode)]
}

// payChannelsText is 支付方式: each channel's name and amount.
func payChannelsText(info BillInfo, s *bill.Settlement) string {
	var pays []string
	for _, c := range s.PayChannelDetail {
		pays = append(pays, payChannelName(info, string(c.Code))+" "+c.Value.String())
	}
	return strings.Join(pays, "，")
}

func payChannelName(info BillInfo, code string) string {
	if n := info.PayChannelNames[code]; n != "" {
		return n
	}
	if n := DefaultPayChannelNames[code]; n != "" {
		return n
	}
	return code
}

// dashDate writes yyyyMMdd as yyyy-MM-dd; other forms are kept.
func dashDate(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return d
}

// detailPages lays out the detail list (医疗收费明细清单), 18 lines a page.
func detailPages(b *bill.Bill, info BillInfo, f *Font) []*Page {
	lines := b.Settlement.ListDetail
	if len(lines) == 0 {
		return nil
	}
	const perPage, rowH = 18, 5.0
	cols := []struct {
		name  string
		x, w  float64
		align Align
	}{
		{"序号", 10, 10, AlignCenter}, {"项目编码", 20, 30, AlignLeft}, {"项目名称", 50, 50, AlignLeft},
		{"规格", 100, 28, AlignLeft}, {"单位", 128, 12, AlignCenter}, {"单价", 140, 22, AlignRight},
		{"数量", 162, 16, AlignRight}, {"金额", 178, 24, AlignRight}, {"类别", 202, 10, AlignCenter},
		{"自付", 212, 18, AlignRight},
	}
	pages := (len(lines) + perPage - 1) / perPage
	var out []*Page
	for pg := 0; pg < pages; pg++ {
		p := &page{f: f}
		p.text("detailTitle", 0, 8, FaceWidth, 14, AlignCenter, Black, "医疗收费明细（电子）")
		p.text("detailBill", faceLeft, 17, 0, 9, AlignLeft, Black, fmt.Sprintf("所属票据代码：%s    所属票据号码：%s    开票日期：%s    交款人：%s",
			b.BillCode, b.BillNo, b.IssuedTime().In(bill.Beijing).Format("2006-01-02"), b.Settlement.Payer))
		p.text("", 170, 17, 60, 9, AlignRight, Black, fmt.Sprintf("第 %d 页 / 共 %d 页", pg+1, pages))
		top := 23.0
		p.add(Rect{X: faceLeft, Y: top, W: faceRight - faceLeft, H: rowH * float64(perPage+1), Width: 0.3, Color: Brown})
		for _, c := range cols {
			p.text("", c.x+0.5, top+1, c.w-1, 8.5, AlignCenter, Brown, c.name)
		}
		for i := 0; i <= perPage; i++ {
			p.hline(faceLeft, faceRight, top+rowH*float64(i+1), 0.1, Brown)
		}
		for _, c := range cols[1:] {
			p.vline(c.x, top, top+rowH*float64(perPage+1), 0.1, Brown)
		}
		end := min(len(lines), (pg+1)*perPage)
		for i, d := range lines[pg*perPage : end] {
			y := top + rowH*float64(i+1) + 1
			name := string(d.Name)
			vals := []string{fmt.Sprint(pg*perPage + i + 1), string(d.Code), name, string(d.Specification), string(d.Unit),
				moneyOrBlank(d.Std), quantityOrBlank(d.Number), d.Amt.String(), coverageClass(string(d.MedicalCareType)),
				moneyOrBlank(d.SelfAmt)}
			for j, c := range cols {
				p.text("detail", c.x+0.8, y, c.w-1.6, 8, c.align, Black, vals[j])
			}
		}
		if pg == pages-1 {
			y := top + rowH*float64(perPage+1) + 2
			// Subtotals per category, then the total and the unit.
			var subs []string
			for _, c := range b.Settlement.ChargeDetail {
				var sum bill.Money4
				for _, d := range lines {
					if d.ChargeCode == c.ChargeCode {
						sum += d.Amt
					}
				}
				if sum != 0 {
					fen, _ := sum.RoundFen()
					subs = append(subs, fmt.Sprintf("%s %s", c.ChargeName, fen))
				}
			}
			p.text("detailSubtotals", faceLeft, y, faceRight-faceLeft, 8.5, AlignLeft, Black, "分类小计："+strings.Join(subs, "；"))
			p.text("", faceLeft, y+5, 0, 9, AlignLeft, Black,
				fmt.Sprintf("共 %d 项，合计金额 ¥%s（%s）", len(lines), b.Settlement.TotalAmt, b.Settlement.TotalAmt.Capitals()))
			p.text("detailUnit", faceLeft, y+11, 0, 10, AlignLeft, Black, "收款单位（章）："+b.UnitName)
		}
		out = append(out, &Page{Items: p.items})
	}
	return out
}

func moneyOrBlank(m bill.Money4) string {
	if m == 0 {
		return ""
	}
	return m.String()
}

func quantityOrBlank(q bill.Quantity) string {
	if q == 0 {
		return ""
	}
	return q.String()
}

// coverageClass names the insurance coverage class of a detail line:
// 1 甲, 2 乙, 3 丙; other values are shown as sent.
func coverageClass(c string) string {
	switch c {
	case "1":
		return "甲"
	case "2":
		return "乙"
	case "3":
		return "丙"
	}
	return c
}
