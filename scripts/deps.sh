#!/usr/bin/env bash
# Installs what building and testing ebill needs on Debian/Ubuntu, and
# checks the Go toolchain. Safe to run again: it only acts on what is missing.
set -euo pipefail

need_go="1.26"
if ! command -v go >/dev/null 2>&1; then
	echo "需要 Go ${need_go} 或更高版本（https://go.dev/dl/），当前未安装。" >&2
	echo "Go ${need_go} or newer is required; install it from your distribution or go.dev." >&2
	exit 1
fi
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need_go" "$have" | sort -V | head -n1)" != "$need_go" ]; then
	echo "Go ${need_go} or newer is required; found ${have}." >&2
	exit 1
fi

# Debian packages: `deps.sh test` adds what the tests use (poppler reads the
# PDFs, zbar decodes their QR codes, CUPS with cups-pdf is a real print
# queue, headless Chromium opens the verification page as a phone would and
# drives the management console, with CJK fonts for its screenshots).
# The desktop app (Fyne) needs a C compiler and the X11/OpenGL headers to
# build, always. `deps.sh windows` adds the mingw cross-compiler; `deps.sh
# bench` adds Xvfb, in which the bench starts the real desktop program.
pkgs=(gcc pkg-config libc6-dev libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
case "${1:-}" in
test) pkgs+=(poppler-utils zbar-tools cups cups-client printer-driver-cups-pdf chromium fonts-noto-cjk) ;;
windows) pkgs+=(gcc-mingw-w64-x86-64) ;;
msi) pkgs+=(gcc-mingw-w64-x86-64 msitools wixl osslsigncode openssl wine64) ;;
bench) pkgs+=(xvfb) ;;
esac
missing=()
for p in "${pkgs[@]+"${pkgs[@]}"}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	# Another apt (unattended upgrades, a second terminal) holds the lock at
	# times: wait for it, up to 10 minutes, rather than fail at once.
	wait_lock=(-o DPkg::Lock::Timeout=600)
	echo "安装所需的系统软件包：${missing[*]}（如有其他 apt 正在运行，会等待其结束，最多 10 分钟）" >&2
	$sudo apt-get "${wait_lock[@]}" update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get "${wait_lock[@]}" install -y --no-install-recommends "${missing[@]}"
fi

go mod download

# The independent OFD renderer the printing tests open our OFDs with
# (ofd.js, pinned: ofd.md §10.3), from the npm registry into .cache.
if [ "${1:-}" = test ]; then
	ofdjs="$(cd "$(dirname "$0")/.." && pwd)/.cache/ofd.js-0.2.6"
	if [ ! -f "$ofdjs/package/lib/ofd.umd.min.js" ]; then
		mkdir -p "$ofdjs"
		(cd "$ofdjs" && npm pack --silent ofd.js@0.2.6 >/dev/null && tar xzf ofd.js-0.2.6.tgz)
	fi
fi
