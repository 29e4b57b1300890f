#!/usr/bin/env bash
# The demo: a billing point with local demo stock (no server needed), the
# example settlements issued, a retried BusNo, a red bill and a paper
# conversion; then its bills, its status and the check of its signed chain.
set -euo pipefail
ebill=${1:-bin/ebill}
data=${2:-demo-data}
export LANG=C.UTF-8

run() { echo; echo "\$ ebill --data $data $*"; "$ebill" --data "$data" "$@"; }

if [ ! -f "$data/station.db" ]; then
	run init --place P01 --name 门诊收费一号窗口 --unit 厦门市演示区医院 --demo
	for f in outpatient inpatient registration exam unit-payer; do
		run issue -f "examples/$f.json"
	done
	run issue -f examples/outpatient.json # the same BusNo again: the first bill comes back, no second one
	run red --busno GH202611250001 --reason 患者退号 --operator 林小燕
	run paper current
	run paper convert --busno ZY202611250001 --paper-code 35062601 --paper-no 1 --operator 林小燕
fi
run list
run status
run verify
echo
echo "演示数据在 $data/ 目录；再次执行 make run 会沿用它（make clean 可清除）。"
