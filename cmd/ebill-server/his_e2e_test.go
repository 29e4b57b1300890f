package main

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ebill/ebill/internal/ofdcheck"
)

// TestHISEndToEnd runs a real server process set up with the
// administrator's commands and drives the medical API as a HIS does:
// issue, retry, a lost response, double reversal, paper with its void,
// paging, the verification page; then the server is killed with SIGKILL
// and restarted, the bills are all there, and every other service id of
// the protocol answers as it should.
func TestHISEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin, data, admin := setupHISServer(t, "--allow-from", "127.0.0.1,::1")

	addr := freeAddr(t)
	var serveErr syncBuffer
	start := func(extra ...string) *exec.Cmd {
		serve := exec.Command(bin, append([]string{"--data", data, "serve", "--addr", addr}, extra...)...)
		serveErr.Reset()
		serve.Stderr = &serveErr
		if err := serve.Start(); err != nil {
			t.Fatal(err)
		}
		waitHealthy(t, "https://"+addr)
		return serve
	}
	serve := start("--public-url", "https://pj.example-hospital.cn")
	defer func() { serve.Process.Kill(); serve.Wait() }()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	n := 0
	samples := hisSamplesOf(t)
	call := func(service string, business any) (string, map[string]any) {
		t.Helper()
		n++
		raw, isRaw := business.([]byte) // bytes go out as they are (GBK, say)
		if !isRaw {
			raw, _ = json.Marshal(business)
		}
		res, msg := postHIS(t, client, addr, service, raw, fmt.Sprintf("%017d", time.Now().UnixNano()/1000+int64(n)))
		out := map[string]any{}
		if json.Unmarshal(msg, &out) != nil {
			out["text"] = string(msg)
		}
		samples.add(service, raw, res, msg)
		checkTimestamps(t, service, "", out)
		return res, out
	}
	example := func(file, bus string) map[string]any { return hisExample(t, file, bus) }
	settlement := func(bus string) map[string]any { return example("outpatient.json", bus) }
	code, first := call("invoiceEBillOutpatient", settlement("E2E-1"))
	if code != "S0000" || first["billNo"] == nil {
		t.Fatalf("issue: %s %v", code, first)
	}
	if code, again := call("invoiceEBillOutpatient", settlement("E2E-1")); code != "S0000" || again["billNo"] != first["billNo"] {
		t.Fatalf("retry: %s %v", code, again)
	}
	if code, found := call("getEBillByBusNo", map[string]string{"busNo": "E2E-1"}); code != "S0000" || found["billNo"] != first["billNo"] {
		t.Fatalf("lost response: %s %v", code, found)
	}
	wo := map[string]any{"billBatchCode": first["billBatchCode"], "billNo": first["billNo"], "reason": "退费", "operator": "林小燕"}
	code, red := call("writeOffEBill", wo)
	if code != "S0000" || len(fmt.Sprint(red["eScarletBillNo"])) != 10 {
		t.Fatalf("write-off: %s %v", code, red)
	}
	if code, msg := call("writeOffEBill", wo); code != "E2002" || !strings.Contains(fmt.Sprint(msg["text"]), "已冲销") ||
		!strings.Contains(fmt.Sprint(msg["text"]), fmt.Sprint(red["eScarletBillNo"])) {
		t.Fatalf("second write-off: %s %v", code, msg)
	}
	_, second := call("invoiceEBillOutpatient", settlement("E2E-2"))
	if code, m := call("turnPaper", map[string]any{"billBatchCode": second["billBatchCode"], "billNo": second["billNo"],
		"pBillBatchCode": "35062601", "pBillNo": "1", "placeCode": "H01", "operator": "林小燕"}); code != "S0000" {
		t.Fatalf("turnPaper: %s %v", code, m)
	}
	if code, m := call("invalidPaper", map[string]any{"pBillBatchCode": "35062601", "pBillNo": "1", "placeCode": "H01",
		"author": "林小燕", "reason": "打印错误"}); code != "S0000" || m["eScarletBillNo"] == nil {
		t.Fatalf("invalidPaper: %s %v", code, m)
	}
	var third map[string]any
	for i := 3; i <= 5; i++ {
		_, m := call("invoiceEBillOutpatient", settlement(fmt.Sprintf("E2E-%d", i)))
		if i == 3 {
			third = m
		}
	}
	// Blue bills count on their business day (the examples' busDateTime),
	// red bills on the day they are made (a Beijing date).
	const busDay = "20261125"
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("20060102")
	page := func(no string) (float64, int) {
		_, m := call("getBillByBusDate", map[string]string{"busBgnDate": busDay, "busEndDate": busDay, "placeCode": "H01",
			"dataType": "1", "pageNo": no, "pageSize": "2"})
		list, _ := m["billList"].([]any)
		total, _ := m["total"].(float64)
		return total, len(list)
	}
	if total, n := page("3"); total != 5 || n != 1 {
		t.Fatalf("page 3 of 2: total %v, %d rows", total, n)
	}

	// SIGKILL and restart: every bill is still there and still chained.
	// The restart has no --public-url: QR codes then point at the server's
	// own address, and it warns that only this machine can reach it.
	serve.Process.Signal(syscall.SIGKILL)
	serve.Wait()
	serve = start()
	if !serveErr.waitFor("未设置 --public-url", 5*time.Second) || !strings.Contains(serveErr.String(), "https://"+addr) {
		t.Errorf("no warning about the loopback public address:\n%s", serveErr.String())
	}
	if total, _ := page("1"); total != 5 {
		t.Fatalf("after SIGKILL: %v bills", total)
	}
	resp, err := client.Get("https://" + addr + "/v?c=35060126&n=" + fmt.Sprint(first["billNo"]) + "&k=000000")
	if err != nil {
		t.Fatal(err)
	}
	page2, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page2), "查无此票") {
		t.Fatal("a wrong check code was verified")
	}

	// Every other service id, against the restarted process.
	ok := func(service string, req any) map[string]any {
		t.Helper()
		code, m := call(service, req)
		if code != "S0000" {
			t.Fatalf("%s %v: %s %v", service, req, code, m)
		}
		return m
	}
	for _, want := range []struct{ service, file, code string }{
		{"invoiceEBillOutpatient", "outpatient.json", "35060126"},
		{"invEBillHospitalized", "inpatient.json", "35060226"},
		{"invEBillRegistration", "registration.json", "35060126"},
		{"invEBillCheckUp", "exam.json", "35060126"},
	} {
		req := example(want.file, "E2E-"+want.service)
		if want.service == "invEBillHospitalized" {
			// nhis appends a 货币误差 line whose code is a 32-character UUID
			// (the table says 30): the bill is issued and the code kept.
			req["listDetail"] = []any{
				map[string]any{"chargeCode": "01", "code": "CW001", "name": "普通病房床位", "std": "83.3333", "number": "3", "amt": "249.9999"},
				map[string]any{"chargeCode": "01", "code": "3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f", "name": "货币误差", "amt": "0.0001"},
			}
			// The inpatient fields of the reference, once dropped.
			req["category"], req["leaveCategory"], req["hospitalArea"] = "儿科", "新生儿科", "儿科二病区"
			delete(req, "patientWard")
		}
		// Every issue service carries the deposit fields and departments
		// of the reference and answers them back.
		req["cashPay"], req["cashRecharge"], req["cashRefund"] = "3000.00", "50.00", "123.45"
		m := ok(want.service, req)
		if d := ok("getBillDetail", map[string]any{"billBatchCode": m["billBatchCode"], "billNo": m["billNo"]}); d["cashPay"] != "3000.00" ||
			d["cashRecharge"] != "50.00" || d["cashRefund"] != "123.45" {
			t.Fatalf("%s: the deposit fields are not answered back: %v", want.service, d)
		}
		if want.service == "invEBillHospitalized" {
			d := ok("getBillDetail", map[string]any{"billBatchCode": m["billBatchCode"], "billNo": m["billNo"]})
			if !strings.Contains(fmt.Sprint(d), "3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f") {
				t.Fatalf("the 32-character detail code was not kept: %v", d)
			}
			if d["cashPay"] != "3000.00" || d["cashRecharge"] != "50.00" || d["cashRefund"] != "123.45" || d["category"] != "儿科" ||
				d["leaveCategory"] != "新生儿科" || d["ward"] != "儿科二病区" || d["caseNumber"] != "BL0009876" {
				t.Fatalf("the inpatient fields are not answered back: %v", d)
			}
		}
		if m["billBatchCode"] != want.code || len(fmt.Sprint(m["billNo"])) != 10 || len(fmt.Sprint(m["billQRCode"])) < 100 ||
			!strings.HasPrefix(fmt.Sprint(m["pictureUrl"]), "https://"+addr+"/v?") || m["pictureNetUrl"] != m["pictureUrl"] {
			t.Fatalf("%s: %v", want.service, m)
		}
	}
	if st := ok("getEBillStatesByBillInfo", map[string]any{"billBatchCode": first["billBatchCode"], "billNo": first["billNo"]}); st["state"] != "2" {
		t.Fatalf("state of the reversed bill: %v", st)
	}
	// 9 blue bills (6 outpatient, one of each other kind), 2 red (a write-off and a paper void).
	if m := ok("checkTotalData", map[string]string{"placeCode": "H01", "busDate": busDay}); m["allTotalNum"] != "9" {
		t.Fatalf("checkTotalData: %v", m)
	}
	if m := ok("checkWriteOffData", map[string]string{"placeCode": "H01", "busDate": today}); m["allTotalNum"] != "2" {
		t.Fatalf("checkWriteOffData: %v", m)
	}
	// A patient record whose resident ID has a wrong check digit: the bill
	// is issued with the number as sent, the server logs and counts it.
	typo := settlement("E2E-IDTYPO")
	typo["idCardNo"], typo["busDateTime"] = "350203198503122016", time.Now().In(time.FixedZone("CST", 8*3600)).Format("20060102150405")+"000"
	if m := ok("invoiceEBillOutpatient", typo); len(fmt.Sprint(m["billNo"])) != 10 {
		t.Fatalf("ID typo: %v", m)
	}
	if !serveErr.waitFor("his call with warnings", 5*time.Second) || !strings.Contains(serveErr.String(), "校验位") ||
		strings.Contains(serveErr.String(), "350203198503122016") {
		t.Errorf("the warning is not in the log (or the ID is there unmasked):\n%s", serveErr.String())
	}
	if resp, err := client.Get("https://" + addr + "/metrics"); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `ebill_his_warnings_total{service="invoiceEBillOutpatient"} 1`) {
			t.Errorf("warnings metric:\n%s", body)
		}
	}
	// Today's reconciliation: checkTotalData counts the day's red bills
	// (negative) with its blue one, so checkTotalData − checkWriteOffData
	// is the day's charges — the one bill issued today — as iih computes it.
	all := ok("checkTotalData", map[string]string{"placeCode": "H01", "busDate": today})
	refunds := ok("checkWriteOffData", map[string]string{"placeCode": "H01", "busDate": today})
	if all["allTotalNum"] != "3" || all["allTotalAmt"] != "-123.45" || refunds["allTotalNum"] != "2" || refunds["allTotalAmt"] != "-246.90" {
		t.Fatalf("today: checkTotalData %v, checkWriteOffData %v; want 3 bills −123.45 and 2 bills −246.90 (charges 1 bill, 123.45)", all, refunds)
	}
	// GBK text from an older HIS is refused (E1011), not signed as U+FFFD.
	gbk, _ := json.Marshal(settlement("E2E-GBK"))
	gbk = bytes.Replace(gbk, []byte("张三"), []byte("\xd5\xc5\xc8\xfd"), 1)
	if code, m := call("invoiceEBillOutpatient", gbk); code != "E1011" || !strings.Contains(fmt.Sprint(m["text"]), "UTF-8") {
		t.Fatalf("GBK: %s %v", code, m)
	}
	if code, _ := call("getEBillByBusNo", map[string]string{"busNo": "E2E-GBK"}); code != "E2003" {
		t.Fatalf("the GBK request stored a bill: %s", code)
	}
	unprinted := fmt.Sprint(ok("getEBillUnPrintList", map[string]string{"cardNo": "M0012345678"}))
	if !strings.Contains(unprinted, fmt.Sprint(third["billNo"])) || strings.Contains(unprinted, fmt.Sprint(first["billNo"])) {
		t.Fatalf("kiosk list: %s", unprinted)
	}
	d := ok("getBillDetail", map[string]any{"billBatchCode": third["billBatchCode"], "billNo": third["billNo"]})
	if st, _ := d["settlement"].(map[string]any); st["payer"] != "张三" || d["state"] != "1" {
		t.Fatalf("detail: %v", d)
	}
	if m := fmt.Sprint(ok("getValidBillBatchCode", map[string]string{"placeCode": "H01"})); !strings.Contains(m, "35062601") {
		t.Fatalf("paper codes: %s", m)
	}
	paperNo := func() string {
		return fmt.Sprint(ok("getPaperBillNo", map[string]string{"placeCode": "H01", "pBillBatchCode": "35062601"})["pBillNo"])
	}
	if no := paperNo(); no != "0000000002" {
		t.Fatalf("paper in the printer: %s", no)
	}
	turn := func(no string) map[string]any {
		return map[string]any{"billBatchCode": third["billBatchCode"], "billNo": third["billNo"], "pBillBatchCode": "35062601",
			"pBillNo": no, "placeCode": "H01", "operator": "林小燕"}
	}
	ok("turnPaper", turn("2"))
	ok("reTurnPaper", turn("3"))
	ok("invalidBlankBillNo", map[string]string{"pBillBatchCode": "35062601", "pBillNoStart": "4", "pBillNoEnd": "5",
		"placeCode": "H01", "author": "林小燕", "reason": "走纸"})
	if no := paperNo(); no != "0000000006" {
		t.Fatalf("paper in the printer after a reprint and two blank voids: %s", no)
	}
	person := func(bus, name string) map[string]any {
		m := example("exam.json", bus)
		m["payer"] = name
		delete(m, "idCardNo")
		return m
	}
	if m := ok("invEBillCheckUpBatch", map[string]any{"placeCode": "H01", "batchNo": "E2E-ACME",
		"items": []any{person("E2E-TJ1", "张三"), person("E2E-TJ2", "李四")}}); m["count"] != float64(2) {
		t.Fatalf("exam batch: %v", m)
	}
	// Our getEBillFile (issue 21): the bill as OFD, through the running server.
	if m := ok("getEBillFile", map[string]any{"billBatchCode": third["billBatchCode"], "billNo": third["billNo"], "fileType": "ofd"}); m["fileType"] != "OFD" {
		t.Fatalf("getEBillFile: %v", m["fileType"])
	} else {
		data, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["fileData"]))
		if err != nil {
			t.Fatal(err)
		}
		if meta := ofdcheck.Must(t, data).Files["OFD.xml"]; !bytes.Contains(meta, []byte(fmt.Sprintf(`Name="票据号码">%s<`, third["billNo"]))) {
			t.Fatalf("getEBillFile's OFD.xml: %s", meta)
		}
	}
	if total, _ := page("1"); total != 11 {
		t.Fatalf("%v blue bills at the end, want 11", total)
	}

	// The joint-debugging tool: one call as the HIS app makes it, and one with a wrong key.
	var tlsInfo struct{ Fingerprint string }
	json.Unmarshal(admin("tls", "fingerprint"), &tlsInfo)
	hisCall := []string{"his-app", "call", "--url", "https://" + addr, "--fingerprint", tlsInfo.Fingerprint, "--appid", "HIS01",
		"--service", "invoiceEBillOutpatient", "--file", "../../examples/outpatient.json", "--set", "placeCode=H01", "--set", "busNo=E2E-CLI"}
	var answer struct {
		Result  string
		Signed  bool
		Message map[string]any
	}
	json.Unmarshal(admin(hisCall...), &answer)
	if answer.Result != "S0000" || !answer.Signed || len(fmt.Sprint(answer.Message["billNo"])) != 10 {
		t.Fatalf("his-app call: %+v", answer)
	}
	wrong := exec.Command(bin, append([]string{"--json"}, append(hisCall, "--key", "not-the-key-0123456789")...)...)
	out, err := wrong.Output()
	answer.Result, answer.Signed = "", true
	json.Unmarshal(out, &answer)
	if err == nil || answer.Result != "E1003" || answer.Signed {
		t.Fatalf("his-app call with a wrong key: %v %s", err, out)
	}
	admin("audit", "verify") // the audit chain holds after the kill (exits non-zero otherwise)
}

