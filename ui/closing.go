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
	Text    *widget.Label
	Last    *Closing
	content fyne.CanvasObject
}

// Closing is one cashier's day.
type Closing struct {
	Payee      string
	Day        time.Time // Beijing midnight
	ByKind     map[bill.Kind]*Tally
	ByChannel  map[string]bill.Money
	Red        Tally
	Net        bill.Money
	PaperVoids []localstore.PaperEvent
}

// Tally counts bills and their amount.
type Tally struct {
	Count  int
	Amount bill.Money
}

// NewClosingScreen builds the screen.
func NewClosingScreen(env *Env, win fyne.Window, s *Session) *ClosingScreen {
	sc := &ClosingScreen{env: env, win: win, session: s, Day: newField("日期 yyyy-MM-dd"), Text: widget.NewLabel("")}
	sc.Day.SetText(env.now().In(bill.Beijing).Format("2006-01-02"))
	sc.Day.onEnter = sc.Refresh
	sc.content = container.NewBorder(container.NewHBox(widget.NewLabel("日期"), sc.Day, newButton("统计", sc.Refresh),
		newButton("打印", sc.Print), newButton("导出 PDF…", sc.pdfDialog)), nil, nil, nil, container.NewVScroll(sc.Text))
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
	c := &Closing{Payee: payee, Day: day, ByKind: map[bill.Kind]*Tally{}, ByChannel: map[string]bill.Money{}}
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
				c.ByChannel[string(p.Code)] += p.Value
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

// Tables are the closing's figures, for the screen and the PDF.
func (c *Closing) Tables() []printing.ReportTable {
	kinds := printing.ReportTable{Title: "按票据种类（蓝字票据）", Columns: []string{"种类", "张数", "金额（元）"}, Widths: []float64{60, 40, 60}}
	for _, k := range bill.Kinds {
		if t := c.ByKind[k]; t != nil {
			kinds.Rows = append(kinds.Rows, []string{k.Name(), fmt.Sprint(t.Count), t.Amount.String()})
		}
	}
	kinds.Rows = append(kinds.Rows, []string{"红字（冲销）", fmt.Sprint(c.Red.Count), c.Red.Amount.String()},
		[]string{"合计（净额）", "", c.Net.String()})
	chans := printing.ReportTable{Title: "按支付方式（含红字冲减）", Columns: []string{"支付方式", "", "金额（元）"}, Widths: []float64{60, 40, 60}}
	var codes []string
	for code := range c.ByChannel {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		name := payChannelName(code)
		if code == InsurancePayChannel {
			name = "医保"
		}
		chans.Rows = append(chans.Rows, []string{strings.TrimSpace(code + " " + name), "", c.ByChannel[code].String()})
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
	return []printing.ReportTable{kinds, chans, voids}
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
		var b strings.Builder
		fmt.Fprintf(&b, "收款人 %s，%s\n", c.Payee, c.Day.Format("2006-01-02"))
		for _, t := range c.Tables() {
			fmt.Fprintf(&b, "\n%s\n", t.Title)
			for _, r := range t.Rows {
				fmt.Fprintf(&b, "  %s\n", strings.Join(nonEmpty(r), "   "))
			}
		}
		sc.Text.SetText(b.String())
	})
}

func nonEmpty(cells []string) []string {
	var out []string
	for _, c := range cells {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
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
