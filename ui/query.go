package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// QueryScreen is 查询: bills by date, kind, payer, patient and state,
// paged, with a detail view, PDF export and an Excel export of the list.
type QueryScreen struct {
	env     *Env
	win     fyne.Window
	session *Session

	From, To, Payer, PatientNo *field
	Kind, State                *selectField
	Table                      *keyTable
	Summary                    *widget.Label
	Rows                       []*localstore.StoredBill
	Total                      int
	Page                       int
	content                    fyne.CanvasObject
}

const queryPageSize = 50

var stateKeys = map[string]string{"全部": "", "正常": "normal", "已冲红": "reversed", "红字": "red", "已换开纸质": "paper"}

var queryColumns = []struct {
	title string
	width float32
}{{"开票时间", 140}, {"种类", 50}, {"票据代码", 90}, {"票据号码", 105}, {"校验码", 70}, {"交款人", 130}, {"金额（元）", 95}, {"状态", 70}, {"纸质票据", 150}, {"上传", 55}}

// NewQueryScreen builds the screen.
func NewQueryScreen(env *Env, win fyne.Window, s *Session) *QueryScreen {
	sc := &QueryScreen{env: env, win: win, session: s}
	today := env.now().In(bill.Beijing).Format("2006-01-02")
	sc.From, sc.To = newField("起 yyyy-MM-dd"), newField("止 yyyy-MM-dd")
	sc.From.SetText(today)
	sc.To.SetText(today)
	sc.Payer, sc.PatientNo = newField("交款人"), newField("门诊号")
	for _, f := range []*field{sc.From, sc.To, sc.Payer, sc.PatientNo} {
		f.onEnter = func() { sc.Search(0) }
	}
	sc.Kind = newSelect([]string{"全部", "门诊", "住院", "挂号", "体检"}, nil)
	sc.Kind.SetSelected("全部")
	sc.State = newSelect([]string{"全部", "正常", "已冲红", "红字", "已换开纸质"}, nil)
	sc.State.SetSelected("全部")
	sc.Summary = widget.NewLabel("")
	sc.Table = &keyTable{}
	sc.Table.Length = func() (int, int) { return len(sc.Rows), len(queryColumns) }
	sc.Table.CreateCell = func() fyne.CanvasObject { return widget.NewLabel("") }
	sc.Table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(sc.cell(id.Row, id.Col)) }
	sc.Table.ShowHeaderRow, sc.Table.ShowHeaderColumn = true, true
	sc.Table.ExtendBaseWidget(sc.Table)
	sc.Table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	sc.Table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 {
			o.(*widget.Label).SetText(queryColumns[id.Col].title)
		} else if id.Col < 0 && id.Row >= 0 {
			o.(*widget.Label).SetText(fmt.Sprint(sc.Page*queryPageSize + id.Row + 1))
		}
	}
	for i, c := range queryColumns {
		sc.Table.SetColumnWidth(i, c.width)
	}
	sc.Table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(sc.Rows) {
			sc.Detail(sc.Rows[id.Row])
		}
		sc.Table.UnselectAll()
	}
	filters := container.NewGridWithColumns(6, labeled("起", sc.From), labeled("止", sc.To), labeled("种类", sc.Kind),
		labeled("状态", sc.State), labeled("交款人", sc.Payer), labeled("门诊号", sc.PatientNo))
	buttons := container.NewHBox(newButton("查询", func() { sc.Search(0) }),
		newButton("上一页", func() { sc.Search(sc.Page - 1) }), newButton("下一页", func() { sc.Search(sc.Page + 1) }),
		newButton("导出 Excel…", sc.excelDialog), sc.Summary)
	sc.content = container.NewBorder(container.NewVBox(filters, buttons), nil, nil, nil, sc.Table)
	return sc
}

// Content is the screen.
func (sc *QueryScreen) Content() fyne.CanvasObject {
	sc.Search(0)
	return sc.content
}

func (sc *QueryScreen) cell(row, col int) string {
	if row >= len(sc.Rows) {
		return ""
	}
	b := sc.Rows[row]
	switch col {
	case 0:
		return b.IssuedAt.In(bill.Beijing).Format("2006-01-02 15:04")
	case 1:
		return b.Kind.Name()
	case 2:
		return b.BillCode
	case 3:
		return b.BillNoText()
	case 4:
		return b.CheckCode
	case 5:
		return b.Payer
	case 6:
		return b.Total.String()
	case 7:
		return b.State()
	case 8:
		if b.PaperCode != "" {
			return b.PaperCode + " " + bill.FormatBillNo(b.PaperNo)
		}
	case 9:
		if b.Synced {
			return "已上传"
		}
		return "待上传"
	}
	return ""
}

// filter reads the filters; dates are Beijing days, both included.
func (sc *QueryScreen) filter() (localstore.Filter, error) {
	var f localstore.Filter
	day := func(name, s string) (time.Time, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation("2006-01-02", s, bill.Beijing)
		if err != nil {
			return t, bill.Errorf(bill.EInvalid, "%s日期 %q 格式不正确，应为 yyyy-MM-dd，例如 2026-11-25", name, s)
		}
		return t, nil
	}
	var err error
	if f.From, err = day("起始", sc.From.Text); err != nil {
		return f, err
	}
	if f.To, err = day("终止", sc.To.Text); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1)
	}
	if sc.Kind.Selected != "全部" && sc.Kind.Selected != "" {
		f.Kind, _ = bill.ParseKind(sc.Kind.Selected)
	}
	f.State = stateKeys[sc.State.Selected]
	f.Payer, f.PatientNo = strings.TrimSpace(sc.Payer.Text), strings.TrimSpace(sc.PatientNo.Text)
	return f, nil
}

