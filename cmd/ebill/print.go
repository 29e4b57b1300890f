package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/textout"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/printing/stationprint"
)

func loadFont() (*printing.Font, error) {
	f, err := printing.DefaultFont()
	if err != nil {
		return nil, bill.Errorf(bill.EInternal, "无法加载内置字体：%v", err)
	}
	return f, nil
}

// pdfDir is where the PDF-file printer writes by default.
func (a *app) pdfDir() string { return filepath.Join(a.dataDir, "prints") }

// openPrinter opens the printer named, or the station's default printer.
func openPrinter(ctx context.Context, s *localstore.Store, name string) (printing.Printer, error) {
	if name == "" {
		def, err := s.DefaultPrinter(ctx)
		if err != nil {
			return nil, err
		}
		name = def
	}
	return printing.OpenPrinter(name)
}

func cmdPrint(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("print", "--code 票据代码 --no 票据号码 | --busno 业务流水号  [--pdf 文件 | --printer 打印机]")
	ref := billRefFlags(fs, "票据")
	pdfPath := fs.String("pdf", "", "保存为 PDF 文件（不打印）")
	printerName := fs.String("printer", "", "打印机（默认取 ebill printer default 设置的打印机）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if *pdfPath != "" && *printerName != "" {
		return bill.Errorf(bill.EInvalid, "--pdf 和 --printer 只能选一个。")
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		code, n, err := ref.resolve(ctx, s)
		if err != nil {
			return err
		}
		if *pdfPath != "" {
			return a.exportPDF(ctx, s, code, n, *pdfPath)
		}
		p, err := openPrinter(ctx, s, *printerName)
		if err != nil {
			return err
		}
		b, err := s.Bill(ctx, code, n)
		if err != nil {
			return err
		}
		info, err := stationprint.BillInfo(ctx, s, b)
		if err != nil {
			return err
		}
		f, err := loadFont()
		if err != nil {
			return err
		}
		job, err := p.Print(ctx, printing.Face(info, f), f)
		if err != nil {
			return err
		}
		return a.Report(map[string]any{"billCode": code, "billNo": b.BillNoText(), "printer": p.Name(), "job": job},
			"已将电子票据 %s %s 发送到打印机 %s（%s）。\n", code, b.BillNoText(), p.Name(), job)
	})
}

func cmdExport(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("export", "--code 票据代码 --no 票据号码 | --busno 业务流水号  [--ofd] [--out 文件或目录]")
	ref := billRefFlags(fs, "票据")
	out := fs.String("out", "", "保存的文件，或保存到的目录（默认当前目录下 票据代码-票据号码.pdf 或 .ofd）")
	ofd := fs.Bool("ofd", false, "导出 OFD（GB/T 33190 版式文件）而不是 PDF")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		code, n, err := ref.resolve(ctx, s)
		if err != nil {
			return err
		}
		if *ofd {
			return a.exportFile(ctx, s, code, n, *out, ".ofd")
		}
		return a.exportPDF(ctx, s, code, n, *out)
	})
}

// exportPDF writes the e-bill's PDF, the one a patient takes home: the same
// bill always gives the same file.
func (a *app) exportPDF(ctx context.Context, s *localstore.Store, code string, n int64, out string) error {
	return a.exportFile(ctx, s, code, n, out, ".pdf")
}

// exportFile writes the e-bill as PDF or OFD (ext ".pdf" or ".ofd").
func (a *app) exportFile(ctx context.Context, s *localstore.Store, code string, n int64, out, ext string) error {
	b, err := s.Bill(ctx, code, n)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s%s", code, b.BillNoText(), ext)
	switch {
	case out == "":
		out = name
	case !strings.EqualFold(filepath.Ext(out), ext):
		if err := os.MkdirAll(out, 0o755); err != nil {
			return bill.Errorf(bill.EUnavailable, "无法创建目录 %s：%v", out, err)
		}
		out = filepath.Join(out, name)
	}
	info, err := stationprint.BillInfo(ctx, s, b)
	if err != nil {
		return err
	}
	f, err := loadFont()
	if err != nil {
		return err
	}
	var data []byte
	if ext == ".ofd" {
		data, err = printing.BillOFD(info, f)
	} else {
		data, err = printing.PDF(printing.Face(info, f), f, printing.PDFOptions{Created: b.IssuedAt})
	}
	if err != nil {
		return err
	}
	if err := printing.WriteFileAtomic(out, data); err != nil {
		return bill.Errorf(bill.EUnavailable, "无法保存 %s：%v", out, err)
	}
	return a.Report(map[string]any{"billCode": code, "billNo": b.BillNoText(), "file": out, "bytes": len(data)},
		"已保存电子票据 %s %s：%s（%d KB）\n", code, b.BillNoText(), out, (len(data)+1023)/1024)
}

