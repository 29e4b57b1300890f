package main

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// Field types of the reference's answer tables (bosssoft-v3.md): S text,
// I integer (a JSON number or digits), N decimal (a number or a decimal
// text), T a 17-digit yyyyMMddHHmmssSSS time, D a yyyy-MM-dd date, B Base64,
// L a list (its items checked against the item table named after the
// field).
type answerSpec map[string]string

// referenceServices is every service id of the reference (63), with the
// request a HIS builds from the reference's field tables and the answer
// fields the reference marks required (Y) — or the result code of a
// service this server does not run.
func referenceServices(v map[string]string) []struct {
	id      string
	req     map[string]any
	answer  answerSpec
	items   map[string]answerSpec
	refused string // E1012 or E1013
} {
	type svc = struct {
		id      string
		req     map[string]any
		answer  answerSpec
		items   map[string]answerSpec
		refused string
	}
	issued := answerSpec{"billBatchCode": "S", "billNo": "S", "random": "S", "createTime": "T", "billQRCode": "B", "pictureUrl": "S"}
	check := answerSpec{"copyNum": "I", "totalAmt": "N", "totalNum": "I", "allTotalAmt": "N", "allTotalNum": "I", "billNoList": "L"}
	rangeItem := map[string]answerSpec{"billNoList": {"busType": "S", "placeCode": "S", "billName": "S", "billBatchCode": "S",
		"bgnNo": "S", "endNo": "S", "copyNum": "I", "totalAmt": "N"}}
	listItem := map[string]answerSpec{"billList": {"busDate": "T", "busNo": "S", "busType": "S", "placeCode": "S", "billName": "S",
		"billBatchCode": "S", "billNo": "S", "random": "S", "totalAmt": "N", "ivcDateTime": "T", "dataType": "S", "state": "S",
		"relateBillBatchCode": "S", "relateBillNo": "S"}}
	unprinted := map[string]answerSpec{"billList": {"busDate": "T", "busNo": "S", "billName": "S", "billBatchCode": "S", "billNo": "S",
		"random": "S", "totalAmt": "N", "payer": "S", "ivcDateTime": "T"}}
	bill := func(extra map[string]any) map[string]any {
		m := map[string]any{"billBatchCode": v["code"], "billNo": v["no"], "random": v["random"]}
		for k, x := range extra {
			m[k] = x
		}
		return m
	}
	week := map[string]any{"busBgnDate": v["from"], "busEndDate": v["to"], "pageNo": 1, "pageSize": 20}
	with := func(base map[string]any, extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, x := range base {
			m[k] = x
		}
		for k, x := range extra {
			m[k] = x
		}
		return m
	}
	out := []svc{
		{id: "getEBillByBusNo", req: map[string]any{"busNo": v["busNo"], "busDateTime": v["busDateTime"]},
			answer: answerSpec{"billBatchCode": "S", "billNo": "S", "random": "S", "billQRCode": "B", "createTime": "T", "pictureUrl": "S", "isScarlet": "S"}},
		{id: "getEBillStatesByBillInfo", req: bill(nil), answer: answerSpec{"billName": "S", "billBatchCode": "S", "billNo": "S",
			"random": "S", "ivcDateTime": "T", "state": "S", "isPrtPaper": "S", "isScarlet": "S"}},
		{id: "getEBillPicUrl", req: bill(map[string]any{"channelMode": "1"}), answer: answerSpec{"pictureUrl": "S", "pictureNetUrl": "S"}},
		{id: "getEBillNotifyPic", req: bill(map[string]any{"isReturnPic": "1"}), answer: answerSpec{"billBatchCode": "S", "billNo": "S",
			"random": "S", "createTime": "T", "billQRCode": "B", "pictureData": "B"}},
		{id: "getEBillUnPrintList", req: with(week, map[string]any{"cardType": v["cardType"], "cardNo": v["cardNo"]}),
			answer: answerSpec{"total": "I", "pageNo": "I", "billList": "L"}, items: unprinted},
		{id: "getNotPrintList", req: with(week, map[string]any{"cardNo": v["cardNo"]}),
			answer: answerSpec{"total": "I", "pageNo": "I", "billList": "L"},
			items:  map[string]answerSpec{"billList": {"busDate": "T", "billBatchCode": "S", "billNo": "S", "totalAmt": "N", "payer": "S", "listFlag": "S"}}},
		{id: "getEBillPrintList", req: with(week, map[string]any{"cardType": v["cardType"], "cardNo": v["cardNo"]}),
			answer: answerSpec{"total": "I", "pageNo": "I", "billList": "L"},
			items: map[string]answerSpec{"billList": {"busDate": "T", "placeCode": "S", "billName": "S", "billBatchCode": "S", "billNo": "S",
				"relatedBillBatchCode": "S", "relatedBillNo": "S", "ivcDateTime": "T"}}},
		{id: "getEBillAccountStatus", req: bill(map[string]any{"createTime": v["createTime"]}), answer: answerSpec{"state": "S"}},
		{id: "getBillDetail", req: bill(nil), answer: answerSpec{"busNo": "S", "busType": "S", "payer": "S", "busDateTime": "T",
			"placeCode": "S", "payee": "S", "author": "S", "totalAmt": "N", "cardType": "S", "cardNo": "S", "sex": "S", "age": "S",
			"idCardNo": "S", "selfPayAmt": "N", "chargeDetail": "L", "listDetail": "L"},
			items: map[string]answerSpec{"chargeDetail": {"chargeCode": "S", "chargeName": "S", "std": "N", "number": "N", "amt": "N"},
				"listDetail": {"name": "S", "std": "N", "number": "N", "amt": "N"}}},
		{id: "getPaperBillNo", req: map[string]any{"placeCode": "H01", "pBillBatchCode": "35062601"},
			answer: answerSpec{"pBillBatchCode": "S", "pBillNo": "S"}},
		{id: "getValidBillNo", req: map[string]any{"placeCode": "H01"}, answer: answerSpec{"count": "I", "billNoList": "L"},
			items: map[string]answerSpec{"billNoList": {"billCode": "S", "billBatchCode": "S", "billBgnNo": "S", "billEndNo": "S"}}},
		{id: "getValidBillBatchCode", req: map[string]any{"placeCode": "H01"}, answer: answerSpec{"billCodeList": "L"},
			items: map[string]answerSpec{"billCodeList": {"billCode": "S", "billBatchCodeList": "L"}}},
		{id: "getElectBilllListTotal", req: bill(nil), answer: answerSpec{"total": "I"}},
		{id: "testServerConnect", req: map[string]any{"testValue": "ping"}, answer: answerSpec{"": "S"}},
		{id: "sendBillNotice", req: bill(map[string]any{"noticeList": []any{map[string]any{"noticeType": "1201", "noticeValue": "13800000000"}}}),
			answer: answerSpec{"": "S"}},
		{id: "checkTotalData", req: map[string]any{"busDate": v["busDay"], "pageNo": 1, "pageSize": 20},
			answer: with2(check, "busDate", "D"), items: rangeItem},
		{id: "checkDataByPlace", req: map[string]any{"busDate": v["busDay"], "placeCode": "H01", "busType": "02", "pageNo": 1, "pageSize": 20},
			answer: with2(check, "busDate", "D"), items: rangeItem},
		{id: "checkWriteOffData", req: map[string]any{"busDate": v["today"], "placeCode": "H01", "busType": "02", "pageNo": 1, "pageSize": 20},
			answer: with2(check, "busDate", "D"), items: rangeItem},
		{id: "checkTotalDataByIvcDate", req: map[string]any{"ivcDate": v["today"], "pageNo": 1, "pageSize": 20},
			answer: with2(check, "ivcDate", "D"), items: rangeItem},
		{id: "checkDataPlaceByIvcDate", req: map[string]any{"ivcDate": v["today"], "placeCode": "H01", "busType": "02", "pageNo": 1, "pageSize": 20},
			answer: with2(check, "ivcDate", "D"), items: rangeItem},
		{id: "checkWriteOffDataByIvcDate", req: map[string]any{"ivcDate": v["today"], "placeCode": "H01", "busType": "02", "pageNo": 1, "pageSize": 20},
			answer: with2(check, "ivcDate", "D"), items: rangeItem},
		{id: "getBillByBusDate", req: map[string]any{"busBgnDate": v["busDay8"] + "000000000", "busEndDate": v["busDay8"] + "235959999",
			"placeCode": "H01", "dataType": "1", "pageNo": 1, "pageSize": 20}, answer: answerSpec{"total": "I", "pageNo": "I", "billList": "L"}, items: listItem},
		{id: "getBillByIvcDate", req: map[string]any{"busBgnDate": v["today"], "busEndDate": v["today"], "dataType": "1", "pageNo": 1, "pageSize": 20},
			answer: answerSpec{"total": "I", "pageNo": "I", "billList": "L"}, items: listItem},
	}
	// The services that change state come last, so that the queries above
	// saw the bills as the walk made them.
	red := answerSpec{"eScarletBillBatchCode": "S", "eScarletBillNo": "S", "eScarletRandom": "S", "createTime": "T",
		"billQRCode": "B", "pictureUrl": "S"}
	paper := func(no string) map[string]any {
		return map[string]any{"billBatchCode": v["code"], "billNo": v["no"], "pBillBatchCode": "35062601", "pBillNo": no,
			"busDateTime": v["busDateTime"], "placeCode": "H01", "operator": "林小燕"}
	}
	out = append(out,
		svc{id: "invoiceEBillOutpatient", req: v2m(v["outpatient"]), answer: issued},
		svc{id: "invEBillHospitalized", req: v2m(v["inpatient"]), answer: issued},
		svc{id: "invEBillRegistration", req: v2m(v["registration"]), answer: issued},
		svc{id: "invEBillCheckUp", req: v2m(v["exam"]), answer: issued},
		svc{id: "writeOffEBill", req: map[string]any{"billBatchCode": v["code4"], "billNo": v["no4"], "reason": "退费", "operator": "林小燕",
			"busDateTime": v["busDateTime"], "placeCode": "H01"}, answer: red},
		svc{id: "writeOffEBillToPaper", req: map[string]any{"billBatchCode": v["code3"], "billNo": v["no3"], "reason": "退费", "operator": "林小燕",
			"busDateTime": v["busDateTime"], "placeCode": "H01", "pBillBatchCode": "35062601", "pBillNo": "2"}, answer: red},
		svc{id: "turnPaper", req: paper("3"), answer: answerSpec{}},
		svc{id: "reTurnPaper", req: paper("4"), answer: answerSpec{}},
		svc{id: "invalidPaper", req: map[string]any{"pBillBatchCode": "35062601", "pBillNo": "4", "placeCode": "H01", "author": "林小燕",
			"reason": "打印错误", "busDateTime": v["busDateTime"]}, answer: red},
		svc{id: "invalidBlankBillNo", req: map[string]any{"pBillBatchCode": "35062601", "pBillNoStart": "5", "pBillNoEnd": "6",
			"placeCode": "H01", "author": "林小燕", "reason": "走纸", "busDateTime": v["busDateTime"]}, answer: answerSpec{}},
	)
	for _, id := range []string{"generateAccount", "getEBillAcList", "downEBillAccount", "registerEBillAcc", "cancelEBillAcc",
		"getBillStockOutList", "billStockOut", "billStockReturn", "receiveCheckTotalData", "receiveCheckWriteOffData",
		"receiveBillByBusDate", "queryCheckTotalData", "queryCheckWriteOffData", "queryBillByBusDate", "printPaperBill",
		"printElectBill", "printElectBillList", "turnPaperPrint", "reTurnPaperPrint"} {
		out = append(out, svc{id: id, req: map[string]any{"placeCode": "H01"}, refused: "E1012"})
	}
	batch := func(file, kind string) map[string]any {
		return map[string]any{"batchNo": "WALK-" + kind, "eBillList": []any{v2m(v[file+"-b1"]), v2m(v[file+"-b2"])}}
	}
	out = append(out,
		svc{id: "batchInvoiceEBillOutpatient", req: batch("outpatient", "O"), answer: answerSpec{"": "S"}},
		svc{id: "batchInvoiceEBillHospitalized", req: batch("inpatient", "H"), answer: answerSpec{"": "S"}},
		svc{id: "batchInvoiceEBillRegistration", req: batch("registration", "R"), answer: answerSpec{"": "S"}},
		svc{id: "batchInvoiceEBillCheckUp", req: batch("exam", "C"), answer: answerSpec{"": "S"}},
		svc{id: "getBatchInvoiceEBill", req: map[string]any{"batchNo": "WALK-O"}, answer: answerSpec{"count": "I", "eBillList": "L"},
			items: map[string]answerSpec{"eBillList": {"busNo": "S", "status": "I", "errMsg": "S", "billBatchCode": "S", "billNo": "S",
				"random": "S", "createTime": "T", "billQRCode": "B", "pictureUrl": "S", "pictureNetUrl": "S"}}},
	)
	// 预交金: a deposit, a refund of part of another, the reversal of the
	// inpatient bill that consumed a third, and the voiding of a fourth's
	// paper copy (the walk's setup made them).
	voucher := answerSpec{"voucherBatchCode": "S", "voucherNo": "S", "voucherRandom": "S", "createTime": "T", "billQRCode": "B", "pictureUrl": "S"}
	out = append(out,
		svc{id: "invoicePayMentVoucher", req: v2m(v["deposit"]), answer: voucher},
		svc{id: "writeOffPayMentVoucher", req: map[string]any{"busType": "07", "billBatchCode": v["code"], "billNo": v["no"], "reason": "出院结余退款",
			"operator": "林小燕", "busDateTime": v["busDateTime"], "placeCode": "H01", "voucherBatchCode": v["vcode1"], "voucherNo": v["vno1"],
			"amt": "1200.50", "ownAcBalance": "3000.00"}, answer: voucher},
		svc{id: "cancelPayMentVoucherBalance", req: map[string]any{"billBatchCode": v["hvcode"], "billNo": v["hvno"], "reason": "结算有误",
			"operator": "林小燕", "busDateTime": v["busDateTime"], "placeCode": "H01", "hospitalNo": "ZY20261201"},
			answer: with2(red, "voucherNo", "S")},
		svc{id: "invalidPayMentVoucherPaper", req: map[string]any{"pBillBatchCode": "35062601", "pBillNo": "1", "placeCode": "H01",
			"author": "林小燕", "reason": "打印错误", "busDateTime": v["busDateTime"]}, answer: voucher},
		svc{id: "receiveArreasFeedBack", req: bill(map[string]any{"feedBackDate": v["today"]}), answer: answerSpec{"": "S"}},
		svc{id: "invoiceEBillCommon", req: v2m(v["common"]), answer: issued},
	)
	return out
}

