package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
)

// ClosingScreen is 日结: the signed-in cashier's day — counts and amounts
// by kind and by pay channel, reversals, paper voids — printable as a PDF.
type ClosingScreen struct {
	env     *Env
	win     fyne.Window
	session *Session
	Day     *field
	Text    *widget.Label   // the heading, or why nothing was computed
	Tables  *fyne.Container // the closing's tables, as printed
	Last    *Closing
	content fyne.CanvasObject
}

// Closing is one cashier's day.
type Closing struct {
	Payee      string
	Day        time.Time // Beijing midnight
	ByKind     map[bill.Kind]*Tally
	ByChannel  map[string]*Tally // bills paid (or refunded) through each channel, red bills negative
	Red        Tally
	RedBills   []RedLine
	Net        bill.Money
	PaperVoids []localstore.PaperEvent
}

// RedLine is one red bill of the day: its number and the bill it reversed.
type RedLine struct {
	Bill, Orig string
	Amount     bill.Money
}

// Tally counts bills and their amount.
type Tally struct {
	Count  int
	Amount bill.Money
}

// NewClosingScreen builds the screen.
func NewClosingScreen(env *Env, win fyne.Window, s *Session) *ClosingScreen {
	sc := &ClosingScreen{env: env, win: win, session: s, Day: newField("日期 yyyy-MM-dd"), Text: widget.NewLabel(""),
		Tables: container.NewVBox()}
	sc.Day.SetText(env.now().In(bill.Beijing).Format("2006-01-02"))
	sc.Day.onEnter = sc.Refresh
	day := container.NewGridWrap(fyne.NewSize(150, sc.Day.MinSize().Height), sc.Day) // the whole date shows
	sc.content = container.NewBorder(container.NewHBox(widget.NewLabel("日期"), day, newButton("统计", sc.Refresh),
		newButton("打印", sc.Print), newButton("导出 PDF…", sc.pdfDialog)), nil, nil, nil,
		container.NewVScroll(container.NewVBox(sc.Text, sc.Tables)))
	return sc
}

// Content is the screen, refreshed.
func (sc *ClosingScreen) Content() fyne.CanvasObject {
	sc.Refresh()
	return sc.content
}

// ComputeClosing adds up payee's bills of the Beijing day.
func ComputeClosing(ctx context.Context, st *localstore.Store, payee string, day time.Time) (*Closing, error) {
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, bill.Beijing)
	c := &Closing{Payee: payee, Day: day, ByKind: map[bill.Kind]*Tally{}, ByChannel: map[string]*Tally{}}
	f := localstore.Filter{From: day, To: day.AddDate(0, 0, 1), Payee: payee, Limit: 1000}
	for f.Offset = 0; ; f.Offset += 1000 {
		rows, _, err := st.ListBills(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			b, err := st.Bill(ctx, r.BillCode, r.BillNo)
			if err != nil {
				return nil, err
			}
			if b.RedOf != "" {
				c.Red.Count++
				c.Red.Amount += b.Total
				orig := ""
				if b.Bill.Red != nil {
					orig = b.Bill.Red.OrigBillCode + " " + b.Bill.Red.OrigBillNo
				}
				c.RedBills = append(c.RedBills, RedLine{Bill: b.BillCode + " " + b.BillNoText(), Orig: orig, Amount: b.Total})
			} else {
				t := c.ByKind[b.Kind]
				if t == nil {
					t = &Tally{}
					c.ByKind[b.Kind] = t
				}
				t.Count++
				t.Amount += b.Total
			}
			c.Net += b.Total
			for _, p := range b.Bill.Settlement.PayChannelDetail {
				if p.Value == 0 {
					continue // a channel that took nothing on this bill
				}
				t := c.ByChannel[string(p.Code)]
				if t == nil {
					t = &Tally{}
					c.ByChannel[string(p.Code)] = t
				}
				t.Count++
				t.Amount += p.Value
			}
		}
		if len(rows) < 1000 {
			break
		}
	}
	var err error
	c.PaperVoids, err = st.PaperVoids(ctx, day, day.AddDate(0, 0, 1), payee)
	return c, err
}

