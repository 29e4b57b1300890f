#!/usr/bin/env bash
# make test-windows (issue 19): builds the station's MSI twice (this version
# and the next, for the upgrade), signed with a throwaway code-signing
# certificate, prepares a wine prefix, and runs packaging/windows's tests:
# the MSI's tables (msiinfo), its signatures (osslsigncode verify) and,
# under wine, silent install with enrollment, a bill, an upgrade and an
# uninstall. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=C.UTF-8
GO=${GO:-go}
start=$(date +%s)
lap() { echo "test-windows: $1 in $(($(date +%s) - start)) s"; }

work=$(mktemp -d /tmp/ebill-winpkg-XXXXXX)
cleanup() {
	[ -n "${WINEPREFIX:-}" ] && /usr/lib/wine/wineserver64 -k 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# A throwaway code-signing certificate, valid for two days.
openssl req -x509 -newkey rsa:2048 -sha256 -days 2 -nodes -subj "/CN=ebill CI code signing/O=ebill test" \
	-addext extendedKeyUsage=codeSigning -addext keyUsage=digitalSignature \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/cert.pem" -out "$work/sign.pfx" -passout pass:ci-only
export SIGN_PFX="$work/sign.pfx" SIGN_PASS=ci-only

count=$(git rev-list --count HEAD 2>/dev/null || echo 0)
v1="0.19.$count" v2="0.19.$((count + 1))"

# Build 1: the desk and the CLI of this version.
make -s build-windows MSI_VERSION="$v1" VERSION="$v1"
scripts/msi.sh bin "$v1" "$work/ebill-$v1-x64.msi"
lap "build 1 ($v1) and its MSI"

# Build 2: the same desk, the CLI rebuilt as the next version.
mkdir -p "$work/v2"
cp bin/ebill-desk.exe "$work/v2/"
make -s winres MSI_VERSION="$v2" >/dev/null
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $GO build -trimpath -ldflags "-s -w -X main.Version=$v2" -o "$work/v2/ebill.exe" ./cmd/ebill
make -s winres MSI_VERSION="$v1" >/dev/null
scripts/msi.sh "$work/v2" "$v2" "$work/ebill-$v2-x64.msi"
lap "build 2 ($v2) and its MSI"

# A wine prefix with the ProcessPrng stand-in Go's programs need under wine 8.
export WINEPREFIX="$work/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n"
/usr/lib/wine/wine64 wineboot -i >/dev/null 2>&1
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
	packaging/windows/wine/bcryptprimitives.c packaging/windows/wine/bcryptprimitives.def -ladvapi32
lap "wine prefix"

EBILL_MSI_V1="$v1" EBILL_MSI_V2="$v2" EBILL_MSI_1="$work/ebill-$v1-x64.msi" EBILL_MSI_2="$work/ebill-$v2-x64.msi" \
	EBILL_MSI_CERT="$work/cert.pem" EBILL_WINE=/usr/lib/wine/wine64 EBILL_SERVER_BIN="$PWD/bin/ebill-server" \
	$GO test -count=1 -v ./packaging/windows 2>&1 | grep -v '^=== RUN'
echo "MSI size: $(du -h "$work/ebill-$v1-x64.msi" | cut -f1) ($(stat -c %s "$work/ebill-$v1-x64.msi") bytes)"
lap "done"
