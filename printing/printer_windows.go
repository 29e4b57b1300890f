//go:build windows

package printing

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/ebill/ebill/assets"
	"github.com/ebill/ebill/bill"
)

// On Windows, printers are driven through GDI, without cgo: text is placed
// at exact device positions computed from millimetres, which is what
// dot-matrix bill printers need. The embedded font is registered for this
// process only (AddFontMemResourceEx), so nothing is installed on the PC.

var (
	gdi32    = windows.NewLazySystemDLL("gdi32.dll")
	user32   = windows.NewLazySystemDLL("user32.dll")
	winspool = windows.NewLazySystemDLL("winspool.drv")

	procCreateDCW            = gdi32.NewProc("CreateDCW")
	procDeleteDC             = gdi32.NewProc("DeleteDC")
	procStartDocW            = gdi32.NewProc("StartDocW")
	procEndDoc               = gdi32.NewProc("EndDoc")
	procAbortDoc             = gdi32.NewProc("AbortDoc")
	procStartPage            = gdi32.NewProc("StartPage")
	procEndPage              = gdi32.NewProc("EndPage")
	procGetDeviceCaps        = gdi32.NewProc("GetDeviceCaps")
	procCreateFontW          = gdi32.NewProc("CreateFontW")
	procSelectObject         = gdi32.NewProc("SelectObject")
	procDeleteObject         = gdi32.NewProc("DeleteObject")
	procSetTextColor         = gdi32.NewProc("SetTextColor")
	procSetBkMode            = gdi32.NewProc("SetBkMode")
	procSetTextAlign         = gdi32.NewProc("SetTextAlign")
	procTextOutW             = gdi32.NewProc("TextOutW")
	procCreatePen            = gdi32.NewProc("CreatePen")
	procMoveToEx             = gdi32.NewProc("MoveToEx")
	procLineTo               = gdi32.NewProc("LineTo")
	procCreateSolidBrush     = gdi32.NewProc("CreateSolidBrush")
	procEllipse              = gdi32.NewProc("Ellipse")
	procGetStockObject       = gdi32.NewProc("GetStockObject")
	procAddFontMemResourceEx = gdi32.NewProc("AddFontMemResourceEx")
	procFillRect             = user32.NewProc("FillRect")
	procEnumPrintersW        = winspool.NewProc("EnumPrintersW")
	procGetDefaultPrinterW   = winspool.NewProc("GetDefaultPrinterW")
	registerFontOnce         sync.Once
	registerFontErr          error
)

const (
	printerEnumLocal       = 2
	printerEnumConnections = 4
	logPixelsX             = 88
	logPixelsY             = 90
	physicalOffsetX        = 112
	physicalOffsetY        = 113
	taBaseline             = 24
	bkTransparent          = 1
	nullBrush              = 5
	gb2312Charset          = 134
	outTTOnlyPrecis        = 7
	antialiasedQuality     = 4
)

type printerInfo4 struct {
	PrinterName *uint16
	ServerName  *uint16
	Attributes  uint32
}

type docInfo struct {
	Size     int32
	DocName  *uint16
	Output   *uint16
	Datatype *uint16
	Type     uint32
}

type rect struct{ Left, Top, Right, Bottom int32 }

func systemPrinters(context.Context) ([]PrinterInfo, error) {
	var needed, returned uint32
	procEnumPrintersW.Call(printerEnumLocal|printerEnumConnections, 0, 4, 0, 0,
		uintptr(unsafe.Pointer(&needed)), uintptr(unsafe.Pointer(&returned)))
	if needed == 0 {
		return nil, nil
	}
	buf := make([]byte, needed)
	r, _, err := procEnumPrintersW.Call(printerEnumLocal|printerEnumConnections, 0, 4,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(needed), uintptr(unsafe.Pointer(&needed)), uintptr(unsafe.Pointer(&returned)))
	if r == 0 {
		return nil, bill.Errorf(bill.EUnavailable, "无法列出本机打印机：%v", err)
	}
	def := defaultPrinter()
	infos := unsafe.Slice((*printerInfo4)(unsafe.Pointer(&buf[0])), returned)
	out := make([]PrinterInfo, 0, returned)
	for _, in := range infos {
		name := windows.UTF16PtrToString(in.PrinterName)
		out = append(out, PrinterInfo{Name: name, Kind: "windows", Default: name == def})
	}
	return out, nil
}

