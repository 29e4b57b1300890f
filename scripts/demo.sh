#!/usr/bin/env bash
# The demo: a central server on an embedded SQLite file, set up with a unit,
# bill kinds, number stock and a billing point; a station enrolled with it
# over pinned TLS; the example settlements issued at the station (offline,
# from the segments the server allocated), a retried BusNo, a red bill and a
# paper conversion; then the station's bills, status and chain check, and
# the segments the server allocated; and one bill issued through the HIS
# interface, as a hospital's HIS would. The server keeps running until Ctrl+C.
set -euo pipefail
bin=${1:-bin}
data=${2:-demo-data}
addr=${EBILL_DEMO_ADDR:-127.0.0.1:8443}
export LANG=C.UTF-8
srv="$bin/ebill-server --data $data/server"
sta="$bin/ebill --data $data/station"

say() { echo; echo "\$ $*"; "$@"; }

# Administration commands run signed in: here with the API tokens of service
# accounts (票据管理员, 票据审核, 系统管理员, 安全管理员), which demoboot has the demo's
# administrators issue through ebill-server's own commands on the first run.
as() { local role=$1; shift; local var="EBILL_TOKEN_$role"; echo; echo "\$ [$role] $*"; EBILL_TOKEN="${!var}" EBILL_SESSION_FILE=/dev/null "$@"; }

mkdir -p "$data"
fresh=0
[ -f "$data/server/ledger.db" ] || fresh=1
if [ ! -f "$data/admin/tokens.env" ]; then
	echo; echo "\$ $bin/demoboot （三员首次登录、服务账号与令牌）"
	"$bin/demoboot" --bin "$bin/ebill-server" --data "$data/server" --dir "$data/admin"
fi
set -a; . "$data/admin/tokens.env"; set +a
if [ $fresh = 1 ]; then
	as BILLADMIN $srv unit set --name 厦门市演示区医院 --credit-code 123502004266001233
	year=$(date +%y)
	for k in outpatient registration exam; do as BILLADMIN $srv kind set --kind $k --code 350601$year; done
	as BILLADMIN $srv kind set --kind inpatient --code 350602$year
	# Stock intake is two people's work: the bill administrator drafts and
	# sends each document, the checker approves it.
	receive() {
		as BILLADMIN $srv stock receive "$@"
		local doc
		doc=$(EBILL_TOKEN=$EBILL_TOKEN_BILLADMIN EBILL_SESSION_FILE=/dev/null $srv --json stock docs --state submitted | sed -n 's/.*"id": "\(.*\)".*/\1/p' | head -1)
		as CHECKER $srv stock approve "$doc" --opinion 核对无误
	}
	receive --kind einvoice --code 350601$year --from 1 --to 500000 --certificate 闽财票证2026-001
	receive --kind einvoice --code 350602$year --from 1 --to 500000 --certificate 闽财票证2026-001
	receive --kind paper --code 35062601 --from 1 --to 10000 --certificate 闽财票证2026-001
	as BILLADMIN $srv point add P01 --name 门诊收费一号窗口
	as BILLADMIN $srv paper distribute --point P01 --code 35062601 --from 1 --to 500
	as BILLADMIN $srv point set P01 --checker 陈建国 --default-pay-channel 02
	as BILLADMIN $srv point add H01 --name HIS门诊开票 --kind server
	as SECADMIN $srv his-app add --appid DEMO-HIS --key demo-his-key-0123456789 --points H01 --name 演示HIS
	as BILLADMIN $srv item import --file examples/charge-items.csv
	echo "Shou#Fei2026" | as SYSADMIN $srv user add lin --name 林小燕
	as SECADMIN $srv user roles lin --roles cashier
	# The finance office's two people for the console: a bill administrator
	# drafts, a checker approves (both sign in with a second factor).
	echo "Piao#Guan2026" | as SYSADMIN $srv user add wang --name 王会计
	as SECADMIN $srv user roles wang --roles bill_admin
	echo "Shen#He2026x" | as SYSADMIN $srv user add chen --name 陈审核
	as SECADMIN $srv user roles chen --roles checker
	as BILLADMIN $srv message post --title 欢迎使用 --body "这是演示环境：登录名 lin，一次性密码 Shou#Fei2026，首次登录时请设置新密码。"
