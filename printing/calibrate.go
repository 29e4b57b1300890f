package printing

import (
	"fmt"
	"image/color"
	"math"
)

// CalibrationMark is where the calibration page's reference crosshair A is
// meant to be, in mm from the paper's left and top edges.
const CalibrationMark = 20.0

// CalibrationPage lays out the calibration test page for a paper of
// width × height mm, printed with the printer's current offset: a ruler
// grid and crosshairs, with instructions that tell the cashier what to
// measure and what to type. Once the offset is right, crosshair A lands
// exactly CalibrationMark mm from the left and top edges.
func CalibrationPage(width, height float64, printer string, off Offset, f *Font) *Document {
	p := &page{f: f}
	// Grid every 10 mm, rulers with mm ticks along the top and left edges.
	for x := 10.0; x < width; x += 10 {
		p.vline(x, 0, height, 0.08, Grey)
	}
	for y := 10.0; y < height; y += 10 {
		p.hline(0, width, y, 0.08, Grey)
	}
	for x := 0.0; x <= width; x++ {
		p.vline(x, 0, tick(x), 0.15, Black)
		if int(x)%10 == 0 && x > 0 && x < width-4 {
			p.text("", x+0.5, 5.5, 0, 6, AlignLeft, Black, fmt.Sprint(int(x)))
		}
	}
	for y := 0.0; y <= height; y++ {
		p.hline(0, tick(y), y, 0.15, Black)
		if int(y)%10 == 0 && y > 0 && y < height-3 {
			p.text("", 5.5, y+0.3, 0, 6, AlignLeft, Black, fmt.Sprint(int(y)))
		}
	}
	cross := func(name string, x, y float64) {
		p.hline(x-6, x+6, y, 0.25, Red)
		p.vline(x, y-6, y+6, 0.25, Red)
		p.add(Ellipse{X: x, Y: y, RX: 3, RY: 3, Width: 0.2, Color: Red})
		p.text("mark"+name, x+1.5, y+1.5, 0, 8, AlignLeft, Red, name)
	}
	m := CalibrationMark
	cross("A", m, m)
	cross("B", width-m, m)
	cross("C", m, height-m)
	cross("D", width-m, height-m)

	x0, w := m+12, width-2*m-24
	lines := []string{
		"打印机校准页：" + printer,
		fmt.Sprintf("当前偏移：水平 %+.1f 毫米，垂直 %+.1f 毫米（正数为向右、向下）。", off.X, off.Y),
		fmt.Sprintf("1. 用直尺量出十字 A 的中心到纸张左边缘的距离 x、到上边缘的距离 y（毫米），应为 %.0f 和 %.0f。", m, m),
		"2. 运行：ebill printer calibrate --printer " + printer + " --measured-x x --measured-y y",
		fmt.Sprintf("   例如量得 x=%.0f、y=%.0f，说明打印偏右 2 毫米、偏上 1 毫米，程序将向左移 2 毫米、向下移 1 毫米。", m+2, m-1),
		"3. 再打印本页核对；十字 B、C、D 用于检查纸张是否歪斜。",
	}
	p.add(Rect{X: x0 - 1, Y: m - 0.5, W: w + 2, H: float64(len(lines))*5 + 1.5, Color: color.RGBA{255, 255, 255, 255}, Fill: true})
	for i, l := range lines {
		size := 8.0
		if i == 0 {
			size = 10
		}
		p.text(fmt.Sprintf("instruction%d", i), x0, m+1+float64(i)*5, w, size, AlignLeft, Black, l)
	}
	doc := &Document{Title: "打印机校准页 " + printer, Width: width, Height: height, Pages: []*Page{{Items: p.items}}}
	return doc.Shift(off.X, off.Y)
}

func tick(v float64) float64 {
	switch {
	case int(v)%10 == 0:
		return 5
	case int(v)%5 == 0:
		return 3.5
	}
	return 2
}

// Calibrate returns the offset that moves crosshair A, measured at
// (measuredX, measuredY) mm from the paper's edges when printed with
// current, onto its mark.
func Calibrate(current Offset, measuredX, measuredY float64) Offset {
	round := func(v float64) float64 { return math.Round(v*10) / 10 }
	return Offset{X: round(current.X + CalibrationMark - measuredX), Y: round(current.Y + CalibrationMark - measuredY)}
}

// Advice describes in Chinese how an offset change moves the print.
func Advice(from, to Offset) string {
	dir := func(d float64, pos, neg string) string {
		switch {
		case d > 0.05:
			return fmt.Sprintf("%s %.1f 毫米", pos, d)
		case d < -0.05:
			return fmt.Sprintf("%s %.1f 毫米", neg, -d)
		}
		return ""
	}
	h, v := dir(to.X-from.X, "向右移", "向左移"), dir(to.Y-from.Y, "向下移", "向上移")
	switch {
	case h == "" && v == "":
		return "位置已准确，无需调整"
	case h == "":
		return v
	case v == "":
		return h
	}
	return h + "，" + v
}
