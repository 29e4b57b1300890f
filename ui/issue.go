package ui

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// IssueScreen is 开具电子票据: keyboard first. Enter moves to the next field,
// F9 issues, Esc clears; charge items are found by code, name or pinyin
// initials; totals, the insurance split and what is still to allocate are
// computed as the cashier types.
type IssueScreen struct {
	env     *Env
	win     fyne.Window
	session *Session

	Kind                                             *selectField
	BusNo, Department, Payer, IDCard, PatientNo      *field
	Sex, Age, VisitDate, HospitalNo, InDate, OutDate *field
	CheckUpNo, InsuranceNo, FundPay, AccountPay      *field
	CaseNumber, InDept, OutDept, Ward, BedNo         *field // inpatient
	CashPay, CashRecharge, CashRefund                *field // inpatient deposit account
	OtherFundPay, SelfPay, SelfConceited, OwnPay     *field // the rest of the insurance split
	PayerType, InsuranceType                         *selectField
	Search                                           *field
	Results                                          *widget.Label
	Totals, SelfCash, ToAllocate                     *widget.Label
	Total                                            *canvas.Text
	Capitals                                         *widget.Label // the total in capitals
	Result                                           *canvas.Text
	ResultDetail                                     *widget.Label
	IssueButton, PrintButton, PaperButton, PDFButton *keyButton
	inpatientRow, examRow, visitRow                  *fyne.Container
	linesBox, paysBox                                *fyne.Container
	pays                                             []*payWidgets
	lines                                            []formLine
	found                                            []localstore.ChargeItem
	selected                                         int
	busSeq                                           int
	place                                            string
	busy                                             bool
	content                                          fyne.CanvasObject
	form                                             *fyne.Container
	rows                                             []*lineRow
	filling                                          bool
	afterIssue                                       func()
	autoDept                                         string
	desk                                             localstore.DeskSettings // the point's default pay channel and checker

	// Issued is the last bill issued from this screen.
	Issued *localstore.StoredBill
}

type payWidgets struct {
	channel *selectField
	amount  *field
	codes   []string
}

var kindOrder = []bill.Kind{bill.Outpatient, bill.Inpatient, bill.Registration, bill.Exam}

// NewIssueScreen builds the screen.
func NewIssueScreen(env *Env, win fyne.Window, s *Session) *IssueScreen {
	sc := &IssueScreen{env: env, win: win, session: s}
	mk := func(ph string) *field {
		f := newField(ph)
		f.keys = sc.keys
		f.OnChanged = func(string) { sc.recompute() }
		return f
	}
	var kindNames []string
	for _, k := range kindOrder {
		kindNames = append(kindNames, k.Name())
	}
	sc.Kind = newSelect(kindNames, func(string) { sc.kindChanged() })
	sc.BusNo, sc.Department = mk("业务流水号"), mk("如 内科门诊")
	sc.Payer, sc.IDCard, sc.PatientNo = mk("姓名或单位名称"), mk("身份证号/信用代码"), mk("门诊号")
	sc.IDCard.mask = bill.MaskID
	sc.IDCard.onFocus = func(in bool) {
		if !in {
			sc.checkID()
		}
	}
	sc.PayerType = newSelect([]string{"个人", "单位"}, nil)
	sc.Sex, sc.Age, sc.VisitDate = mk("性别"), mk("年龄"), mk("yyyyMMdd")
	sc.HospitalNo, sc.InDate, sc.OutDate = mk("住院号"), mk("yyyyMMdd"), mk("yyyyMMdd")
	sc.CheckUpNo, sc.InsuranceNo = mk("体检号"), mk("医保编号")
	sc.CaseNumber, sc.InDept, sc.OutDept, sc.Ward, sc.BedNo = mk("病历号"), mk("入院科室"), mk("出院科室"), mk("病区"), mk("床号")
	sc.CashPay, sc.CashRecharge, sc.CashRefund = mk("0.00"), mk("0.00"), mk("0.00")
	sc.InsuranceType = newSelect([]string{"07 全自费", "01 职工医保", "02 居民医保", "06 全公费", "99 其他"}, nil)
	sc.FundPay, sc.AccountPay, sc.OtherFundPay = mk("0.00"), mk("0.00"), mk("0.00")
	sc.SelfPay, sc.SelfConceited, sc.OwnPay = mk("0.00"), mk("0.00"), mk("0.00")
	sc.Search = mk("项目检索：编码、名称或拼音首字母（如 qmsp），回车添加")
	sc.Search.OnChanged = func(q string) { sc.search(q) }
	sc.Search.onEnter = sc.addSelected
	sc.Search.onUpDown = func(up bool) {
		if up && sc.selected > 0 {
			sc.selected--
		} else if !up && sc.selected < len(sc.found)-1 {
			sc.selected++
		}
		sc.showResults()
	}
	sc.Results = widget.NewLabel("")
	sc.Totals, sc.SelfCash, sc.ToAllocate = widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel("")
	// Lines are broken by the text itself: a wrapping label in a scrolled
	// column is laid out before its width is known and overlaps what follows.
	sc.Capitals = widget.NewLabel("")
	sc.Total = canvas.NewText("合计 ¥0.00", color.Black)
	sc.Total.TextSize = 22
	sc.Result = canvas.NewText("", colorOK)
	sc.Result.TextSize = 18
	sc.ResultDetail = widget.NewLabel("")
	sc.ResultDetail.Wrapping = fyne.TextWrapWord
	sc.IssueButton = newButton("开具（F9）", sc.Submit)
	sc.IssueButton.Importance = widget.HighImportance
	sc.PrintButton = newButton("打印（F5）", sc.PrintIssued)
	sc.PaperButton = newButton("换开纸质（F6）", sc.ConvertIssued)
	sc.PDFButton = newButton("保存文件（F7）", sc.SavePDFDialog)
	sc.linesBox, sc.paysBox = container.NewVBox(), container.NewVBox()
	sc.loadDesk()
	sc.addPayRow()
	sc.build()
	sc.Clear()
	return sc
}

