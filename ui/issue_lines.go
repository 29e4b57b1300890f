package ui

// The issue screen's charge lines and pay rows: finding items as the
// cashier types, the rows of the lines with their quantity, price and
// subtotal, and the pay channels with the point's default.

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// search finds charge items as the cashier types (a local read).
func (sc *IssueScreen) search(q string) {
	q = strings.TrimSpace(q)
	sc.found, sc.selected = nil, 0
	if q != "" {
		items, err := sc.env.Store.SearchChargeItems(bg(), q, 8)
		if err != nil {
			sc.Results.SetText("检索失败：" + bill.ErrorMessage(err))
			return
		}
		sc.found = items
	}
	sc.showResults()
}

func (sc *IssueScreen) showResults() {
	if sc.Search.Text == "" {
		sc.Results.SetText("")
		return
	}
	if len(sc.found) == 0 {
		sc.Results.SetText("没有找到收费项目；请换用编码、名称或拼音首字母。")
		return
	}
	var b strings.Builder
	for i, it := range sc.found {
		mark := "  "
		if i == sc.selected {
			mark = "▶ "
		}
		fmt.Fprintf(&b, "%s%s  %s  %s  %s元/%s\n", mark, it.Code, it.Name, it.Spec, it.Price, it.Unit)
	}
	sc.Results.SetText(strings.TrimRight(b.String(), "\n"))
}

// Found lists the items the search shows (for tests).
func (sc *IssueScreen) Found() []localstore.ChargeItem { return sc.found }

func (sc *IssueScreen) addSelected() {
	if len(sc.found) == 0 {
		if sc.Search.Text == "" && sc.win.Canvas() != nil {
			sc.win.Canvas().FocusNext()
		}
		return
	}
	sc.AddItem(sc.found[sc.selected])
	sc.Search.SetText("")
}

// AddItem puts a charge item on the bill with quantity 1, or adds 1 to its
// quantity when it is there already.
func (sc *IssueScreen) AddItem(it localstore.ChargeItem) {
	for i := range sc.lines {
		if sc.lines[i].Item.Code == it.Code {
			sc.lines[i].Qty += bill.Quantity(10000)
			sc.showLines()
			sc.recompute()
			return
		}
	}
	sc.lines = append(sc.lines, formLine{Item: it, Qty: bill.Quantity(10000)})
	sc.showLines()
	sc.recompute()
}

// SetQuantity changes line i's quantity (for tests and the quantity fields).
func (sc *IssueScreen) SetQuantity(i int, text string) error {
	q, err := bill.ParseQuantity(strings.TrimSpace(text))
	if err != nil {
		return err
	}
	sc.lines[i].Qty = q
	sc.recompute()
	return nil
}

// lineRow is the widgets of one line; rows are kept and reused from bill to
// bill, so a day at the window does not pile up widgets.
type lineRow struct {
	name, amount *widget.Label
	qty, price   *field
	box          *fyne.Container
}

func (sc *IssueScreen) lineRow(i int) *lineRow {
	for len(sc.rows) <= i {
		j := len(sc.rows)
		r := &lineRow{name: widget.NewLabel(""), amount: widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{}),
			qty: newField("数量"), price: newField("单价")}
		r.name.Truncation = fyne.TextTruncateEllipsis // a long name shortens; the amounts and 删除 stay in view
		r.qty.keys, r.price.keys = sc.keys, sc.keys
		r.price.onEnter = func() { sc.win.Canvas().Focus(sc.Search) }
		r.price.OnChanged = func(s string) {
			if sc.filling || j >= len(sc.lines) {
				return
			}
			p, err := bill.ParseMoney4(strings.TrimSpace(s))
			if err != nil || p < 0 {
				sc.ToAllocate.SetText("单价格式不正确：" + s)
				return
			}
			sc.lines[j].Item.Price = p
			r.amount.SetText(subtotal(sc.lines[j]))
			sc.recompute()
		}
		r.qty.onEnter = func() { sc.win.Canvas().Focus(sc.Search) }
		r.qty.OnChanged = func(s string) {
			if sc.filling || j >= len(sc.lines) {
				return
			}
			if err := sc.SetQuantity(j, s); err != nil {
				sc.ToAllocate.SetText("数量格式不正确：" + s)
				return
			}
			r.amount.SetText(subtotal(sc.lines[j]))
		}
		remove := newButton("删除", func() {
			if j < len(sc.lines) {
				sc.lines = append(sc.lines[:j], sc.lines[j+1:]...)
				sc.showLines()
				sc.recompute()
			}
		})
		cell := fyne.NewSize(86, r.qty.MinSize().Height)
		right := container.NewHBox(widget.NewLabel("数量"), container.NewGridWrap(cell, r.qty),
			widget.NewLabel("单价"), container.NewGridWrap(cell, r.price),
			container.NewGridWrap(fyne.NewSize(96, cell.Height), r.amount), remove) // a fixed subtotal column keeps the rows aligned
		r.box = container.NewBorder(nil, nil, nil, right, r.name)
		sc.rows = append(sc.rows, r)
	}
	return sc.rows[i]
}