// paperPrint is what paper conversion and reprint print with.
type paperPrint struct {
	printer  *string
	template *string
	noPrint  *bool
}

func paperPrintFlags(fs interface {
	String(name, value, usage string) *string
	Bool(name string, value bool, usage string) *bool
}) paperPrint {
	return paperPrint{
		printer:  fs.String("printer", "", "打印机（默认取 ebill printer default 设置的打印机）"),
		template: fs.String("template", "", "纸质票据模板：outpatient、inpatient 或模板文件 .json（默认按纸质票据代码的设置或票据种类）"),
		noPrint:  fs.Bool("no-print", false, "只登记，不打印（纸张已由其他系统打印）"),
	}
}

// preparedPaper is a paper print ready to go: the printer, the document
// placed by the template and moved by the printer's calibration.
type preparedPaper struct {
	printer printing.Printer
	doc     *printing.Document
	font    *printing.Font
}

// prepare loads the bill, the template and the printer before anything is
// recorded, so that a missing printer or template changes nothing.
func (pp paperPrint) prepare(ctx context.Context, s *localstore.Store, code string, n int64, paperCode string) (*preparedPaper, error) {
	if *pp.noPrint {
		return nil, nil
	}
	p, err := openPrinter(ctx, s, *pp.printer)
	if err != nil {
		return nil, err
	}
	b, err := s.Bill(ctx, code, n)
	if err != nil {
		return nil, err
	}
	f, err := loadFont()
	if err != nil {
		return nil, err
	}
	doc, err := stationprint.PaperLayout(ctx, s, b, paperCode, *pp.template, p, f)
	if err != nil {
		return nil, err
	}
	return &preparedPaper{printer: p, doc: doc, font: f}, nil
}

// print sends the paper print; nil when there is nothing to print.
func (p *preparedPaper) print(ctx context.Context) (string, error) {
	if p == nil {
		return "", nil
	}
	return p.printer.Print(ctx, p.doc, p.font)
}

func cmdPrinter(ctx context.Context, a *app, args []string) error {
	sub := map[string]func(context.Context, *app, []string) error{
		"list": cmdPrinterList, "default": cmdPrinterDefault, "calibrate": cmdPrinterCalibrate,
		"test-page": cmdPrinterTestPage, "templates": cmdPrinterTemplates, "template": cmdPrinterTemplate,
		"verify-url": cmdPrinterVerifyURL,
	}
	if len(args) > 0 {
		if fn, ok := sub[args[0]]; ok {
			return fn(ctx, a, args[1:])
		}
	}
	fmt.Fprintln(a.Stderr, "用法：ebill printer list | default 打印机 | calibrate | test-page | templates | template | verify-url；ebill printer <子命令> -h 查看参数")
	return errUsage
}

