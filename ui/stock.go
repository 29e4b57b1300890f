package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
)

// StockScreen is 库存: e-bill segments and paper ranges, used and left,
// the alerts, and "request numbers now".
type StockScreen struct {
	env     *Env
	win     fyne.Window
	Text    *widget.Label
	Request *keyButton
	content fyne.CanvasObject
}

// NewStockScreen builds the screen.
func NewStockScreen(env *Env, win fyne.Window) *StockScreen {
	sc := &StockScreen{env: env, win: win, Text: widget.NewLabel("")}
	sc.Request = newButton("立即申请号段", sc.RequestNow)
	sc.content = container.NewBorder(container.NewHBox(newButton("刷新", sc.Refresh), sc.Request), nil, nil, nil,
		container.NewVScroll(sc.Text))
	return sc
}

// Content is the screen, refreshed.
func (sc *StockScreen) Content() fyne.CanvasObject {
	sc.Refresh()
	return sc.content
}

// Refresh shows the stock.
func (sc *StockScreen) Refresh() {
	ctx := bg()
	var b strings.Builder
	stock, err := sc.env.Store.Stock(ctx)
	if err != nil {
		sc.Text.SetText(bill.ErrorMessage(err))
		return
	}
	b.WriteString("电子票据号码\n")
	for _, c := range stock {
		alert := ""
		if c.Alert {
			alert = fmt.Sprintf("  ⚠ 低于预警值 %d，请申请号段", c.Threshold)
		}
		next := "已用完"
		if c.Next > 0 {
			next = "下一号码 " + bill.FormatBillNo(c.Next)
		}
		fmt.Fprintf(&b, "  %s  共 %d，已用 %d，剩余 %d，%s%s\n", c.BillCode, c.Total, c.Used, c.Remaining, next, alert)
	}
	if len(stock) == 0 {
		b.WriteString("  没有号段：联网后同步服务会自动申请，也可点“立即申请号段”。\n")
	}
	segs, err := sc.env.Store.Segments(ctx)
	if err == nil && len(segs) > 0 {
		b.WriteString("\n号段明细\n")
		for _, s := range segs {
			fmt.Fprintf(&b, "  %s  剩余 %d\n", s.Segment, s.Remaining())
		}
	}
	paper, err := sc.env.Store.PaperPositions(ctx)
	if err == nil {
		b.WriteString("\n纸质票据\n")
		for _, p := range paper {
			if p.Next == 0 {
				fmt.Fprintf(&b, "  %s  已用完\n", p.Code)
			} else {
				fmt.Fprintf(&b, "  %s  当前号码 %s，剩余 %d 张\n", p.Code, bill.FormatBillNo(p.Next), p.Remaining)
			}
		}
		if len(paper) == 0 {
			b.WriteString("  无\n")
		}
	}
	sc.Text.SetText(b.String())
}

// RequestNow asks the sync service to sync (and so to refill) at once.
func (sc *StockScreen) RequestNow() {
	Go(sc.env.Bridge, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, sc.env.Store.RequestSync(ctx)
	}, func(_ struct{}, err error) {
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		st, _ := sc.env.Store.Station(bg())
		msg := "已通知同步服务立即同步并申请号段；几秒后点“刷新”查看。"
		if st != nil && st.ServerURL == "" {
			msg = "本机是单机/演示开票点，没有服务器可申请号段；请联系票据管理员。"
		}
		sc.Text.SetText(msg + "\n\n" + sc.Text.Text)
	})
}
