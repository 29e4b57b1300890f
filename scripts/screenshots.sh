#!/usr/bin/env bash
# Renders the pictures in docs/ from the code: a demo station issues the
# examples of every kind and reverses the registration one, exports the PDFs with
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
$sta issue -f examples/registration.json >/dev/null
$sta red --busno GH202611250001 --reason 患者退号 --operator 林小燕 >/dev/null
$sta issue -f examples/exam.json >/dev/null
$sta issue -f examples/unit-payer.json >/dev/null
$sta export --busno MZ202611250001 --out "$tmp/bill.pdf" >/dev/null
# Each kind's face: inpatient, registration, exam, a unit as the payer.
for pair in ZY202611250001:inpatient TJ202611250001:exam; do
	$sta export --busno "${pair%%:*}" --out "$tmp/${pair##*:}.pdf" >/dev/null
	pdftoppm -r 110 -f 1 -l 1 -png -singlefile "$tmp/${pair##*:}.pdf" "$out/ebill-${pair##*:}"
done
unit=$(sed -n 's/.*"busNo": *"\([^"]*\)".*/\1/p' examples/unit-payer.json | head -1)
$sta export --busno "$unit" --out "$tmp/unit.pdf" >/dev/null
pdftoppm -r 110 -f 1 -l 1 -png -singlefile "$tmp/unit.pdf" "$out/ebill-unit-payer"
red=$($sta --json list --state red | sed -n 's/.*"billNo": "\([0-9]*\)".*/\1/p' | head -1)
redcode=$($sta --json list --state red | sed -n 's/.*"billCode": "\([0-9]*\)".*/\1/p' | head -1)
$sta export --code "$redcode" --no "$red" --out "$tmp/red.pdf" >/dev/null
pdftoppm -r 110 -f 1 -l 1 -png -singlefile "$tmp/bill.pdf" "$out/ebill-outpatient"
pdftoppm -r 110 -f 2 -l 2 -png -singlefile "$tmp/bill.pdf" "$out/ebill-outpatient-details"
pdftoppm -r 110 -f 1 -l 1 -png -singlefile "$tmp/red.pdf" "$out/ebill-red"
ls -l "$out"