func labeled(label string, w fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(nil, nil, widget.NewLabel(label), nil, w)
}

// build lays the screen out in two columns, so that it fits a 1366×768
// screen without scrolling sideways and the result of F9 with its F5–F7
// buttons shows without scrolling: the patient and the charge items on the
// left (scrolling when there are many lines), the money, the pay channels,
// the actions and the result on the right.
func (sc *IssueScreen) build() {
	sc.visitRow = container.NewGridWithColumns(4, labeled("门诊号", sc.PatientNo), labeled("性别", sc.Sex),
		labeled("年龄", sc.Age), labeled("就诊日期", sc.VisitDate))
	sc.inpatientRow = container.NewVBox(
		container.NewGridWithColumns(3, labeled("住院号", sc.HospitalNo), labeled("入院", sc.InDate), labeled("出院", sc.OutDate)),
		container.NewGridWithColumns(3, labeled("病历号", sc.CaseNumber), labeled("入院科室", sc.InDept), labeled("出院科室", sc.OutDept)),
		container.NewGridWithColumns(2, labeled("病区", sc.Ward), labeled("床号", sc.BedNo)),
		container.NewGridWithColumns(3, labeled("预缴", sc.CashPay), labeled("补缴", sc.CashRecharge), labeled("退费", sc.CashRefund)))
	sc.examRow = container.NewGridWithColumns(2, labeled("体检号", sc.CheckUpNo), layoutSpacer())
	head := container.NewVBox(
		container.NewGridWithColumns(2, container.NewGridWithColumns(2, labeled("票据种类", sc.Kind), labeled("科室", sc.Department)),
			labeled("业务流水号", sc.BusNo)),
		container.NewGridWithColumns(3, labeled("交款人", sc.Payer), labeled("类型", sc.PayerType), labeled("证件号", sc.IDCard)),
		sc.visitRow, sc.inpatientRow, sc.examRow,
		container.NewGridWithColumns(2, labeled("医保类型", sc.InsuranceType), labeled("医保编号", sc.InsuranceNo)),
	)
	items := container.NewVBox(widget.NewLabelWithStyle("收费项目", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		sc.Search, sc.Results, sc.linesBox, sc.Totals)
	left := container.NewVScroll(container.NewVBox(head, widget.NewSeparator(), items))
	money := container.NewVBox(sc.Total, sc.Capitals,
		container.NewGridWithColumns(3, labeledAbove("医保统筹", sc.FundPay), labeledAbove("个人账户", sc.AccountPay), labeledAbove("其他支付", sc.OtherFundPay)),
		container.NewGridWithColumns(3, labeledAbove("个人自付", sc.SelfPay), labeledAbove("个人自负", sc.SelfConceited), labeledAbove("个人自费", sc.OwnPay)),
		sc.SelfCash,
		widget.NewLabel("个人现金支付方式："), sc.paysBox,
		container.NewHBox(newButton("增加支付方式", func() { sc.addPayRow(); sc.recompute() })), sc.ToAllocate)
	actions := container.NewGridWithColumns(3, sc.IssueButton, newButton("清空（Esc）", sc.Clear),
		newButton("导入结算文件…", sc.importDialog))
	result := container.NewVBox(sc.Result, sc.ResultDetail, container.NewGridWithColumns(3, sc.PrintButton, sc.PaperButton, sc.PDFButton))
	right := container.NewVScroll(container.NewVBox(money, actions, widget.NewSeparator(), result))
	split := container.NewHSplit(left, right)
	split.Offset = 0.62
	sc.form = container.NewStack(split)
	sc.content = sc.form
}

// labeledAbove puts a label above its field (the narrow money fields).
func labeledAbove(label string, w fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVBox(widget.NewLabel(label), w)
}

func layoutSpacer() fyne.CanvasObject { return widget.NewLabel("") }

// Content is the screen.
func (sc *IssueScreen) Content() fyne.CanvasObject { return sc.content }

// FocusFirst puts the cursor where a cashier starts: the payer.
func (sc *IssueScreen) FocusFirst() {
	if c := sc.win.Canvas(); c != nil {
		c.Focus(sc.Payer)
	}
}

// keys are the screen's keys, whichever field has the focus.
func (sc *IssueScreen) keys(ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyF9:
		sc.Submit()
	case fyne.KeyEscape:
		sc.Clear()
	case fyne.KeyF5:
		sc.PrintIssued()
	case fyne.KeyF6:
		sc.ConvertIssued()
	case fyne.KeyF7:
		sc.SavePDFDialog()
	default:
		return false
	}
	return true
}

