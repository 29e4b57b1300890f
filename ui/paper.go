package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/printing/stationprint"
)

// PaperScreen is 纸质票据: the paper number in the printer, conversion,
// void and reprint, blank void, and the printer's calibration.
type PaperScreen struct {
	env     *Env
	win     fyne.Window
	session *Session

	Positions                   *widget.Label
	BillCode, BillNo, BusNo     *field
	PaperCode, PaperNo, PaperTo *field
	Reason                      *field
	MeasuredX, MeasuredY        *field
	Calibration                 *widget.Label
	content                     fyne.CanvasObject
}

// NewPaperScreen builds the screen.
func NewPaperScreen(env *Env, win fyne.Window, s *Session) *PaperScreen {
	sc := &PaperScreen{env: env, win: win, session: s}
	sc.Positions = widget.NewLabel("")
	sc.BillCode, sc.BillNo, sc.BusNo = newField("票据代码"), newField("票据号码"), newField("或业务流水号")
	sc.PaperCode, sc.PaperNo, sc.PaperTo = newField("纸质票据代码"), newField("纸质号码（打印机中的）"), newField("至号码（空白作废）")
	sc.Reason = newField("原因，例如 卡纸")
	sc.MeasuredX, sc.MeasuredY = newField("十字 A 到左边缘（毫米）"), newField("十字 A 到上边缘（毫米）")
	sc.Calibration = widget.NewLabel("")
	sc.Calibration.Wrapping = fyne.TextWrapWord
	billRow := container.NewGridWithColumns(3, labeled("票据代码", sc.BillCode), labeled("号码", sc.BillNo), labeled("流水号", sc.BusNo))
	paperRow := container.NewGridWithColumns(4, labeled("纸质代码", sc.PaperCode), labeled("纸质号码", sc.PaperNo),
		labeled("至", sc.PaperTo), labeled("原因", sc.Reason))
	actions := container.NewHBox(
		newButton("换开纸质票据…", sc.ConvertDialog),
		newButton("作废重打…", sc.ReprintConfirm),
		newButton("作废纸质票据…", sc.VoidConfirm),
		newButton("空白作废…", sc.BlankVoidConfirm))
	printer := container.NewVBox(widget.NewLabelWithStyle("打印机校准", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(newButton("打印校准页", sc.TestPage)),
		container.NewGridWithColumns(3, sc.MeasuredX, sc.MeasuredY, newButton("按实测值校准", sc.Calibrate)),
		sc.Calibration)
	sc.content = container.NewVScroll(container.NewVBox(
		widget.NewLabelWithStyle("打印机中的纸质票据号码", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), sc.Positions,
		widget.NewLabel("打印前请核对：打印机中纸张上印的号码必须与系统当前号码一致。"),
		widget.NewSeparator(), billRow, paperRow, actions, widget.NewSeparator(), printer))
	return sc
}

// Content is the screen, refreshed.
func (sc *PaperScreen) Content() fyne.CanvasObject {
	sc.Refresh()
	return sc.content
}

// Refresh shows the current paper numbers and the printer's offset.
func (sc *PaperScreen) Refresh() {
	ps, err := sc.env.Store.PaperPositions(bg())
	if err != nil {
		sc.Positions.SetText(bill.ErrorMessage(err))
		return
	}
	var lines []string
	for _, p := range ps {
		if p.Next == 0 {
			lines = append(lines, fmt.Sprintf("%s  已用完", p.Code))
		} else {
			lines = append(lines, fmt.Sprintf("%s  当前号码 %s，剩余 %d 张", p.Code, bill.FormatBillNo(p.Next), p.Remaining))
		}
		if sc.PaperCode.Text == "" {
			sc.PaperCode.SetText(p.Code)
		}
	}
	if len(lines) == 0 {
		lines = []string{"本机没有纸质票据；请票据管理员做纸质票据入库（ebill paper intake）。"}
	}
	sc.Positions.SetText(strings.Join(lines, "\n"))
	if name, _ := sc.env.Store.DefaultPrinter(bg()); name != "" {
		off, _ := sc.env.Store.PrinterOffset(bg(), name)
		sc.Calibration.SetText(fmt.Sprintf("打印机 %s，当前偏移：水平 %+.1f 毫米，垂直 %+.1f 毫米。", name, off.X, off.Y))
	} else {
		sc.Calibration.SetText("还没有设置默认打印机；请在“个人设置与消息”中选择。")
	}
}

func (sc *PaperScreen) bill() (*localstore.StoredBill, error) {
	st := sc.env.Store
	if bus := strings.TrimSpace(sc.BusNo.Text); bus != "" {
		return st.BillByBusNo(bg(), bus)
	}
	no, err := bill.ParseBillNo(strings.TrimSpace(sc.BillNo.Text))
	if err != nil {
		return nil, bill.Errorf(bill.EInvalid, "请输入票据代码和号码，或业务流水号。")
	}
	return st.Bill(bg(), strings.TrimSpace(sc.BillCode.Text), no)
}

func (sc *PaperScreen) paperNo(f *field) (int64, error) {
	return bill.ParseBillNo(strings.TrimSpace(f.Text))
}

// ConvertDialog converts the bill given on the screen.
func (sc *PaperScreen) ConvertDialog() {
	b, err := sc.bill()
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	convertDialog(sc.env, sc.win, sc.session, b, sc.Refresh)
}

func (sc *PaperScreen) reason() (string, error) {
	r := strings.TrimSpace(sc.Reason.Text)
	if r == "" {
		return "", bill.FieldErrorf("reason", "请填写原因。")
	}
	return r, nil
}

// ReprintConfirm voids the bill's paper copy and prints it on the paper
// number in the printer, after confirmation.
func (sc *PaperScreen) ReprintConfirm() {
	b, err := sc.bill()
	if err == nil && b.PaperCode == "" {
		err = bill.Errorf(bill.EInvalid, "票据 %s %s 没有已打印的纸质票据；请用“换开纸质票据”。", b.BillCode, b.BillNoText())
	}
	var no int64
	if err == nil {
		no, err = sc.paperNo(sc.PaperNo)
	}
	var reason string
	if err == nil {
		reason, err = sc.reason()
	}
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	msg := fmt.Sprintf("作废纸质票据 %s %s，并把电子票据 %s %s 打印到打印机中的 %s？\n原因：%s",
		b.PaperCode, bill.FormatBillNo(b.PaperNo), b.BillCode, b.BillNoText(), bill.FormatBillNo(no), reason)
	confirm("作废重打", msg, func(ok bool) {
		if ok {
			sc.Reprint(b, no, reason)
		}
	}, sc.win)
}

// Reprint: check, print, record (stationprint.Reprint).
func (sc *PaperScreen) Reprint(b *localstore.StoredBill, no int64, reason string) {
	env := sc.env
	Go(env.Bridge, func(ctx context.Context) (string, error) {
		_, job, err := stationprint.Reprint(ctx, env.Store, b.BillCode, b.BillNo, no, reason, sc.session.Name,
			func(ctx context.Context) (string, error) { return printPaper(ctx, env, b, b.PaperCode) })
		return job, err
	}, func(job string, err error) {
		if err != nil {
			showError(env, sc.win, err)
			return
		}
		sc.Refresh()
		notifyPrinted(env, sc.win, fmt.Sprintf("已作废原纸质票据并重打到 %s（%s）", bill.FormatBillNo(no), job))
	})
}

// VoidConfirm voids one printed paper bill; its e-bill stays valid.
func (sc *PaperScreen) VoidConfirm() {
	code := strings.TrimSpace(sc.PaperCode.Text)
	no, err := sc.paperNo(sc.PaperNo)
	var reason string
	if err == nil {
		reason, err = sc.reason()
	}
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	confirm("作废纸质票据", fmt.Sprintf("作废纸质票据 %s %s？电子票据仍然有效。\n原因：%s", code, bill.FormatBillNo(no), reason),
		func(ok bool) {
			if !ok {
				return
			}
			Go(sc.env.Bridge, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, sc.env.Store.VoidPaper(ctx, code, no, reason, sc.session.Name)
			}, func(_ struct{}, err error) {
				if err != nil {
					showError(sc.env, sc.win, err)
					return
				}
				sc.Refresh()
			})
		}, sc.win)
}