// postHIS makes one call of the medical API as a HIS client does (a
// signed envelope around raw) and checks the answer's signature; it
// returns the result code and the decoded message.
func postHIS(t *testing.T, client *http.Client, addr, service string, raw []byte, noise string) (string, []byte) {
	t.Helper()
	resp, err := client.Post("https://"+addr+"/medical-web/api/medical/"+service, "application/json", bytes.NewReader(hisEnvelope(raw, noise)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct{ Data, Noise, Sign string }
	json.NewDecoder(resp.Body).Decode(&env)
	rs := md5.Sum([]byte("appid=HIS01&data=" + env.Data + "&noise=" + env.Noise + "&key=his-vendor-secret-key&version=1.0"))
	if env.Sign != strings.ToUpper(hex.EncodeToString(rs[:])) {
		t.Fatalf("%s: response sign", service)
	}
	dec, _ := base64.StdEncoding.DecodeString(env.Data)
	var res struct{ Result, Message string }
	json.Unmarshal(dec, &res)
	msg, _ := base64.StdEncoding.DecodeString(res.Message)
	return res.Result, msg
}

// hisEnvelope is a HIS01 request around raw, signed as HIS clients sign.
func hisEnvelope(raw []byte, noise string) []byte {
	d := base64.StdEncoding.EncodeToString(raw)
	sum := md5.Sum([]byte("appid=HIS01&data=" + d + "&noise=" + noise + "&key=his-vendor-secret-key&version=1.0"))
	body, _ := json.Marshal(map[string]string{"appid": "HIS01", "data": d, "noise": noise, "version": "1.0",
		"sign": strings.ToUpper(hex.EncodeToString(sum[:]))})
	return body
}

// hisExample is an example settlement as a HIS sends it for the server
// point H01 under busNo: amounts and the 19-digit patientNo as written.
func hisExample(t *testing.T, file, bus string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../../examples/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["busNo"], m["placeCode"] = bus, "H01"
	return m
}

// setupHISServer builds ebill-server and sets up a data directory with the
// administrator's commands: the unit, e-bill and paper stock, the server
// point H01 with paper, and the HIS app HIS01 (appArgs add to its
// his-app add). It returns the binary, the directory and the command runner.
func setupHISServer(t *testing.T, appArgs ...string) (bin, data string, admin func(args ...string) []byte) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "ebill-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data = t.TempDir()
	h := newAdminHarness(t, bin, data)
	admin = h.run
	admin("unit", "set", "--name", "厦门市海沧区第一医院", "--credit-code", "123502004266001233")
	admin("stock", "receive", "--kind", "einvoice", "--code", "35060126", "--from", "0000000001", "--to", "0000100000")
	admin("stock", "receive", "--kind", "einvoice", "--code", "35060226", "--from", "0000000001", "--to", "0000100000")
	admin("stock", "receive", "--kind", "einvoice", "--code", "35060726", "--from", "0000000001", "--to", "0000100000")
	admin("kind", "set", "--kind", "deposit", "--code", "35060726")
	admin("stock", "receive", "--kind", "einvoice", "--code", "35060826", "--from", "0000000001", "--to", "0000100000")
	admin("kind", "set", "--kind", "transfer", "--code", "35060826")
	admin("stock", "receive", "--kind", "paper", "--code", "35062601", "--from", "0000000001", "--to", "0000001000")
	admin("point", "add", "H01", "--name", "HIS门诊开票", "--kind", "server")
	admin(append([]string{"his-app", "add", "--appid", "HIS01", "--points", "H01", "--name", "演示HIS"}, appArgs...)...)
	admin("paper", "assign", "--point", "H01", "--code", "35062601", "--count", "100")
	return bin, data, admin
}

// syncBuffer is a process's output, read while the process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// waitFor reports whether s appears in the output within d.
func (b *syncBuffer) waitFor(s string, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.String(), s) {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// checkTimestamps: every time an answer gives is yyyyMMddHHmmssSSS, the
// 17 digits HIS clients parse (domain.md §5; openhis throws on a shorter
// billBusDate after the bill exists). The settlement's own dates
// (consultationDate, inHospitalDate, outHospitalDate) are as the
// reference has them, and the check services' day is yyyy-MM-dd.
func checkTimestamps(t *testing.T, service, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch k {
			case "consultationDate", "inHospitalDate", "outHospitalDate":
				continue
			}
			if s, ok := x.(string); ok && path == "" && strings.HasPrefix(service, "check") && (k == "busDate" || k == "ivcDate") {
				// The check services' day is a date, yyyy-MM-dd (bosssoft-v3.md §11).
				if _, err := time.Parse("2006-01-02", s); err != nil {
					t.Errorf("%s: %s = %q is not yyyy-MM-dd", service, k, s)
				}
				continue
			}
			if s, ok := x.(string); ok && (strings.HasSuffix(k, "Time") || strings.HasSuffix(k, "Date")) {
				if _, err := time.Parse("20060102150405.000", s[:min(14, len(s))]+"."+s[min(14, len(s)):]); err != nil || len(s) != 17 {
					t.Errorf("%s: %s%s = %q is not yyyyMMddHHmmssSSS", service, path, k, s)
				}
			}
			checkTimestamps(t, service, path+k+".", x)
		}
	case []any:
		for i, x := range v {
			checkTimestamps(t, service, fmt.Sprintf("%s[%d].", path, i), x)
		}
	}
}

