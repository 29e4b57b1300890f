package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/printing/stationprint"
)

func openPrinter(ctx context.Context, s *localstore.Store, name string) (printing.Printer, error) {
	if name == "" {
		def, err := s.DefaultPrinter(ctx)
		if err != nil {
			return nil, err
		}
		name = def
	}
	if name == "" {
		return nil, bill.Errorf(bill.EInvalid, "还没有设置默认打印机；请在“个人设置与消息”中选择打印机。")
	}
	return printing.OpenPrinter(name)
}

// printFace prints a bill's e-bill face on the default printer, in the
// background.
func printFace(env *Env, win fyne.Window, b *localstore.StoredBill) {
	Go(env.Bridge, func(ctx context.Context) (string, error) {
		p, err := openPrinter(ctx, env.Store, "")
		if err != nil {
			return "", err
		}
		info, err := stationprint.BillInfo(ctx, env.Store, b)
		if err != nil {
			return "", err
		}
		return p.Print(ctx, printing.Face(info, env.Font), env.Font)
	}, func(job string, err error) {
		if err != nil {
			showError(env, win, err)
			return
		}
		notifyPrinted(env, win, "已发送打印："+job)
	})
}

func notifyPrinted(env *Env, win fyne.Window, msg string) {
	if env.Printed != nil {
		env.Printed(msg)
	}
	inform("打印", msg, win)
}

// saveBillDialog (F7) asks which file to save — the PDF (Enter), which
// patients view and print, or the OFD (F7 again), the national format
// archives and reimbursement offices ask for — then where. The choice is
// on function keys like the rest of the desk: a letter would reach the
// save dialog's file name as typed text, and under a Chinese input method
// it types no letter at all.
func saveBillDialog(env *Env, win fyne.Window, b *localstore.StoredBill) {
	content := widget.NewLabel(fmt.Sprintf("票据 %s %s 保存为：\nPDF：查看、打印用（回车）\nOFD：国家版式文件，档案、报销单位用（再按 F7）", b.BillCode, b.BillNoText()))
	m := showModal(win, "保存电子票据", content, "保存 PDF（回车）", func() { saveBillFileDialog(env, win, b, ".pdf") },
		"取消", nil, nil)
	asOFD := func() { m.close(func() { saveBillFileDialog(env, win, b, ".ofd") }) }
	m.addButton(newButton("保存 OFD（F7）", asOFD))
	m.extra = map[fyne.KeyName]func(){fyne.KeyF7: asOFD}
}

// saveBillFileDialog asks where to save the bill as ext (".pdf" or ".ofd").
func saveBillFileDialog(env *Env, win fyne.Window, b *localstore.StoredBill, ext string) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		SavePDF(env, win, b, path)
	}, win)
	d.SetFileName(fmt.Sprintf("%s-%s%s", b.BillCode, b.BillNoText(), ext))
	d.SetFilter(storage.NewExtensionFileFilter([]string{ext}))
	d.Show()
}

// SavePDF writes the bill's PDF (the one a patient takes home) to path;
// a path ending .ofd gets the same bill as OFD (GB/T 33190).
func SavePDF(env *Env, win fyne.Window, b *localstore.StoredBill, path string) {
	Go(env.Bridge, func(ctx context.Context) (string, error) {
		info, err := stationprint.BillInfo(ctx, env.Store, b)
		if err != nil {
			return "", err
		}
		var data []byte
		if strings.EqualFold(filepath.Ext(path), ".ofd") {
			data, err = printing.BillOFD(info, env.Font)
		} else {
			data, err = printing.PDF(printing.Face(info, env.Font), env.Font, printing.PDFOptions{Created: info.Bill.IssuedTime()})
		}
		if err != nil {
			return "", err
		}
		if err := printing.WriteFileAtomic(path, data); err != nil {
			return "", bill.Errorf(bill.EUnavailable, "无法保存 %s：%v", path, err)
		}
		return path, nil
	}, func(path string, err error) {
		if err != nil {
			showError(env, win, err)
			return
		}
		notifyPrinted(env, win, "已保存 "+filepath.Base(path))
	})
}

