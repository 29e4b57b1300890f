#!/usr/bin/env bash
# Vendors the console's front-end libraries (console.md): fetches the
# pinned npm tarballs with `npm pack`, refuses any whose SHA-256 differs
# from the one recorded here, and copies the files the console serves into
# server/web/static/vendor, with their licences. The files are committed:
# builds need neither npm nor the network. Run it to change a version (and
# its checksum) on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
out=server/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name@version  sha256 of the tarball  files to take (from package/)
packages=(
	"htmx.org@2.0.11 165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e dist/htmx.min.js LICENSE"
	"echarts@6.1.0 681aff88cc1038c3fa941a3a53d1b177a52250b05335efc607d6105ae13be481 dist/echarts.min.js LICENSE NOTICE"
)
mkdir -p "$out"
for entry in "${packages[@]}"; do
	read -r spec sum files <<<"$entry"
	name=${spec%@*}
	(cd "$tmp" && npm pack --silent "$spec" >/dev/null)
	tgz=$(ls "$tmp"/*.tgz)
	got=$(sha256sum "$tgz" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		echo "vendor: $spec has SHA-256 $got, expected $sum — refused" >&2
		exit 1
	fi
	tar xzf "$tgz" -C "$tmp"
	for f in $files; do
		base=$(basename "$f")
		case "$base" in
		LICENSE | NOTICE) cp "$tmp/package/$f" "$out/$name.$base" ;;
		*) cp "$tmp/package/$f" "$out/$base" ;;
		esac
	done
	rm -rf "$tmp/package" "$tgz"
	echo "vendored $spec"
done
(cd "$out" && sha256sum htmx.min.js echarts.min.js > SHA256SUMS)