// hisSamples records the first call of each service id (and of each
// failure code) as it went over the wire, for the appendix of
// docs/his-integration.md: `make his-samples` runs the test with
// EBILL_HIS_SAMPLES set to the appendix's file.
type hisSamples struct {
	failed bool
	path   string
	seen   map[string]bool
	order  []string
	text   map[string]string
}

func newHISSamples(path string) *hisSamples {
	return &hisSamples{path: path, seen: map[string]bool{}, text: map[string]string{}}
}

func (h *hisSamples) add(service string, request []byte, result string, message []byte) {
	key := service
	if result != "S0000" {
		key += " " + result
	}
	if h.path == "" || h.seen[key] {
		return
	}
	h.seen[key] = true
	h.order = append(h.order, key)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n业务请求（`data` 解码后）：\n\n```json\n%s\n```\n\n", key, readableJSON(showBytes(request)))
	if result == "S0000" {
		fmt.Fprintf(&b, "返回 `result` 为 `S0000`，`message` 解码后：\n\n```json\n%s\n```\n\n", readableJSON(message))
	} else {
		fmt.Fprintf(&b, "返回 `result` 为 `%s`，`message` 解码后：\n\n```\n%s\n```\n\n", result, message)
	}
	h.text[key] = b.String()
}

// showBytes writes bytes that are not UTF-8 (a GBK request) as a visible
// marker, so that the samples file stays UTF-8.
func showBytes(raw []byte) []byte {
	if utf8.Valid(raw) {
		return raw
	}
	var out bytes.Buffer
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&out, "<GBK 字节 %X>", raw[0])
			raw = raw[1:]
			continue
		}
		out.Write(raw[:n])
		raw = raw[n:]
	}
	return out.Bytes()
}