func cmdPrinterList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer list", "")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		list, sysErr := printing.ListPrinters(ctx, a.pdfDir())
		def, err := s.DefaultPrinter(ctx)
		if err != nil {
			return err
		}
		type row struct {
			Name          string  `json:"name"`
			Kind          string  `json:"kind"`
			SystemDefault bool    `json:"systemDefault"`
			Default       bool    `json:"default"`
			OffsetX       float64 `json:"offsetX"`
			OffsetY       float64 `json:"offsetY"`
		}
		known := false
		for _, p := range list {
			known = known || p.Name == def
		}
		if def != "" && !known { // a PDF folder of its own, or a printer now missing
			kind := "pdf"
			if !strings.HasPrefix(def, printing.PDFPrinterPrefix) {
				kind = "missing"
			}
			list = append(list, printing.PrinterInfo{Name: def, Kind: kind})
		}
		var rows []row
		for _, p := range list {
			off, err := s.PrinterOffset(ctx, p.Name)
			if err != nil {
				return err
			}
			rows = append(rows, row{p.Name, p.Kind, p.Default, p.Name == def, off.X, off.Y})
		}
		if a.JSON {
			a.PrintJSON(map[string]any{"printers": rows, "default": def})
			return nil
		}
		w := textout.NewTable(a.Stdout)
		fmt.Fprintln(w, "打印机\t类型\t本机默认\t偏移（毫米）")
		kinds := map[string]string{"cups": "CUPS", "windows": "Windows", "pdf": "PDF 文件", "missing": "未找到！"}
		for _, r := range rows {
			mark := ""
			if r.Default {
				mark = "是"
			} else if r.SystemDefault && def == "" {
				mark = "（系统默认）"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%+.1f, %+.1f\n", r.Name, kinds[r.Kind], mark, r.OffsetX, r.OffsetY)
		}
		w.Flush()
		if def == "" {
			a.Printf("尚未设置本机默认打印机：ebill printer default 打印机名称\n")
		}
		if sysErr != nil {
			a.Printf("注意：%s\n", bill.ErrorMessage(sysErr))
		}
		return nil
	})
}

func cmdPrinterDefault(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer default", "打印机名称（pdf:目录 表示保存为 PDF 文件）")
	name, err := a.Parse(fs, args, true)
	if err != nil {
		return err
	}
	if _, err := printing.OpenPrinter(name); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if err := s.SetDefaultPrinter(ctx, name); err != nil {
			return err
		}
		return a.Report(map[string]any{"default": name}, "本机默认打印机已设为 %s。\n", name)
	})
}

// parseMM reads a length in mm from a flag.
func parseMM(name, text string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil {
		return 0, bill.FieldErrorf(name, "应为毫米数，例如 21.5")
	}
	return v, nil
}

func cmdPrinterCalibrate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer calibrate", "--printer 打印机 (--measured-x 毫米 --measured-y 毫米 | --x 偏移 --y 偏移)")
	printerName := fs.String("printer", "", "打印机（默认取本机默认打印机）")
	mx := fs.String("measured-x", "", fmt.Sprintf("校准页十字 A 中心到纸张左边缘的实测距离（毫米，应为 %.0f）", printing.CalibrationMark))
	my := fs.String("measured-y", "", fmt.Sprintf("校准页十字 A 中心到纸张上边缘的实测距离（毫米，应为 %.0f）", printing.CalibrationMark))
	x := fs.String("x", "", "直接设置水平偏移（毫米，正数向右）")
	y := fs.String("y", "", "直接设置垂直偏移（毫米，正数向下）")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	measured := *mx != "" || *my != ""
	direct := *x != "" || *y != ""
	if measured == direct {
		return bill.Errorf(bill.EInvalid, "请给出实测距离 --measured-x 和 --measured-y（先用 ebill printer test-page 打印校准页），或直接给出偏移 --x 和 --y。")
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		name := *printerName
		if name == "" {
			def, err := s.DefaultPrinter(ctx)
			if err != nil {
				return err
			}
			if def == "" {
				return bill.Errorf(bill.EInvalid, "请用 --printer 指定要校准的打印机。")
			}
			name = def
		}
		old, err := stationprint.Offset(ctx, s, name)
		if err != nil {
			return err
		}
		var next printing.Offset
		if measured {
			if err := required("measured-x", *mx, "measured-y", *my); err != nil {
				return err
			}
			vx, err := parseMM("measured-x", *mx)
			if err != nil {
				return err
			}
			vy, err := parseMM("measured-y", *my)
			if err != nil {
				return err
			}
			next = printing.Calibrate(old, vx, vy)
		} else {
			if err := required("x", *x, "y", *y); err != nil {
				return err
			}
			if next.X, err = parseMM("x", *x); err != nil {
				return err
			}
			if next.Y, err = parseMM("y", *y); err != nil {
				return err
			}
		}
		if err := s.SetPrinterOffset(ctx, name, localstore.PrinterOffset{X: next.X, Y: next.Y}); err != nil {
			return err
		}
		stored, err := stationprint.Offset(ctx, s, name)
		if err != nil {
			return err
		}
		advice := printing.Advice(old, stored)
		return a.Report(map[string]any{"printer": name, "old": old, "offset": stored, "advice": advice},
			"打印机 %s 的偏移由（%+.1f, %+.1f）改为（%+.1f, %+.1f）毫米：今后打印%s。请再打印一张校准页核对。\n",
			name, old.X, old.Y, stored.X, stored.Y, advice)
	})
}