// Tables are the closing's figures, the same on the screen and on the
// printed sheet the cashier hands to the finance office with the cash.
func (c *Closing) Tables() []printing.ReportTable {
	kinds := printing.ReportTable{Title: "按票据种类", Columns: []string{"种类", "张数", "金额（元）"}, Widths: []float64{60, 40, 60}}
	var blue Tally
	for _, k := range bill.Kinds {
		if t := c.ByKind[k]; t != nil {
			kinds.Rows = append(kinds.Rows, []string{k.Name(), fmt.Sprint(t.Count), t.Amount.String()})
			blue.Count, blue.Amount = blue.Count+t.Count, blue.Amount+t.Amount
		}
	}
	kinds.Rows = append(kinds.Rows, []string{"蓝字合计", fmt.Sprint(blue.Count), blue.Amount.String()},
		[]string{"红字（冲销）", fmt.Sprint(c.Red.Count), c.Red.Amount.String()},
		[]string{"净额", fmt.Sprint(blue.Count + c.Red.Count), c.Net.String()})
	chans := printing.ReportTable{Title: "按支付方式（红字冲减）", Columns: []string{"支付方式", "笔数", "金额（元）"}, Widths: []float64{60, 40, 60}}
	var codes []string
	for code := range c.ByChannel {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	var all Tally
	for _, code := range codes {
		name := payChannelName(code)
		if code == InsurancePayChannel {
			name = "医保"
		}
		t := c.ByChannel[code]
		all.Count, all.Amount = all.Count+t.Count, all.Amount+t.Amount
		chans.Rows = append(chans.Rows, []string{strings.TrimSpace(code + " " + name), fmt.Sprint(t.Count), t.Amount.String()})
	}
	chans.Rows = append(chans.Rows, []string{"合计", fmt.Sprint(all.Count), all.Amount.String()})
	reds := printing.ReportTable{Title: "红字票据（退费）", Columns: []string{"红字票据", "冲销的原票据", "金额（元）"}, Widths: []float64{60, 60, 40}}
	for _, r := range c.RedBills {
		reds.Rows = append(reds.Rows, []string{r.Bill, r.Orig, r.Amount.String()})
	}
	if len(reds.Rows) == 0 {
		reds.Rows = [][]string{{"无", "", ""}}
	}
	voids := printing.ReportTable{Title: "纸质票据作废", Columns: []string{"纸质票据", "类型", "原因"}, Widths: []float64{70, 30, 80}}
	for _, v := range c.PaperVoids {
		kind := "作废"
		if v.Status == localstore.PaperBlankVoid {
			kind = "空白作废"
		}
		voids.Rows = append(voids.Rows, []string{v.Code + " " + bill.FormatBillNo(v.No), kind, v.Reason})
	}
	if len(voids.Rows) == 0 {
		voids.Rows = [][]string{{"无", "", ""}}
	}
	return []printing.ReportTable{kinds, chans, reds, voids}
}

// tableView shows a report table as the sheet prints it: a bold title, a
// header row, amounts and counts right-aligned.
func tableView(t printing.ReportTable) fyne.CanvasObject {
	grid := container.NewGridWithColumns(len(t.Columns))
	numeric := func(col int) bool {
		return col > 0 && (strings.Contains(t.Columns[col], "数") || strings.Contains(t.Columns[col], "金额"))
	}
	for i, h := range t.Columns {
		l := widget.NewLabelWithStyle(h, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		if numeric(i) {
			l.Alignment = fyne.TextAlignTrailing
		}
		grid.Add(l)
	}
	for _, r := range t.Rows {
		for i, cell := range r {
			l := widget.NewLabel(cell)
			if numeric(i) {
				l.Alignment = fyne.TextAlignTrailing
			}
			grid.Add(l)
		}
	}
	title := widget.NewLabelWithStyle(t.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(title, container.NewGridWrap(fyne.NewSize(520, grid.MinSize().Height), grid), widget.NewSeparator())
}

// Cells are the texts each of the screen's tables shows, its title first
// then header and rows cell by cell (for tests).
func (sc *ClosingScreen) Cells() [][]string {
	var out [][]string
	for _, t := range sc.Tables.Objects {
		box := t.(*fyne.Container)
		cells := []string{box.Objects[0].(*widget.Label).Text}
		grid := box.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container)
		for _, o := range grid.Objects {
			cells = append(cells, o.(*widget.Label).Text)
		}
		out = append(out, cells)
	}
	return out
}

// Refresh computes the day.
func (sc *ClosingScreen) Refresh() {
	day, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(sc.Day.Text), bill.Beijing)
	if err != nil {
		sc.Text.SetText("日期格式不正确，应为 yyyy-MM-dd。")
		return
	}
	Go(sc.env.Bridge, func(ctx context.Context) (*Closing, error) {
		return ComputeClosing(ctx, sc.env.Store, sc.session.Name, day)
	}, func(c *Closing, err error) {
		if err != nil {
			sc.Text.SetText(bill.ErrorMessage(err))
			return
		}
		sc.Last = c
		sc.Text.SetText(fmt.Sprintf("收款人 %s    日期 %s", c.Payee, c.Day.Format("2006-01-02")))
		sc.Tables.Objects = nil
		for _, t := range c.Tables() {
			sc.Tables.Add(tableView(t))
		}
		sc.Tables.Refresh()
	})
}

// Document is the closing as a printable report.
func (c *Closing) Document(f *printing.Font, printedAt time.Time) *printing.Document {
	lines := []string{"收款人：" + c.Payee, "日期：" + c.Day.Format("2006-01-02"),
		"打印时间：" + printedAt.In(bill.Beijing).Format("2006-01-02 15:04:05")}
	return printing.Report("收费员日结单", lines, c.Tables(), f)
}

// Print sends the last closing computed to the default printer.
func (sc *ClosingScreen) Print() {
	c := sc.Last
	if c == nil {
		return
	}
	Go(sc.env.Bridge, func(ctx context.Context) (string, error) {
		p, err := openPrinter(ctx, sc.env.Store, "")
		if err != nil {
			return "", err
		}
		return p.Print(ctx, c.Document(sc.env.Font, sc.env.now()), sc.env.Font)
	}, func(job string, err error) {
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		notifyPrinted(sc.env, sc.win, "已打印日结单（"+job+"）")
	})
}

func (sc *ClosingScreen) pdfDialog() {
	if sc.Last == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		sc.SavePDF(path)
	}, sc.win)
	d.SetFileName("日结-" + sc.session.Name + "-" + sc.Last.Day.Format("20060102") + ".pdf")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".pdf"}))
	d.Show()
}

// SavePDF writes the last closing computed as a PDF.
func (sc *ClosingScreen) SavePDF(path string) {
	c := sc.Last
	Go(sc.env.Bridge, func(ctx context.Context) (string, error) {
		data, err := printing.PDF(c.Document(sc.env.Font, sc.env.now()), sc.env.Font, printing.PDFOptions{Created: sc.env.now()})
		if err != nil {
			return "", err
		}
		return path, printing.WriteFileAtomic(path, data)
	}, func(path string, err error) {
		if err != nil {
			showError(sc.env, sc.win, err)
			return
		}
		notifyPrinted(sc.env, sc.win, "已保存日结单 "+path)
	})
}
