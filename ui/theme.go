// Package ui is ebill-desk's screens: one screen per file, each built from
// the dependencies it is given (the station store, the sync client, the
// printing font), and one bridge (bridge.go) through which background work
// reaches the widgets. It imports no Fyne driver, so its tests run headless
// with fyne.io/fyne/v2/test.
package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/ebill/ebill/assets"
)

// fontResource is the embedded CJK font, shared with the PDFs.
var fontResource = fyne.NewStaticResource("wqy-microhei.ttf", assets.Font)

// Theme is Fyne's default theme with the embedded CJK font (one weight: bold
// text is not bold) and the user's text size.
type Theme struct {
	Scale float32 // 1 = normal
}

var _ fyne.Theme = (*Theme)(nil)

func (t *Theme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

func (t *Theme) Font(fyne.TextStyle) fyne.Resource { return fontResource }

func (t *Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	s := theme.DefaultTheme().Size(n)
	if t.Scale > 0 && (n == theme.SizeNameText || n == theme.SizeNameHeadingText || n == theme.SizeNameSubHeadingText ||
		n == theme.SizeNameCaptionText) {
		return s * t.Scale
	}
	return s
}

// Colours of states in the status bar.
var (
	colorOK    = color.NRGBA{R: 0x1b, G: 0x7f, B: 0x3b, A: 0xff}
	colorAmber = color.NRGBA{R: 0xc7, G: 0x7c, B: 0x02, A: 0xff}
	colorRed   = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
)
