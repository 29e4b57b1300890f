package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// ReverseScreen is 红字冲销: find the bill (code + number, BusNo, or
// patient), see it, give the reason, confirm.
type ReverseScreen struct {
	env     *Env
	win     fyne.Window
	session *Session

	Code, No, BusNo, Patient, Reason *field
	Found                            *widget.Label
	Preview                          *fyne.Container
	ReverseButton                    *keyButton
	Selected                         *localstore.StoredBill
	// Reversed is the red bill of the last reversal.
	Reversed *localstore.StoredBill
	content  fyne.CanvasObject
}

// NewReverseScreen builds the screen.
func NewReverseScreen(env *Env, win fyne.Window, s *Session) *ReverseScreen {
	sc := &ReverseScreen{env: env, win: win, session: s}
	sc.Code, sc.No, sc.BusNo, sc.Patient = newField("票据代码"), newField("票据号码"), newField("业务流水号"), newField("交款人或门诊号")
	sc.Reason = newField("冲红原因（必填），例如 患者退费")
	for _, f := range []*field{sc.Code, sc.No, sc.BusNo, sc.Patient} {
		f.onEnter = sc.Find
	}
	sc.Reason.onEnter = sc.Confirm
	sc.Found = widget.NewLabel("输入票据代码和号码、业务流水号，或交款人/门诊号，回车查找。")
	sc.Found.Wrapping = fyne.TextWrapWord
	sc.Preview = container.NewStack()
	sc.ReverseButton = newButton("冲红…", sc.Confirm)
	sc.ReverseButton.Importance = widget.DangerImportance
	sc.ReverseButton.Disable()
	find := container.NewGridWithColumns(4, labeled("票据代码", sc.Code), labeled("号码", sc.No), labeled("业务流水号", sc.BusNo),
		labeled("交款人/门诊号", sc.Patient))
	sc.content = container.NewBorder(container.NewVBox(find, container.NewHBox(newButton("查找", sc.Find)), sc.Found,
		labeled("冲红原因", sc.Reason), container.NewHBox(sc.ReverseButton)), nil, nil, nil, container.NewVScroll(sc.Preview))
	return sc
}

// Content is the screen.
func (sc *ReverseScreen) Content() fyne.CanvasObject { return sc.content }

// Find looks the bill up.
func (sc *ReverseScreen) Find() {
	ctx := bg()
	st := sc.env.Store
	var b *localstore.StoredBill
	var err error
	switch {
	case strings.TrimSpace(sc.Code.Text) != "" && strings.TrimSpace(sc.No.Text) != "":
		var no int64
		if no, err = bill.ParseBillNo(strings.TrimSpace(sc.No.Text)); err == nil {
			b, err = st.Bill(ctx, strings.TrimSpace(sc.Code.Text), no)
		}
	case strings.TrimSpace(sc.BusNo.Text) != "":
		b, err = st.BillByBusNo(ctx, strings.TrimSpace(sc.BusNo.Text))
	case strings.TrimSpace(sc.Patient.Text) != "":
		q := strings.TrimSpace(sc.Patient.Text)
		var list []*localstore.StoredBill
		list, _, err = st.ListBills(ctx, localstore.Filter{Payer: q, State: "normal", Limit: 20})
		if err == nil && len(list) == 0 {
			list, _, err = st.ListBills(ctx, localstore.Filter{PatientNo: q, State: "normal", Limit: 20})
		}
		if err == nil {
			sc.choose(list)
			return
		}
	default:
		err = bill.Errorf(bill.EInvalid, "请输入票据代码和号码、业务流水号，或交款人/门诊号。")
	}
	if err != nil {
		sc.select_(nil)
		sc.Found.SetText(bill.ErrorMessage(err))
		return
	}
	sc.select_(b)
}