fi

$srv serve --addr "$addr" --public-url "https://$addr" > "$data/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	grep -q '"ebill-server started"' "$data/server.log" 2>/dev/null && break
	kill -0 $server_pid 2>/dev/null || { cat "$data/server.log"; exit 1; }
	sleep 0.2
done
fingerprint=$($srv --json tls fingerprint | sed -n 's/.*"fingerprint": "\(.*\)".*/\1/p')

if [ ! -f "$data/station/station.db" ]; then
	code=$(EBILL_TOKEN=$EBILL_TOKEN_BILLADMIN $srv --json point enroll-code P01 | sed -n 's/.*"code": "\(.*\)".*/\1/p')
	say $sta enroll --server "https://$addr" --code "$code" --fingerprint "$fingerprint"
	say $sta paper intake --code 35062601 --from 1 --to 500
	say $sta printer default "pdf:$data/prints" # paper prints go to PDF files here; ebill printer list shows real printers
	for f in outpatient inpatient registration exam unit-payer; do
		say $sta issue -f "examples/$f.json"
	done
	say $sta issue -f examples/outpatient.json # the same BusNo again: the first bill comes back, no second one
	say $sta red --busno GH202611250001 --reason 患者退号 --operator 林小燕
	say $sta paper convert --busno ZY202611250001 --paper-code 35062601 --paper-no 1 --operator 林小燕
fi
say $sta export --busno MZ202611250001 --out "$data/prints"
say $sta list
say $sta verify
say $sta sync once
say $sta status
# The HIS interface: an outpatient bill issued at the server point H01 as a HIS
# would (signed envelope); the same busNo on a later run returns the same bill.
say $srv his-app call --url "https://$addr" --fingerprint "$fingerprint" --appid DEMO-HIS --key demo-his-key-0123456789 \
	--service invoiceEBillOutpatient --file examples/outpatient.json --set placeCode=H01 --set busNo=HIS-MZ0001
as BILLADMIN $srv segment list
as BILLADMIN $srv bill list
echo
echo "服务器运行中：https://$addr（证书指纹 $fingerprint），日志在 $data/server.log。"
echo "HIS 接口：https://$addr/medical-web/api/medical/{服务名}，appid DEMO-HIS，密钥 demo-his-key-0123456789，开票点 H01（docs/his-integration.md）。"
echo "电子票据和纸质票据的打印结果（PDF）在 $data/prints/。"
echo "演示数据在 $data/；再次执行 make run 会沿用（make clean 可清除）。"
echo "管理端（浏览器打开）：https://$addr/admin/  三员账号如下（也在 $data/admin/管理员账号.txt）："
sed -n '2,$p' "$data/admin/管理员账号.txt"
echo "财务科账号：票据管理员 wang，一次性密码 Piao#Guan2026；票据审核 chen，一次性密码 Shen#He2026x（首次登录设置新密码并绑定动态验证码）。"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$bin/ebill-desk" ]; then
	echo "正在打开收费桌面程序：登录名 lin，一次性密码 Shou#Fei2026（首次登录时设置新密码）。关闭窗口即停止演示。"
	"$bin/ebill-desk" --data "$data/station" --sync 2> "$data/desk.log" || true
else
	echo "本机没有图形显示（DISPLAY 未设置），未打开桌面程序；在有显示器的机器上运行："
	echo "  $bin/ebill-desk --data $data/station --sync     （登录名 lin，一次性密码 Shou#Fei2026，首次登录时设置新密码）"
	echo "按 Ctrl+C 停止服务器。"
	wait $server_pid || true
fi