// convertDialog prints a bill on pre-printed paper: the cashier confirms
// the paper number physically in the printer first. done, if set, runs
// after a successful conversion.
func convertDialog(env *Env, win fyne.Window, s *Session, b *localstore.StoredBill, done func()) {
	positions, err := env.Store.PaperPositions(bg())
	if err != nil {
		showError(env, win, err)
		return
	}
	var codes []string
	for _, p := range positions {
		if p.Next > 0 {
			codes = append(codes, p.Code)
		}
	}
	if len(codes) == 0 {
		showError(env, win, bill.Errorf(bill.ENoStock, "本机没有可用的纸质票据；请先做纸质票据入库。"))
		return
	}
	code := newSelect(codes, nil)
	number := newField("")
	hint := widget.NewLabel("")
	code.OnChanged = func(c string) {
		for _, p := range positions {
			if p.Code == c {
				number.SetText(bill.FormatBillNo(p.Next))
				hint.SetText(fmt.Sprintf("系统当前号码 %s，剩余 %d 张。请核对打印机中纸张上印的号码。", bill.FormatBillNo(p.Next), p.Remaining))
			}
		}
	}
	code.SetSelectedIndex(0)
	form := widget.NewForm(widget.NewFormItem("纸质票据代码", code), widget.NewFormItem("打印机中的号码", number), widget.NewFormItem("", hint))
	print := func() {
		no, err := bill.ParseBillNo(strings.TrimSpace(number.Text))
		if err != nil {
			showError(env, win, err)
			return
		}
		ConvertToPaper(env, win, s, b, code.Selected, no, done)
	}
	// The cursor starts in the number, to be checked against the paper in
	// the printer; Enter prints, Esc cancels.
	var m *modal
	number.onEnter = func() { m.close(m.ok) }
	m = showModal(win, "换开纸质票据 "+b.BillCode+" "+b.BillNoText(), form, "打印", print, "取消", nil, number)
}

// ConvertToPaper checks, prints on the paper template with the printer's
// calibration, then records the paper number — a failed print records
// nothing, and no write waits on the printer.
func ConvertToPaper(env *Env, win fyne.Window, s *Session, b *localstore.StoredBill, paperCode string, paperNo int64, done func()) {
	Go(env.Bridge, func(ctx context.Context) (string, error) {
		_, job, err := stationprint.ConvertToPaper(ctx, env.Store, b.BillCode, b.BillNo, paperCode, paperNo, s.Name,
			func(ctx context.Context) (string, error) { return printPaper(ctx, env, b, paperCode) })
		return job, err
	}, func(job string, err error) {
		if err != nil {
			showError(env, win, err)
			return
		}
		notifyPrinted(env, win, fmt.Sprintf("已换开纸质票据 %s %s（%s）", paperCode, bill.FormatBillNo(paperNo), job))
		if done != nil {
			done()
		}
	})
}

// printPaper lays the bill out on its paper template, moved by the
// printer's calibration, and prints it.
func printPaper(ctx context.Context, env *Env, b *localstore.StoredBill, paperCode string) (string, error) {
	p, err := openPrinter(ctx, env.Store, "")
	if err != nil {
		return "", err
	}
	doc, err := stationprint.PaperLayout(ctx, env.Store, b, paperCode, "", p, env.Font)
	if err != nil {
		return "", err
	}
	return p.Print(ctx, doc, env.Font)
}

// preview renders a bill's face for the screen.
func preview(env *Env, b *localstore.StoredBill) (fyne.CanvasObject, error) {
	info, err := stationprint.BillInfo(bg(), env.Store, b)
	if err != nil {
		return nil, err
	}
	img, err := printing.Image(printing.Face(info, env.Font), 0, env.Font, 96)
	if err != nil {
		return nil, err
	}
	c := canvas.NewImageFromImage(img)
	c.FillMode = canvas.ImageFillContain
	c.SetMinSize(fyne.NewSize(720, 450))
	return c, nil
}