func (sc *IssueScreen) kind() bill.Kind {
	for _, k := range kindOrder {
		if k.Name() == sc.Kind.Selected {
			return k
		}
	}
	return bill.Outpatient
}

func (sc *IssueScreen) kindChanged() {
	if sc.visitRow == nil {
		return
	}
	k := sc.kind()
	show := func(c *fyne.Container, on bool) {
		if on {
			c.Show()
		} else {
			c.Hide()
		}
	}
	show(sc.visitRow, k != bill.Inpatient)
	show(sc.inpatientRow, k == bill.Inpatient)
	show(sc.examRow, k == bill.Exam)
	if sc.Department.Text == "" || sc.Department.Text == sc.autoDept {
		sc.autoDept = map[bill.Kind]string{bill.Outpatient: "门诊", bill.Inpatient: "住院", bill.Registration: "门诊挂号", bill.Exam: "体检"}[k]
		sc.Department.SetText(sc.autoDept)
	}
}

// Clear empties the form for the next patient (Esc).
func (sc *IssueScreen) Clear() {
	if sc.busy {
		return
	}
	for _, f := range []*field{sc.Payer, sc.IDCard, sc.PatientNo, sc.Sex, sc.Age, sc.HospitalNo, sc.InDate, sc.OutDate,
		sc.CaseNumber, sc.InDept, sc.OutDept, sc.Ward, sc.BedNo, sc.CashPay, sc.CashRecharge, sc.CashRefund,
		sc.CheckUpNo, sc.InsuranceNo, sc.FundPay, sc.AccountPay, sc.OtherFundPay, sc.SelfPay, sc.SelfConceited, sc.OwnPay,
		sc.Search, sc.Department} {
		f.SetValue("")
	}
	sc.Kind.SetSelected(bill.Outpatient.Name())
	sc.kindChanged()
	sc.PayerType.SetSelected("个人")
	sc.InsuranceType.SetSelected("07 全自费")
	now := sc.env.now()
	sc.VisitDate.SetText(now.In(bill.Beijing).Format("20060102"))
	sc.busSeq++
	if sc.place == "" {
		if st, err := sc.env.Store.Station(bg()); err == nil {
			sc.place = st.PlaceCode
		}
	}
	sc.BusNo.SetText(newBusNo(sc.place, now, sc.busSeq))
	sc.lines, sc.found, sc.selected = nil, nil, 0
	// Keep the first pay row (reset to its default channel), drop the others.
	sc.pays = sc.pays[:1]
	sc.paysBox.Objects = sc.paysBox.Objects[:1]
	sc.loadDesk() // the server may have changed them since the last bill
	sc.pays[0].channel.SetSelectedIndex(sc.channelFor(0, sc.pays[0].codes))
	sc.pays[0].amount.SetText("")
	sc.Result.Text, sc.ResultDetail.Text = "", ""
	sc.Result.Refresh()
	sc.ResultDetail.Refresh()
	sc.Issued = nil
	sc.setResultButtons(false)
	sc.showLines()
	sc.showResults()
	sc.recompute()
	sc.FocusFirst()
}