// subtotal is a line's amount to the fen, as the bill prints amounts (the
// unit price keeps its 4 decimals; 9.166 beside its category's 9.17 read
// as an error).
func subtotal(l formLine) string {
	fen, _ := l.Amount().RoundFen()
	return "小计 " + fen.String()
}

// LineSubtotal is what line i's subtotal shows (for tests).
func (sc *IssueScreen) LineSubtotal(i int) string { return sc.rows[i].amount.Text }

func (sc *IssueScreen) showLines() {
	sc.filling = true
	defer func() { sc.filling = false }()
	sc.linesBox.Objects = sc.linesBox.Objects[:0]
	for i, l := range sc.lines {
		r := sc.lineRow(i)
		r.name.SetText(fmt.Sprintf("%d. %s %s（%s）", i+1, l.Item.Name, l.Item.Spec, l.Item.Unit))
		r.qty.SetText(l.Qty.String())
		r.price.SetText(l.Item.Price.String())
		r.amount.SetText(subtotal(l))
		sc.linesBox.Objects = append(sc.linesBox.Objects, r.box)
	}
	sc.relayout()
}

// relayout recomputes the form's layout after rows were added or removed.
func (sc *IssueScreen) relayout() {
	if sc.form != nil {
		sc.form.Refresh()
		sc.content.Refresh()
	}
}

func (sc *IssueScreen) addPayRow() {
	codes := []string{"02", "05", "04", "01", "07", "08", "03", "06", "09"}
	var names []string
	for _, c := range codes {
		names = append(names, c+" "+payChannelName(c))
	}
	if chans, err := sc.env.Store.PayChannels(bg()); err == nil && len(chans) > 0 {
		codes, names = nil, nil
		for _, c := range chans {
			if !c.Disabled && c.Code != InsurancePayChannel {
				codes, names = append(codes, c.Code), append(names, c.Code+" "+c.Name)
			}
		}
	}
	pw := &payWidgets{channel: newSelect(names, func(string) { sc.recompute() }), amount: newField("留空则取剩余金额"), codes: codes}
	pw.channel.SetSelectedIndex(sc.channelFor(len(sc.pays), codes))
	pw.amount.keys = sc.keys
	pw.amount.OnChanged = func(string) { sc.recompute() }
	sc.pays = append(sc.pays, pw)
	sc.paysBox.Add(container.NewGridWithColumns(2, pw.channel, pw.amount))
	sc.relayout()
}

func (sc *IssueScreen) loadDesk() {
	d, err := sc.env.Store.DeskSettings(bg())
	if err != nil {
		sc.env.Log.Warn("desk settings", "err", err)
		d.DefaultPayChannel = localstore.CashPayChannel
	}
	sc.desk = d
}

// channelFor is the channel a pay row starts with: the first row the
// billing point's default (cash when it has none), each further row the
// next channel not yet on the bill.
func (sc *IssueScreen) channelFor(row int, codes []string) int {
	first := slices.Index(codes, sc.desk.DefaultPayChannel)
	if first < 0 {
		first = max(slices.Index(codes, localstore.CashPayChannel), 0)
	}
	if row == 0 {
		return first
	}
	used := map[int]bool{}
	for _, p := range sc.pays {
		used[p.channel.SelectedIndex()] = true
	}
	for i := range codes {
		if j := (first + i) % len(codes); !used[j] {
			return j
		}
	}
	return first
}

func payChannelName(code string) string {
	return map[string]string{"01": "POS", "02": "现金", "03": "转账", "04": "支付宝", "05": "微信", "06": "支票",
		"07": "银行卡", "08": "银联", "09": "自助机"}[code]
}
