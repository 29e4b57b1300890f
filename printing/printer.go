package printing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/ebill/ebill/bill"
)

// Printer sends documents to paper (or to a file).
type Printer interface {
	Name() string
	// Print renders doc and hands it to the printer; the returned string
	// identifies the job (a CUPS request id, a file path).
	Print(ctx context.Context, doc *Document, f *Font) (string, error)
}

// PrinterInfo describes one printer found on this machine.
type PrinterInfo struct {
	Name    string
	Kind    string // "cups", "windows" or "pdf"
	Default bool   // the system's default printer
	Note    string
}

// PDFPrinterPrefix names the PDF-file printer: "pdf:DIR" writes one PDF per
// job into DIR; "pdf:FILE.pdf" writes that file.
const PDFPrinterPrefix = "pdf:"

// ListPrinters lists the system's printers and the PDF-file printer that
// writes into pdfDir. A printing system that cannot be asked is reported
// in err beside the printers that could be listed.
func ListPrinters(ctx context.Context, pdfDir string) ([]PrinterInfo, error) {
	sys, err := systemPrinters(ctx)
	out := append(sys, PrinterInfo{Name: PDFPrinterPrefix + pdfDir, Kind: "pdf", Note: "保存为 PDF 文件"})
	return out, err
}

// OpenPrinter returns the printer called name: a PDF-file printer for
// "pdf:..." names, otherwise the system printer (CUPS queue or Windows
// printer) of that name.
func OpenPrinter(name string) (Printer, error) {
	if name == "" {
		return nil, bill.Errorf(bill.EInvalid, "没有指定打印机；请用 --printer 指定，或用 ebill printer default 设置默认打印机（ebill printer list 列出可用打印机）。")
	}
	if path, ok := strings.CutPrefix(name, PDFPrinterPrefix); ok {
		if path == "" {
			return nil, bill.Errorf(bill.EInvalid, "PDF 打印机需要给出保存目录，例如 pdf:/home/cashier/票据")
		}
		return &PDFFile{Path: path}, nil
	}
	return systemPrinter(name)
}

// PDFFile is the PDF-file "printer": it writes each job as a PDF.
type PDFFile struct {
	Path string // a directory, or a file ending in .pdf
	// Now names the files written into a directory; time.Now if nil.
	Now func() time.Time
}

func (p *PDFFile) Name() string { return PDFPrinterPrefix + p.Path }

func (p *PDFFile) Print(_ context.Context, doc *Document, f *Font) (string, error) {
	data, err := PDF(doc, f, PDFOptions{})
	if err != nil {
		return "", err
	}
	path := p.Path
	if !strings.EqualFold(filepath.Ext(path), ".pdf") {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return "", bill.Errorf(bill.EUnavailable, "无法创建 PDF 保存目录 %s：%v", path, err)
		}
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		path = filepath.Join(path, fmt.Sprintf("%s-%s.pdf", FileName(doc.Title), now().In(bill.Beijing).Format("20060102-150405.000")))
	}
	if err := WriteFileAtomic(path, data); err != nil {
		return "", bill.Errorf(bill.EUnavailable, "无法保存 PDF 文件 %s：%v", path, err)
	}
	return path, nil
}

// FileName turns a title into a file name safe on Windows and Linux.
func FileName(title string) string {
	name := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune(`\/:*?"<>|`, r) || r < 32 {
			return '-'
		}
		return r
	}, title)
	if name == "" {
		return "ebill"
	}
	return name
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half a PDF.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ebill-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