func (sc *IssueScreen) setResultButtons(on bool) {
	for _, b := range []*keyButton{sc.PrintButton, sc.PaperButton, sc.PDFButton} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

func (sc *IssueScreen) checkID() {
	id := strings.ToUpper(strings.TrimSpace(sc.IDCard.Value()))
	if id == "" {
		return
	}
	var err error
	if sc.PayerType.Selected == "单位" {
		err = bill.CheckCreditCode(id)
	} else {
		err = bill.CheckResidentID(id)
	}
	if err != nil {
		sc.ResultDetail.SetText("证件号有误：" + bill.ErrorMessage(err))
	}
}

// input collects the form; a money field that does not parse is an error.
func (sc *IssueScreen) input() (*formInput, error) {
	in := &formInput{Kind: sc.kind(), BusNo: sc.BusNo.Text, Department: sc.Department.Text, Payer: sc.Payer.Text,
		PayerType: "1", IDCardNo: sc.IDCard.Value(), PatientNo: sc.PatientNo.Text, Sex: sc.Sex.Text, Age: sc.Age.Text,
		VisitDate: sc.VisitDate.Text, HospitalNo: sc.HospitalNo.Text, InDate: sc.InDate.Text, OutDate: sc.OutDate.Text,
		CheckUpNo: sc.CheckUpNo.Text, InsuranceNo: sc.InsuranceNo.Text, Lines: sc.lines, Payee: sc.session.Name, Now: sc.env.now()}
	in.Checker = sc.desk.Checker
	if sc.PayerType.Selected == "单位" {
		in.PayerType = "2"
	}
	if code, _, ok := strings.Cut(sc.InsuranceType.Selected, " "); ok {
		in.InsuranceType = code
	}
	var err error
	if in.FundPay, err = parseMoneyField("医保统筹", sc.FundPay.Text); err != nil {
		return in, err
	}
	in.CaseNumber, in.InDept, in.OutDept, in.Ward, in.BedNo = sc.CaseNumber.Text, sc.InDept.Text, sc.OutDept.Text, sc.Ward.Text, sc.BedNo.Text
	for _, m := range []struct {
		name string
		f    *field
		to   *bill.Money
	}{{"个人账户", sc.AccountPay, &in.AccountPay}, {"其他支付", sc.OtherFundPay, &in.OtherFundPay},
		{"个人自付", sc.SelfPay, &in.SelfPayAmt}, {"个人自负", sc.SelfConceited, &in.SelfConceitedAmt}, {"个人自费", sc.OwnPay, &in.OwnPay},
		{"预缴金额", sc.CashPay, &in.CashPay}, {"补缴金额", sc.CashRecharge, &in.CashRecharge}, {"退费金额", sc.CashRefund, &in.CashRefund}} {
		if *m.to, err = parseMoneyField(m.name, m.f.Text); err != nil {
			return in, err
		}
	}
	for _, p := range sc.pays {
		row := payRow{Blank: strings.TrimSpace(p.amount.Text) == ""}
		if i := p.channel.SelectedIndex(); i >= 0 {
			row.Code = p.codes[i]
		}
		if row.Amount, err = parseMoneyField("支付金额", p.amount.Text); err != nil {
			return in, err
		}
		in.Pays = append(in.Pays, row)
	}
	return in, nil
}

// recompute shows the totals as the cashier types.
func (sc *IssueScreen) recompute() {
	if sc.Totals == nil || sc.Total == nil {
		return
	}
	in, err := sc.input()
	if err != nil {
		sc.ToAllocate.SetText(bill.ErrorMessage(err))
		return
	}
	t := in.totals()
	var cats []string
	for _, c := range t.Categories {
		cats = append(cats, fmt.Sprintf("%s %s", c.ChargeName, c.Amt))
	}
	var rows []string
	for i := 0; i < len(cats); i += 4 {
		rows = append(rows, strings.Join(cats[i:min(i+4, len(cats))], "   "))
	}
	sc.Totals.SetText(strings.Join(rows, "\n"))
	sc.Total.Text = "合计 ¥" + t.Total.String()
	sc.Total.Refresh()
	sc.Capitals.SetText("大写：" + t.Total.Capitals())
	sc.SelfCash.SetText("个人现金应付 " + t.SelfCash.String())
	blank := 0
	for _, p := range in.Pays {
		if p.Blank {
			blank++
		}
	}
	switch {
	case blank == 1 && t.ToAllocate >= 0:
		sc.ToAllocate.SetText(fmt.Sprintf("还需分配 0.00 元\n（%s 元计入未填金额的支付方式）", t.ToAllocate))
	default:
		sc.ToAllocate.SetText(fmt.Sprintf("还需分配 %s 元", t.ToAllocate))
	}
}

// TotalText is what the total shows (for tests).
func (sc *IssueScreen) TotalText() string { return sc.Total.Text }

// Submit issues the bill (F9): built and checked here, written in the
// background; the number shown is the one stored.
func (sc *IssueScreen) Submit() {
	if sc.busy {
		return
	}
	in, err := sc.input()
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	s, err := in.settlement()
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	// A resident ID that fails its check does not block the bill (HIS
	// records carry typos), but the cashier looks at it first: Enter
	// issues as typed, Esc goes back to the number.
	if w := s.Warnings(); len(w) > 0 {
		confirm("请核对证件号", strings.Join(w, "\n")+"\n\n请与患者的证件核对。仍按此号码开具吗？", func(ok bool) {
			if ok {
				sc.issue(in.Kind, s)
			} else if c := sc.win.Canvas(); c != nil {
				c.Focus(sc.IDCard)
			}
		}, sc.win)
		return
	}
	sc.issue(in.Kind, s)
}

func (sc *IssueScreen) issue(k bill.Kind, s *bill.Settlement) {
	sc.busy = true
	sc.IssueButton.Disable()
	sc.Result.Text, sc.Result.Color = "正在开具…", color.Black
	sc.Result.Refresh()
	Go(sc.env.Bridge, func(ctx context.Context) (*localstore.IssueResult, error) {
		return sc.env.Store.Issue(ctx, k, s)
	}, func(res *localstore.IssueResult, err error) {
		sc.busy = false
		sc.IssueButton.Enable()
		if err != nil {
			sc.Result.Text, sc.Result.Color = "未开具", colorRed
			sc.Result.Refresh()
			showError(sc.env, sc.win, err)
			return
		}
		b := res.Bill
		sc.Issued = b
		sc.Result.Text = fmt.Sprintf("%s  %s  校验码 %s", b.BillCode, b.BillNoText(), b.CheckCode)
		sc.Result.Color = colorOK
		sc.Result.Refresh()
		detail := fmt.Sprintf("已开具%s票据，金额 ¥%s，交款人 %s。", b.Kind.Name(), b.Total, b.Payer)
		if res.Duplicate {
			detail = "该业务流水号已开具过票据，这是原票据（没有开出第二张）。" + detail
		}
		if len(res.Warnings) > 0 {
			detail += "\n" + strings.Join(res.Warnings, "\n")
		}
		sc.ResultDetail.SetText(detail + "\nF5 打印电子票据，F6 换开纸质票据，F7 保存 PDF 或 OFD，Esc 开始下一位。")
		sc.setResultButtons(true)
		sc.relayout()
		if sc.afterIssue != nil {
			sc.afterIssue()
		}
	})
}

// PrintIssued prints the bill just issued to the default printer.
func (sc *IssueScreen) PrintIssued() {
	if sc.Issued != nil {
		printFace(sc.env, sc.win, sc.Issued)
	}
}

// ConvertIssued prints the bill just issued on pre-printed paper.
func (sc *IssueScreen) ConvertIssued() {
	if sc.Issued != nil {
		convertDialog(sc.env, sc.win, sc.session, sc.Issued, nil)
	}
}

// SavePDFDialog (F7) asks whether to save the bill as PDF or OFD, then where.
func (sc *IssueScreen) SavePDFDialog() {
	if sc.Issued != nil {
		saveBillDialog(sc.env, sc.win, sc.Issued)
	}
}

// importDialog issues a settlement file in the format of `ebill issue`.
func (sc *IssueScreen) importDialog() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		sc.ImportFile(r.URI().Path())
	}, sc.win)
}

// ImportFile issues the settlement in a JSON file, after the cashier
// confirms what it bills. The signed-in user is the payee.
func (sc *IssueScreen) ImportFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		showError(sc.env, sc.win, bill.Errorf(bill.EInvalid, "无法读取结算文件 %s：%v", path, err))
		return
	}
	s, err := bill.ParseSettlement(data)
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	s.Payee, s.Author = bill.Text(sc.session.Name), bill.Text(sc.session.Name)
	k := bill.InferKind(s)
	msg := fmt.Sprintf("业务流水号 %s\n交款人 %s\n%s票据，金额 ¥%s\n\n确认开具？", s.BusNo, s.Payer, k.Name(), s.TotalAmt)
	confirm("导入结算文件", msg, func(ok bool) {
		if ok {
			sc.issue(k, s)
		}
	}, sc.win)
}