// v2m decodes a request kept as JSON text.
func v2m(s string) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	dec.Decode(&m)
	return m
}

func with2(a answerSpec, k, t string) answerSpec {
	m := answerSpec{k: t}
	for x, y := range a {
		m[x] = y
	}
	return m
}

var (
	time17  = regexp.MustCompile(`^\d{17}$`)
	decimal = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	digits  = regexp.MustCompile(`^\d+$`)
)

// checkType reports whether x has the reference's type t.
func checkType(t string, x any) bool {
	switch t {
	case "S":
		_, ok := x.(string)
		return ok
	case "I":
		switch v := x.(type) {
		case float64:
			return v == float64(int64(v))
		case string:
			return digits.MatchString(v)
		}
	case "N":
		switch v := x.(type) {
		case float64:
			return true
		case string:
			return decimal.MatchString(v)
		}
	case "T":
		s, ok := x.(string)
		return ok && time17.MatchString(s)
	case "D":
		s, ok := x.(string)
		_, err := time.Parse("2006-01-02", s)
		return ok && err == nil
	case "B":
		s, ok := x.(string)
		_, err := base64.StdEncoding.DecodeString(s)
		return ok && s != "" && err == nil
	case "L":
		_, ok := x.([]any)
		return ok
	}
	return false
}

