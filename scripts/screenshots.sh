#!/usr/bin/env bash
# Renders the pictures in docs/ from the code: a demo station issues the
# outpatient example and reverses the inpatient one, exports both PDFs with
# `ebill export`, and poppler turns them into PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin}
out=docs/images
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sta="$bin/ebill --data $tmp/station"
mkdir -p "$out"
$sta init --place P01 --demo >/dev/null
$sta printer verify-url https://pj.example-hospital.cn >/dev/null
$sta issue -f examples/outpatient.json >/dev/null
$sta issue -f examples/inpatient.json >/dev/null
$sta red --busno ZY202611250001 --reason 出院结算更正 --operator 林小燕 >/dev/null
$sta export --busno MZ202611250001 --out "$tmp/bill.pdf" >/dev/null
red=$($sta --json list --state red | sed -n 's/.*"billNo": "\([0-9]*\)".*/\1/p' | head -1)
redcode=$($sta --json list --state red | sed -n 's/.*"billCode": "\([0-9]*\)".*/\1/p' | head -1)
$sta export --code "$redcode" --no "$red" --out "$tmp/red.pdf" >/dev/null
pdftoppm -r 110 -f 1 -l 1 -png -singlefile "$tmp/bill.pdf" "$out/ebill-outpatient"
pdftoppm -r 110 -f 2 -l 2 -png -singlefile "$tmp/bill.pdf" "$out/ebill-outpatient-details"
pdftoppm -r 110 -f 1 -l 1 -png -singlefile "$tmp/red.pdf" "$out/ebill-red"
ls -l "$out"