// allSamples collects the samples of TestHISEndToEnd and
// TestHISReferenceWalk (every service id); TestMain writes them when the
// run passed.
var allSamples = newHISSamples(os.Getenv("EBILL_HIS_SAMPLES"))

// hisSamplesOf is the collector a test records into; a failed test makes
// the run write nothing.
func hisSamplesOf(t *testing.T) *hisSamples {
	t.Cleanup(func() {
		if t.Failed() {
			allSamples.failed = true
		}
	})
	return allSamples
}

func (h *hisSamples) write() error {
	if h.path == "" || h.failed {
		return nil
	}
	var b strings.Builder
	b.WriteString("<!-- 由 make his-samples 从一次真实调用生成（cmd/ebill-server/his_e2e_test.go、his_reference_test.go），请勿手工修改。 -->\n")
	b.WriteString("# 附录 A：各服务的请求与返回示例\n\n")
	b.WriteString("以下是测试服务器上一次真实调用的业务 JSON（请求的 `data`、返回的 `message` 都已 Base64 解码）。" +
		"信封、签名见《HIS 接口对接说明》第 2 节。票据号码、校验码、时间等以实际返回为准。\n\n")
	for _, key := range h.order {
		b.WriteString(h.text[key])
	}
	return os.WriteFile(h.path, []byte(b.String()), 0o644)
}