// TestHISReferenceWalk walks every service id of the Bosssoft v3.2
// reference against the real server process: the services this server
// runs answer every field the reference marks required, with the
// reference's type and format (list items too); the others answer the
// documented E1012 or E1013 with a reason, never an unknown service.
func TestHISReferenceWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin, data, _ := setupHISServer(t)
	addr := freeAddr(t)
	serve := exec.Command(bin, "--data", data, "serve", "--addr", addr, "--public-url", "https://pj.example-hospital.cn")
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	waitHealthy(t, "https://"+addr)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	samples := hisSamplesOf(t)
	n := 0
	call := func(service string, business any) (string, any) {
		t.Helper()
		n++
		raw, _ := json.Marshal(business)
		res, msg := postHIS(t, client, addr, service, raw, fmt.Sprintf("walk-%d-%d", time.Now().UnixNano(), n))
		var out any
		if json.Unmarshal(msg, &out) != nil {
			out = string(msg)
		}
		samples.add(service, raw, res, msg)
		return res, out
	}
	exampleOf := func(file, bus string) map[string]any {
		m := hisExample(t, file, bus)
		// Settled now, so that every query by business day or issue day
		// finds the walk's bills whatever day the test runs.
		m["busDateTime"] = time.Now().In(time.FixedZone("CST", 8*3600)).Format("20060102150405") + "000"
		return m
	}
	example := func(bus string) map[string]any { return exampleOf("outpatient.json", bus) }
	asJSON := func(m map[string]any) string { b, _ := json.Marshal(m); return string(b) }
	// The bills the queries find: one to look at, one reversed, one on paper.
	ex := example("WALK-1")
	code, first := call("invoiceEBillOutpatient", ex)
	f, _ := first.(map[string]any)
	if code != "S0000" {
		t.Fatalf("issue: %s %v", code, first)
	}
	_, second := call("invoiceEBillOutpatient", example("WALK-2"))
	s2 := second.(map[string]any)
	call("writeOffEBill", map[string]any{"billBatchCode": s2["billBatchCode"], "billNo": s2["billNo"], "reason": "退费", "operator": "林小燕"})
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	// Deposit vouchers: one to refund in part, one an inpatient bill
	// consumes, one on paper (number 1).
	deposit := func(bus string) map[string]any {
		return map[string]any{"busType": "07", "busNo": bus, "payer": "陈志明", "busDateTime": ex["busDateTime"], "placeCode": "H01",
			"payee": "林小燕", "author": "林小燕", "cardType": "1", "cardNo": "A0012345", "amt": "3000.00", "ownAcBalance": "0",
			"category": "心血管内科", "categoryCode": "0301", "inHospitalDate": today.Format("2006-01-02"), "hospitalNo": "ZY20261201",
			"visitNo": "ZY20261201", "payChannelDetail": []any{map[string]any{"payChannelCode": "02", "payChannelValue": "3000.00"}}}
	}
	vouchers := map[string]map[string]any{}
	for _, bus := range []string{"YJ-1", "YJ-2", "YJ-3"} {
		code, m := call("invoicePayMentVoucher", deposit(bus))
		if code != "S0000" {
			t.Fatalf("invoicePayMentVoucher: %s %v", code, m)
		}
		vouchers[bus] = m.(map[string]any)
	}
	if code, m := call("turnPaper", map[string]any{"billBatchCode": vouchers["YJ-3"]["voucherBatchCode"], "billNo": vouchers["YJ-3"]["voucherNo"],
		"pBillBatchCode": "35062601", "pBillNo": "1", "placeCode": "H01", "operator": "林小燕"}); code != "S0000" {
		t.Fatalf("turnPaper of a voucher: %s %v", code, m)
	}
	consumer := exampleOf("inpatient.json", "WALK-HV")
	consumer["payMentVoucher"] = []any{map[string]any{"voucherBatchCode": vouchers["YJ-2"]["voucherBatchCode"], "voucherNo": vouchers["YJ-2"]["voucherNo"]}}
	code, hv := call("invEBillHospitalized", consumer)
	if code != "S0000" {
		t.Fatalf("an inpatient bill consuming a voucher: %s %v", code, hv)
	}
	hvm := hv.(map[string]any)
	_, third := call("invoiceEBillOutpatient", example("WALK-3"))
	s3 := third.(map[string]any)
	if code, m := call("turnPaper", map[string]any{"billBatchCode": s3["billBatchCode"], "billNo": s3["billNo"], "pBillBatchCode": "35062601",
		"pBillNo": "2", "placeCode": "H01", "operator": "林小燕"}); code != "S0000" {
		t.Fatalf("turnPaper: %s %v", code, m)
	}
	_, fourth := call("invoiceEBillOutpatient", example("WALK-4")) // reversed by the walk
	s4 := fourth.(map[string]any)
	busDay := fmt.Sprint(ex["busDateTime"])[:8]
	v := map[string]string{"code": fmt.Sprint(f["billBatchCode"]), "no": fmt.Sprint(f["billNo"]), "random": fmt.Sprint(f["random"]),
		"createTime": fmt.Sprint(f["createTime"]), "busNo": "WALK-1", "busDateTime": fmt.Sprint(ex["busDateTime"]),
		"cardNo": fmt.Sprint(ex["cardNo"]), "today": today.Format("2006-01-02"),
		"busDay": busDay[:4] + "-" + busDay[4:6] + "-" + busDay[6:], "busDay8": busDay, "cardType": fmt.Sprint(ex["cardType"]),
		"from": today.AddDate(0, 0, -6).Format("20060102") + "000000000", "to": today.Format("20060102") + "235959999",
		"code3": fmt.Sprint(s3["billBatchCode"]), "no3": fmt.Sprint(s3["billNo"]), "code4": fmt.Sprint(s4["billBatchCode"]),
		"no4": fmt.Sprint(s4["billNo"]), "outpatient": asJSON(example("WALK-O")), "inpatient": asJSON(exampleOf("inpatient.json", "WALK-H")),
		"registration": asJSON(exampleOf("registration.json", "WALK-R")), "exam": asJSON(exampleOf("exam.json", "WALK-C")),
		"deposit": asJSON(deposit("YJ-WALK")), "common": asJSON(map[string]any{"busNo": "WL-1", "busType": "09", "payer": "厦门海湾科技有限公司",
			"busDateTime": ex["busDateTime"], "placeCode": "H01", "payee": "林小燕", "author": "林小燕", "checker": "王会计",
			"totalAmt": "5000.00", "payerType": "2", "age": "", "sex": "", "remark": "进修培训费代收",
			"payChannelDetail": []any{map[string]any{"payChannelCode": "03", "payChannelValue": "5000.00"}},
			"chargeDetail": []any{map[string]any{"sortNo": 1, "chargeCode": "WL01", "chargeName": "代收进修培训费", "unit": "人",
				"std": "2500.00", "number": 2, "amt": "5000.00"}}}), "vcode1": fmt.Sprint(vouchers["YJ-1"]["voucherBatchCode"]),
		"vno1": fmt.Sprint(vouchers["YJ-1"]["voucherNo"]), "hvcode": fmt.Sprint(hvm["billBatchCode"]), "hvno": fmt.Sprint(hvm["billNo"])}
	for file, name := range map[string]string{"outpatient": "outpatient.json", "inpatient": "inpatient.json",
		"registration": "registration.json", "exam": "exam.json"} {
		v[file+"-b1"], v[file+"-b2"] = asJSON(exampleOf(name, "WALK-B1-"+file)), asJSON(exampleOf(name, "WALK-B2-"+file))
	}

	services := referenceServices(v)
	covered := map[string]bool{}
	for _, sv := range services {
		covered[sv.id] = true
		t.Run(sv.id, func(t *testing.T) {
			code, out := call(sv.id, sv.req)
			if sv.refused != "" {
				if text, _ := out.(string); code != sv.refused || !strings.Contains(text, sv.id) || len([]rune(text)) < len(sv.id)+6 {
					t.Fatalf("answered %s %v, want %s with a reason", code, out, sv.refused)
				}
				return
			}
			if code != "S0000" {
				t.Fatalf("answered %s %v", code, out)
			}
			if typ, ok := sv.answer[""]; ok { // a success text
				if _, isText := out.(string); !isText || typ != "S" {
					t.Fatalf("answer %v is not a text", out)
				}
				return
			}
			m, ok := out.(map[string]any)
			if !ok {
				t.Fatalf("answer %v is not an object", out)
			}
			checkFields(t, "", m, sv.answer, sv.items)
		})
	}
	if sms, _ := os.ReadFile(filepath.Join(data, "sms-outbox.log")); !strings.Contains(string(sms), v["no"]) || !strings.Contains(string(sms), "13800000000") {
		t.Errorf("sendBillNotice sent no text with the bill's number: %s", sms)
	}
	if len(covered) != 63 {
		var ids []string
		for id := range covered {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		t.Errorf("%d service ids walked, the reference has 63: %v", len(covered), ids)
	}
}

// checkFields checks an answer object against its spec: every field
// present with its type, the first items of each list against theirs.
func checkFields(t *testing.T, path string, m map[string]any, spec answerSpec, items map[string]answerSpec) {
	t.Helper()
	for field, typ := range spec {
		x, ok := m[field]
		if !ok {
			t.Errorf("%s%s is missing (the reference marks it required)", path, field)
			continue
		}
		if !checkType(typ, x) {
			t.Errorf("%s%s = %v is not of type %s", path, field, x, typ)
			continue
		}
		if list, isList := x.([]any); isList && items[field] != nil {
			if len(list) == 0 {
				t.Errorf("%s%s is empty: nothing to check its items against", path, field)
			}
			for i, it := range list {
				if im, ok := it.(map[string]any); ok {
					checkFields(t, fmt.Sprintf("%s%s[%d].", path, field, i), im, items[field], nil)
				} else {
					t.Errorf("%s%s[%d] = %v is not an object", path, field, i, it)
				}
			}
		}
	}
}
