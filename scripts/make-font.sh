#!/usr/bin/env bash
# Regenerates assets/fonts/wqy-microhei.ttf: face 0 of Debian's
# WenQuanYi Micro Hei collection, subset to the blocks a medical bill uses
# (Latin, Greek for μg, punctuation, units such as ㎎ and ℃, CJK symbols,
# CJK unified ideographs, full-width forms). Needs fonts-wqy-microhei and
# python3-fonttools; the result is committed, so builds never need them.
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
out=assets/fonts/wqy-microhei.ttf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$src" "$tmp/face0.ttf" <<'PY'
import sys
from fontTools.ttLib import TTCollection
TTCollection(sys.argv[1]).fonts[0].save(sys.argv[2])
PY
/usr/bin/python3 -m fontTools.subset "$tmp/face0.ttf" --output-file="$out" \
	--unicodes='U+0020-007E,U+00A0-00FF,U+0391-03C9,U+2000-206F,U+2100-218F,U+2190-21FF,U+2200-22FF,U+2460-24FF,U+2500-257F,U+25A0-25FF,U+2600-26FF,U+3000-303F,U+3200-33FF,U+4E00-9FFF,U+FE30-FE4F,U+FF00-FFEF' \
	--layout-features='*' --glyph-names --notdef-outline --name-IDs='*' --name-languages='*' --no-hinting
ls -l "$out"