func defaultPrinter() string {
	var n uint32 = 512
	buf := make([]uint16, n)
	r, _, _ := procGetDefaultPrinterW.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		return ""
	}
	return windows.UTF16ToString(buf)
}

func systemPrinter(name string) (Printer, error) {
	return &GDI{PrinterName: name}, nil
}

// GDI prints to a Windows printer.
type GDI struct {
	PrinterName string
}

func (g *GDI) Name() string { return g.PrinterName }

func registerFont(f *Font) error {
	registerFontOnce.Do(func() {
		data := f.Data
		if len(data) == 0 {
			data = assets.Font
		}
		var n uint32
		r, _, err := procAddFontMemResourceEx.Call(uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), 0, uintptr(unsafe.Pointer(&n)))
		if r == 0 {
			registerFontErr = fmt.Errorf("AddFontMemResourceEx: %v", err)
		}
	})
	return registerFontErr
}

// Print draws every page on the printer's device context.
func (g *GDI) Print(ctx context.Context, doc *Document, f *Font) (string, error) {
	if err := registerFont(f); err != nil {
		return "", bill.Errorf(bill.EUnavailable, "无法加载打印字体：%v", err)
	}
	driver, _ := windows.UTF16PtrFromString("WINSPOOL")
	device, err := windows.UTF16PtrFromString(g.PrinterName)
	if err != nil {
		return "", bill.Errorf(bill.EInvalid, "打印机名称不正确：%q", g.PrinterName)
	}
	hdc, _, callErr := procCreateDCW.Call(uintptr(unsafe.Pointer(driver)), uintptr(unsafe.Pointer(device)), 0, 0)
	if hdc == 0 {
		return "", bill.Errorf(bill.EUnavailable, "无法打开打印机 %s（%v）；请检查打印机名称，或在“设备和打印机”中确认它可用。", g.PrinterName, callErr)
	}
	defer procDeleteDC.Call(hdc)
	title, _ := windows.UTF16PtrFromString(doc.Title)
	di := docInfo{DocName: title}
	di.Size = int32(unsafe.Sizeof(di))
	job, _, callErr := procStartDocW.Call(hdc, uintptr(unsafe.Pointer(&di)))
	if int32(job) <= 0 {
		return "", bill.Errorf(bill.EUnavailable, "打印机 %s 拒绝打印任务（%v）；请检查打印机状态。", g.PrinterName, callErr)
	}
	dc := &gdiContext{hdc: hdc, f: f, fonts: map[int32]uintptr{}}
	dc.dpiX, dc.dpiY = caps(hdc, logPixelsX), caps(hdc, logPixelsY)
	dc.offX, dc.offY = caps(hdc, physicalOffsetX), caps(hdc, physicalOffsetY)
	defer dc.release()
	for _, p := range doc.Pages {
		if err := ctx.Err(); err != nil {
			procAbortDoc.Call(hdc)
			return "", err
		}
		procStartPage.Call(hdc)
		procSetBkMode.Call(hdc, bkTransparent)
		procSetTextAlign.Call(hdc, taBaseline)
		for _, it := range p.Items {
			if err := dc.draw(it); err != nil {
				procAbortDoc.Call(hdc)
				return "", err
			}
		}
		procEndPage.Call(hdc)
	}
	procEndDoc.Call(hdc)
	return fmt.Sprintf("%s#%d", g.PrinterName, job), nil
}

func caps(hdc uintptr, index int) float64 {
	r, _, _ := procGetDeviceCaps.Call(hdc, uintptr(index))
	return float64(int32(r))
}

type gdiContext struct {
	hdc                    uintptr
	f                      *Font
	dpiX, dpiY, offX, offY float64
	fonts                  map[int32]uintptr
}

// x and y convert mm from the paper's edge to device units, allowing for
// the margin the printer cannot print on.
func (c *gdiContext) x(mm float64) int32 { return int32(math.Round(mm/25.4*c.dpiX - c.offX)) }
func (c *gdiContext) y(mm float64) int32 { return int32(math.Round(mm/25.4*c.dpiY - c.offY)) }
func (c *gdiContext) w(mm float64) int32 { return max(int32(math.Round(mm/25.4*c.dpiX)), 1) }