// Search shows page (from 0) of the bills matching the filters.
func (sc *QueryScreen) Search(page int) {
	f, err := sc.filter()
	if err != nil {
		sc.Summary.SetText(bill.ErrorMessage(err))
		return
	}
	if page < 0 {
		page = 0
	}
	if pages := (sc.Total + queryPageSize - 1) / queryPageSize; page > 0 && page >= pages {
		page = max(pages-1, 0)
	}
	f.Limit, f.Offset = queryPageSize, page*queryPageSize
	rows, total, err := sc.env.Store.ListBills(bg(), f)
	if err != nil {
		sc.Summary.SetText(bill.ErrorMessage(err))
		return
	}
	sc.Rows, sc.Total, sc.Page = rows, total, page
	pages := max((total+queryPageSize-1)/queryPageSize, 1)
	sc.Summary.SetText(fmt.Sprintf("共 %d 张，第 %d/%d 页", total, page+1, pages))
	sc.Table.Refresh()
}

// Detail shows one bill as it prints, with its actions.
func (sc *QueryScreen) Detail(b *localstore.StoredBill) {
	full, err := sc.env.Store.Bill(bg(), b.BillCode, b.BillNo)
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	img, err := preview(sc.env, full)
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	buttons := container.NewHBox(
		newButton("打印（F5）", func() { printFace(sc.env, sc.win, full) }),
		newButton("保存文件…（F7）", func() { saveBillDialog(sc.env, sc.win, full) }))
	m := showModal(sc.win, fmt.Sprintf("%s %s（%s）", full.BillCode, full.BillNoText(), full.State()),
		container.NewBorder(nil, buttons, nil, nil, img), "关闭", nil, "", nil, nil)
	m.d.Resize(fyne.NewSize(800, 600))
	m.extra = map[fyne.KeyName]func(){fyne.KeyF5: func() { printFace(sc.env, sc.win, full) }, fyne.KeyF7: func() { saveBillDialog(sc.env, sc.win, full) }}
}

func (sc *QueryScreen) excelDialog() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		sc.ExportExcel(path)
	}, sc.win)
	d.SetFileName("票据查询-" + sc.env.now().In(bill.Beijing).Format("20060102-1504") + ".xlsx")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".xlsx"}))
	d.Show()
}

// ExportExcel writes every bill matching the filters (not only this page)
// to an Excel file, in the background.
func (sc *QueryScreen) ExportExcel(path string) {
	f, err := sc.filter()
	if err != nil {
		showError(sc.env, sc.win, err)
		return
	}
	Go(sc.env.Bridge, func(ctx context.Context) (int, error) { return exportExcel(ctx, sc.env.Store, f, path) },
		func(n int, err error) {
			if err != nil {
				showError(sc.env, sc.win, err)
				return
			}
			notifyPrinted(sc.env, sc.win, fmt.Sprintf("已导出 %d 张票据到 %s", n, path))
		})
}

func exportExcel(ctx context.Context, st *localstore.Store, f localstore.Filter, path string) (int, error) {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "票据"
	x.SetSheetName("Sheet1", sheet)
	header := []any{"开票时间", "种类", "票据代码", "票据号码", "校验码", "业务流水号", "交款人", "金额（元）", "状态", "纸质票据", "收款人", "上传"}
	x.SetSheetRow(sheet, "A1", &header)
	n := 0
	for f.Offset = 0; ; f.Offset += 1000 {
		f.Limit = 1000
		rows, _, err := st.ListBills(ctx, f)
		if err != nil {
			return n, err
		}
		for _, b := range rows {
			paper := ""
			if b.PaperCode != "" {
				paper = b.PaperCode + " " + bill.FormatBillNo(b.PaperNo)
			}
			synced := "待上传"
			if b.Synced {
				synced = "已上传"
			}
			amount := float64(b.Total) / 100 // a number, so the spreadsheet can sum it; two decimals shown exactly
			row := []any{b.IssuedAt.In(bill.Beijing).Format("2006-01-02 15:04:05"), b.Kind.Name(), b.BillCode, b.BillNoText(),
				b.CheckCode, b.BusNo, b.Payer, amount, b.State(), paper, b.Payee, synced}
			cell, _ := excelize.CoordinatesToCellName(1, n+2)
			if err := x.SetSheetRow(sheet, cell, &row); err != nil {
				return n, err
			}
			n++
		}
		if len(rows) < 1000 {
			break
		}
	}
	style, _ := x.NewStyle(&excelize.Style{NumFmt: 2})
	x.SetCellStyle(sheet, "H2", fmt.Sprintf("H%d", n+1), style)
	x.SetColWidth(sheet, "A", "A", 20)
	x.SetColWidth(sheet, "F", "G", 22)
	if err := x.SaveAs(path); err != nil {
		return n, bill.Errorf(bill.EUnavailable, "无法保存 %s：%v", path, err)
	}
	return n, nil
}