func cmdPrinterTestPage(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer test-page", "[--printer 打印机] [--template outpatient|inpatient|文件.json]")
	printerName := fs.String("printer", "", "打印机（默认取本机默认打印机）")
	tplName := fs.String("template", "outpatient", "按哪种纸质票据的纸张尺寸打印校准页")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	tpl, err := printing.LoadTemplate(*tplName)
	if err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		p, err := openPrinter(ctx, s, *printerName)
		if err != nil {
			return err
		}
		off, err := stationprint.Offset(ctx, s, p.Name())
		if err != nil {
			return err
		}
		f, err := loadFont()
		if err != nil {
			return err
		}
		job, err := p.Print(ctx, printing.CalibrationPage(tpl.Width, tpl.Height, p.Name(), off, f), f)
		if err != nil {
			return err
		}
		return a.Report(map[string]any{"printer": p.Name(), "job": job, "offset": off},
			"已打印校准页到 %s（%s）。量出十字 A 中心到纸张左边、上边的距离，然后执行：\nebill printer calibrate --printer %s --measured-x 左距 --measured-y 上距\n",
			p.Name(), job, p.Name())
	})
}

func cmdPrinterTemplates(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer templates", "")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	var list []*printing.Template
	for _, name := range printing.TemplateNames() {
		t, err := printing.LoadTemplate(name)
		if err != nil {
			return err
		}
		list = append(list, t)
	}
	if a.JSON {
		a.PrintJSON(map[string]any{"templates": list, "fields": printing.TemplateFields})
		return nil
	}
	w := textout.NewTable(a.Stdout)
	fmt.Fprintln(w, "模板\t名称\t纸张（毫米）\t适用票据")
	for _, t := range list {
		var kinds []string
		for _, k := range t.Kinds {
			kinds = append(kinds, k.Name())
		}
		fmt.Fprintf(w, "%s\t%s\t%g × %g\t%s\n", t.Name, t.Title, t.Width, t.Height, strings.Join(kinds, "、"))
	}
	w.Flush()
	a.Printf("\n模板可用的字段：\n")
	for _, k := range printing.FieldNames() {
		a.Printf("  %-18s %s\n", k, printing.TemplateFields[k])
	}
	return nil
}

func cmdPrinterTemplate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer template", "--paper-code 纸质票据代码 --template 模板名称或文件.json")
	paperCode := fs.String("paper-code", "", "纸质票据代码")
	tplName := fs.String("template", "", "模板名称（ebill printer templates 列出）或模板文件 .json")
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if err := required("paper-code", *paperCode, "template", *tplName); err != nil {
		return err
	}
	name := *tplName
	if strings.HasSuffix(name, ".json") {
		abs, err := filepath.Abs(name)
		if err != nil {
			return err
		}
		name = abs
	}
	if _, err := printing.LoadTemplate(name); err != nil {
		return err
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if err := s.SetPaperTemplate(ctx, *paperCode, name); err != nil {
			return err
		}
		return a.Report(map[string]any{"paperCode": *paperCode, "template": name},
			"纸质票据 %s 今后按模板 %s 打印。\n", *paperCode, name)
	})
}

func cmdPrinterVerifyURL(ctx context.Context, a *app, args []string) error {
	fs := a.newFlags("printer verify-url", "[地址]：查看或设置票据二维码指向的查验地址（患者手机能访问的服务器地址）")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return a.withStore(ctx, func(s *localstore.Store) error {
		if fs.NArg() > 1 {
			return errUsage
		}
		if fs.NArg() == 1 {
			if err := s.SetVerifyBaseURL(ctx, fs.Arg(0)); err != nil {
				return err
			}
		}
		base, err := s.VerifyBaseURL(ctx)
		if err != nil {
			return err
		}
		if base == "" {
			return a.Report(map[string]any{"verifyUrl": ""}, "尚未设置查验地址，票据上将不印二维码：ebill printer verify-url https://服务器地址\n")
		}
		return a.Report(map[string]any{"verifyUrl": base}, "票据二维码指向 %s%s。\n", base, bill.VerifyPath)
	})
}