// choose lets the cashier pick among a patient's bills.
func (sc *ReverseScreen) choose(list []*localstore.StoredBill) {
	if len(list) == 0 {
		sc.select_(nil)
		sc.Found.SetText("没有找到该交款人或门诊号的有效票据。")
		return
	}
	if len(list) == 1 {
		full, err := sc.env.Store.Bill(bg(), list[0].BillCode, list[0].BillNo)
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		sc.select_(full)
		return
	}
	var names []string
	for _, b := range list {
		names = append(names, fmt.Sprintf("%s %s  %s  ¥%s  %s", b.BillCode, b.BillNoText(), b.Payer, b.Total,
			b.IssuedAt.In(bill.Beijing).Format("01-02 15:04")))
	}
	// A drop-down of the patient's bills, the newest first: ← → or ↓ to
	// choose, Enter takes it, Esc cancels.
	pick := newSelect(names, nil)
	pick.SetSelectedIndex(0)
	take := func() {
		i := pick.SelectedIndex()
		if i < 0 {
			return
		}
		full, err := sc.env.Store.Bill(bg(), list[i].BillCode, list[i].BillNo)
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		sc.select_(full)
	}
	var m *modal
	pick.onEnter = func() { m.close(m.ok) }
	m = showModal(sc.win, "选择要冲红的票据", pick, "选择", take, "取消", nil, pick)
}

func (sc *ReverseScreen) select_(b *localstore.StoredBill) {
	sc.Selected = b
	sc.Preview.Objects = nil
	sc.ReverseButton.Disable()
	if b == nil {
		sc.Preview.Refresh()
		return
	}
	text := fmt.Sprintf("票据 %s %s  %s  交款人 %s  金额 ¥%s  状态：%s", b.BillCode, b.BillNoText(), b.Kind.Name(), b.Payer, b.Total, b.State())
	if b.PaperCode != "" {
		text += fmt.Sprintf("\n已换开纸质票据 %s %s：冲红后该纸质票据一并作废，请收回。", b.PaperCode, bill.FormatBillNo(b.PaperNo))
	}
	switch {
	case b.RedOf != "":
		text += "\n这是红字票据，不能再冲红。"
	case b.RedBy != "":
		text += "\n该票据已冲销（红字票据 " + b.RedBy + "），不能再次冲红。"
	default:
		sc.ReverseButton.Enable()
	}
	sc.Found.SetText(text)
	if img, err := preview(sc.env, b); err == nil {
		sc.Preview.Objects = []fyne.CanvasObject{img}
	}
	sc.Preview.Refresh()
}

// Confirm asks before reversing; the reason is required. Cancel changes nothing.
func (sc *ReverseScreen) Confirm() {
	b := sc.Selected
	if b == nil {
		sc.Find()
		return
	}
	reason := strings.TrimSpace(sc.Reason.Text)
	if reason == "" {
		showError(sc.env, sc.win, bill.FieldErrorf("reason", "请填写冲红原因。"))
		sc.win.Canvas().Focus(sc.Reason)
		return
	}
	msg := fmt.Sprintf("开具红字票据，整张冲销 %s %s（交款人 %s，金额 ¥%s）？\n原因：%s", b.BillCode, b.BillNoText(), b.Payer, b.Total, reason)
	confirm("确认冲红", msg, func(ok bool) {
		if ok {
			sc.Reverse(reason)
		}
	}, sc.win)
}

// Reverse issues the red bill (in the background).
func (sc *ReverseScreen) Reverse(reason string) {
	b := sc.Selected
	Go(sc.env.Bridge, func(ctx context.Context) (*localstore.IssueResult, error) {
		return sc.env.Store.Reverse(ctx, b.BillCode, b.BillNo, reason, sc.session.Name)
	}, func(res *localstore.IssueResult, err error) {
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		sc.Reversed = res.Bill
		sc.Reason.SetText("")
		full, _ := sc.env.Store.Bill(bg(), b.BillCode, b.BillNo)
		sc.select_(full)
		sc.Found.SetText(fmt.Sprintf("已冲红：红字票据 %s %s，金额 ¥%s。", res.Bill.BillCode, res.Bill.BillNoText(), res.Bill.Total))
	})
}