func colorRef(r, g, b uint8) uintptr { return uintptr(r) | uintptr(g)<<8 | uintptr(b)<<16 }

func (c *gdiContext) font(size float64) uintptr {
	h := -int32(math.Round(size / 72 * c.dpiY)) // negative: the em height, not the cell
	if hf, ok := c.fonts[h]; ok {
		return hf
	}
	face, _ := windows.UTF16PtrFromString(assets.FontName)
	hf, _, _ := procCreateFontW.Call(uintptr(h), 0, 0, 0, 400, 0, 0, 0, gb2312Charset, outTTOnlyPrecis, 0,
		antialiasedQuality, 0, uintptr(unsafe.Pointer(face)))
	c.fonts[h] = hf
	return hf
}

func (c *gdiContext) release() {
	for _, hf := range c.fonts {
		procDeleteObject.Call(hf)
	}
}

func (c *gdiContext) draw(it Item) error {
	switch v := it.(type) {
	case Text:
		procSelectObject.Call(c.hdc, c.font(v.Size))
		procSetTextColor.Call(c.hdc, colorRef(v.Color.R, v.Color.G, v.Color.B))
		s, err := windows.UTF16FromString(v.Text)
		if err != nil {
			return bill.Errorf(bill.EInvalid, "打印内容含有无效字符")
		}
		procTextOutW.Call(c.hdc, uintptr(c.x(textX(c.f, v))), uintptr(c.y(v.Y+c.f.Ascent()*v.Size*PointsToMM)),
			uintptr(unsafe.Pointer(&s[0])), uintptr(len(s)-1))
	case Line:
		pen, _, _ := procCreatePen.Call(0, uintptr(c.w(v.Width)), colorRef(v.Color.R, v.Color.G, v.Color.B))
		old, _, _ := procSelectObject.Call(c.hdc, pen)
		procMoveToEx.Call(c.hdc, uintptr(c.x(v.X1)), uintptr(c.y(v.Y1)), 0)
		procLineTo.Call(c.hdc, uintptr(c.x(v.X2)), uintptr(c.y(v.Y2)))
		procSelectObject.Call(c.hdc, old)
		procDeleteObject.Call(pen)
	case Rect:
		if v.Fill {
			c.fillRect(v.X, v.Y, v.W, v.H, colorRef(v.Color.R, v.Color.G, v.Color.B))
			return nil
		}
		for _, l := range []Line{{v.X, v.Y, v.X + v.W, v.Y, v.Width, v.Color}, {v.X + v.W, v.Y, v.X + v.W, v.Y + v.H, v.Width, v.Color},
			{v.X + v.W, v.Y + v.H, v.X, v.Y + v.H, v.Width, v.Color}, {v.X, v.Y + v.H, v.X, v.Y, v.Width, v.Color}} {
			if err := c.draw(l); err != nil {
				return err
			}
		}
	case Ellipse:
		pen, _, _ := procCreatePen.Call(0, uintptr(c.w(v.Width)), colorRef(v.Color.R, v.Color.G, v.Color.B))
		oldPen, _, _ := procSelectObject.Call(c.hdc, pen)
		brush, _, _ := procGetStockObject.Call(nullBrush)
		oldBrush, _, _ := procSelectObject.Call(c.hdc, brush)
		procEllipse.Call(c.hdc, uintptr(c.x(v.X-v.RX)), uintptr(c.y(v.Y-v.RY)), uintptr(c.x(v.X+v.RX)), uintptr(c.y(v.Y+v.RY)))
		procSelectObject.Call(c.hdc, oldBrush)
		procSelectObject.Call(c.hdc, oldPen)
		procDeleteObject.Call(pen)
	case QR:
		return qrRuns(v, func(x, y, w, h float64) { c.fillRect(x, y, w, h, 0) })
	}
	return nil
}

func (c *gdiContext) fillRect(x, y, w, h float64, color uintptr) {
	brush, _, _ := procCreateSolidBrush.Call(color)
	r := rect{Left: c.x(x), Top: c.y(y), Right: c.x(x + w), Bottom: c.y(y + h)}
	procFillRect.Call(c.hdc, uintptr(unsafe.Pointer(&r)), brush)
	procDeleteObject.Call(brush)
}