// BlankVoidConfirm voids a range of unprinted paper numbers.
func (sc *PaperScreen) BlankVoidConfirm() {
	code := strings.TrimSpace(sc.PaperCode.Text)
	from, err := sc.paperNo(sc.PaperNo)
	to := from
	if err == nil && strings.TrimSpace(sc.PaperTo.Text) != "" {
		to, err = sc.paperNo(sc.PaperTo)
	}
	var reason string
	if err == nil {
		reason, err = sc.reason()
	}
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	confirm("空白作废", fmt.Sprintf("空白作废纸质票据 %s %s 至 %s，共 %d 张？\n原因：%s", code, bill.FormatBillNo(from),
		bill.FormatBillNo(to), to-from+1, reason), func(ok bool) {
		if !ok {
			return
		}
		Go(sc.env.Bridge, func(ctx context.Context) (int64, error) {
			return sc.env.Store.BlankVoid(ctx, code, from, to, reason, sc.session.Name)
		}, func(n int64, err error) {
			if err != nil {
				showError(sc.env, sc.win, err)
				return
			}
			sc.Refresh()
		})
	}, sc.win)
}

// TestPage prints the calibration page on the default printer.
func (sc *PaperScreen) TestPage() {
	env := sc.env
	Go(env.Bridge, func(ctx context.Context) (string, error) {
		p, err := openPrinter(ctx, env.Store, "")
		if err != nil {
			return "", err
		}
		off, err := stationprint.Offset(ctx, env.Store, p.Name())
		if err != nil {
			return "", err
		}
		tpl, err := printing.LoadTemplate("outpatient")
		if err != nil {
			return "", err
		}
		return p.Print(ctx, printing.CalibrationPage(tpl.Width, tpl.Height, p.Name(), off, env.Font), env.Font)
	}, func(job string, err error) {
		if err != nil {
			showError(env, sc.win, err)
			return
		}
		notifyPrinted(env, sc.win, "已打印校准页（"+job+"）；量出十字 A 到纸张左边、上边的距离后填入下面两格。")
	})
}

// Calibrate stores the offset that moves crosshair A onto its mark.
func (sc *PaperScreen) Calibrate() {
	x, errX := strconv.ParseFloat(strings.TrimSpace(sc.MeasuredX.Text), 64)
	y, errY := strconv.ParseFloat(strings.TrimSpace(sc.MeasuredY.Text), 64)
	if errX != nil || errY != nil {
		showError(sc.env, sc.win, bill.Errorf(bill.EInvalid, "请填写量得的两个距离（毫米），例如 21.5 和 19。"))
		return
	}
	ctx := bg()
	name, err := sc.env.Store.DefaultPrinter(ctx)
	if err == nil && name == "" {
		err = bill.Errorf(bill.EInvalid, "还没有设置默认打印机；请在“个人设置与消息”中选择。")
	}
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	old, err := stationprint.Offset(ctx, sc.env.Store, name)
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	next := printing.Calibrate(old, x, y)
	if err := sc.env.Store.SetPrinterOffset(ctx, name, localstore.PrinterOffset{X: next.X, Y: next.Y}); err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	sc.Refresh()
	sc.Calibration.SetText(sc.Calibration.Text + "\n" + printing.Advice(old, next) + "。请再打印一张校准页核对。")
}
