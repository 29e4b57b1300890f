// Package assets holds what the programs embed: the CJK font shared by the
// bill PDFs and the desktop GUI, and the paper-bill templates.
package assets

import (
	"embed"
	_ "embed"
)

// Font is WenQuanYi Micro Hei (face 0 of Debian's fonts-wqy-microhei,
// subset by scripts/make-font.sh): a TrueType font covering ASCII, ¥ ￥ and
// every GBK hanzi. Licence: Apache-2.0 (fonts/LICENSE-wqy-microhei.txt).
//
//go:embed fonts/wqy-microhei.ttf
var Font []byte

// FontName is the family name the font declares.
const FontName = "WenQuanYi Micro Hei"

// Templates holds the paper-bill templates shipped with the programs, one
// JSON file per pre-printed form, under templates/.
//
//go:embed templates/*.json
var Templates embed.FS

// Icon is the desktop program's icon (256 × 256 PNG).
//
//go:embed icon.png
var Icon []byte
