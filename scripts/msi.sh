#!/usr/bin/env bash
# scripts/msi.sh BIN VERSION OUT.msi — the station's MSI (windows.md) from
# BIN/ebill-desk.exe and BIN/ebill.exe, built by `make msi`.
#
#  1. version resources, icon and manifest for both exes (go-winres), built
#     by the Makefile before this script runs;
#  2. the exes signed (SIGN_PFX, SIGN_PASS), when a certificate is given;
#  3. wixl builds the MSI from packaging/windows/ebill.wxs;
#  4. msibuild writes the Chinese strings wixl blanks (codepage 936) and the
#     secure properties;
#  5. the MSI signed.
set -euo pipefail
bin=$1 version=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

sign() { # sign FILE: Authenticode with SHA-256, when SIGN_PFX is set
	[ -n "${SIGN_PFX:-}" ] || return 0
	osslsigncode sign -pkcs12 "$SIGN_PFX" ${SIGN_PASS:+-pass "$SIGN_PASS"} -h sha256 \
		-n "医疗电子票据 ebill" -i "https://ebill.cn" ${SIGN_TIMESTAMP:+-ts "$SIGN_TIMESTAMP"} \
		-in "$1" -out "$1.signed" >/dev/null
	mv "$1.signed" "$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cp "$bin/ebill-desk.exe" "$bin/ebill.exe" "$work/bin/"
sign "$work/bin/ebill-desk.exe"
sign "$work/bin/ebill.exe"
cp "$root/packaging/windows/ebill.wxs" "$work/"
# The Start-menu and Programs-and-Features icon: an ICO holding the 256×256
# PNG (the exes carry the same icon in their resources).
png="$root/assets/icon.png"
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
{
	printf '\x00\x00\x01\x00\x01\x00'                  # ICONDIR: an icon file with one image
	printf '\x00\x00\x00\x00\x01\x00\x20\x00'          # 256×256 (0 = 256), no palette, 1 plane, 32 bpp
	printf "$(le32 "$(stat -c %s "$png")")$(le32 22)" # the PNG's size, and where it starts
	cat "$png"
} >"$work/bin/ebill.ico"
(cd "$work" && wixl -a x64 -D Version="$version" -D Bin=bin -o ebill.msi ebill.wxs 2> wixl.log) || {
	grep -v 'GObject-WARNING\|^$' "$work/wixl.log" >&2
	exit 1
}

# Chinese strings, in codepage 936 (GBK): wixl writes them blank.
msi="$work/ebill.msi"
printf '\n\n936\t_ForceCodepage\n' >"$work/_ForceCodepage.idt"
(cd "$work" && msibuild ebill.msi -i _ForceCodepage.idt)
q() { msibuild "$msi" -q "$1"; }
q "UPDATE Property SET Value = '医疗电子票据' WHERE Property = 'ProductName'"
q "UPDATE Property SET Value = '医疗电子票据系统' WHERE Property = 'Manufacturer'"
q "UPDATE Property SET Value = 'SERVER;CODE;FINGERPRINT;DATA;PREVDATA;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' WHERE Property = 'SecureCustomProperties'"
q "UPDATE Shortcut SET Name = 'EBILL~1|医疗电子票据', Description = '开具、打印、查询医疗电子票据' WHERE Shortcut = 'DeskShortcut'"
q "UPDATE ServiceInstall SET DisplayName = 'ebill 电子票据同步服务', Description = '上传本机离线开具的电子票据，取得号段和基础数据。' WHERE ServiceInstall = 'SyncService'"
q "UPDATE LaunchCondition SET Description = '本机已安装更新版本的医疗电子票据，不能安装旧版本。如需降级，请先卸载（票据数据会保留）。' WHERE Condition = 'NOT WIX_DOWNGRADE_DETECTED'"
sign "$msi"
mv "$msi" "$out"
echo "$out: $(du -h "$out" | cut -f1)"
