package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/internal/ofdcheck"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/api"
	"github.com/ebill/ebill/server/his"
)

// TestMedicalSignGoldenVectors: the signature of fixed values, worked out
// outside the code under test (Python's hashlib gave the hex digests).
func TestMedicalSignGoldenVectors(t *testing.T) {
	v := map[string]string{"appid": "ebillhis01", "data": "eyJhIjoxfQ==", "noise": "20261125093015123",
		"key": "0123456789abcdef0123", "version": "1.0", "region": "350200", "deptcode": "01"}
	if got := his.MedicalSign(server.DefaultSignOrder, v); got != "5BF950342ABACC3524945B0E6EAC6036" {
		t.Fatalf("default order: %s", got)
	}
	order := append([]string{"region", "deptcode"}, server.DefaultSignOrder...)
	if got := his.MedicalSign(order, v); got != "A092D0644B94507D7DF6D011301628A6" {
		t.Fatalf("region and deptcode first: %s", got)
	}
}

const (
	hisAppID = "his-demo"
	hisKey   = "k3y-0f-the-his-vendor"
)

// hisSign signs like a HIS client does, written here independently.
func hisSign(appid, data, noise, key, version string) string {
	sum := md5.Sum([]byte("appid=" + appid + "&data=" + data + "&noise=" + noise + "&key=" + key + "&version=" + version))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

type hisClient struct {
	t     *testing.T
	url   string
	appid string
	key   string
	n     int
}

// call sends one request; it returns the result code, the decoded message
// (business JSON or error text) and whether the response's sign is right.
func (c *hisClient) call(service string, business any, mutate ...func(map[string]string)) (string, []byte) {
	c.t.Helper()
	raw, _ := json.Marshal(business)
	if s, ok := business.(string); ok {
		raw = []byte(s)
	}
	c.n++
	env := map[string]string{"appid": c.appid, "data": base64.StdEncoding.EncodeToString(raw),
		"noise": "20261125" + strings.Repeat("0", 6) + string(rune('0'+c.n%10)) + string(rune('a'+c.n/10%26)) + "x", "version": "1.0"}
	env["sign"] = hisSign(env["appid"], env["data"], env["noise"], c.key, env["version"])
	for _, m := range mutate {
		m(env)
	}
	body, _ := json.Marshal(env)
	resp, err := http.Post(c.url+his.MedicalPathPrefix+service, "application/json", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d", service, resp.StatusCode)
	}
	var out his.MedicalResponse
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		c.t.Fatalf("%s: %v\n%s", service, err, data)
	}
	if out.Sign != "" && out.Sign != hisSign(c.appid, out.Data, out.Noise, c.key, "1.0") {
		c.t.Fatalf("%s: the response's sign is wrong", service)
	}
	var res his.MedicalResult
	decoded, _ := base64.StdEncoding.DecodeString(out.Data)
	if err := json.Unmarshal(decoded, &res); err != nil {
		c.t.Fatalf("%s: data %q: %v", service, decoded, err)
	}
	msg, _ := base64.StdEncoding.DecodeString(res.Message)
	return res.Result, msg
}

// hisServer is a store set up for the HIS interface — a unit with stock, a
// server point H01, the app his-demo — behind the real handler.
func hisServer(t *testing.T, s *server.Store) (context.Context, *api.API, *httptest.Server, *hisClient) {
	t.Helper()
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local", System: true})
	setupUnit(t, s)
	must(t, s.AddPoint(ctx, "H01", "HIS 门诊开票", server.PointServer))
	must(t, s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}}, hisKey))
	h := api.New(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	his.Mount(h, s)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	h.SetPublicURL(ts.URL)
	return ctx, h, ts, &hisClient{t: t, url: ts.URL, appid: hisAppID, key: hisKey}
}

func outpatientForHIS(t *testing.T, busNo string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../examples/outpatient.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["busNo"], m["placeCode"] = busNo, "H01"
	return m
}

func TestMedicalAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, h, ts, c := hisServer(t, s)
		must(t, s.AddPoint(ctx, "H02", "另一院区", server.PointServer))
		h.SetPublicURL("https://pj.example-hospital.cn")
		count := func() int {
			list, err := s.LedgerBills(ctx, server.LedgerFilter{Limit: 1000})
			must(t, err)
			return len(list)
		}

		// Issue; a retry with the same busNo returns the first bill.
		code, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "HIS0001"))
		if code != his.ResultOK {
			t.Fatalf("issue: %s %s", code, msg)
		}
		var first map[string]string
		json.Unmarshal(msg, &first)
		if first["billBatchCode"] != "35060126" || len(first["billNo"]) != 10 || len(first["random"]) != 6 ||
			len(first["createTime"]) != 17 || first["billQRCode"] == "" || !strings.HasPrefix(first["pictureUrl"], "https://pj.example-hospital.cn/v?") {
			t.Fatalf("issue response %v", first)
		}
		png, _ := base64.StdEncoding.DecodeString(first["billQRCode"])
		if !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatal("billQRCode is not a PNG")
		}
		code, msg = c.call("invoiceEBillOutpatient", outpatientForHIS(t, "HIS0001"))
		var again map[string]string
		json.Unmarshal(msg, &again)
		if code != his.ResultOK || again["billNo"] != first["billNo"] || count() != 1 {
			t.Fatalf("retry: %s %v, %d bills", code, again, count())
		}
		// The same busNo with other content is refused.
		other := outpatientForHIS(t, "HIS0001")
		other["payer"] = "李四"
		if code, msg = c.call("invoiceEBillOutpatient", other); code != his.ResultConflict || count() != 1 {
			t.Fatalf("same busNo, other content: %s %s", code, msg)
		}
		// A lost response: ask by busNo.
		code, msg = c.call("getEBillByBusNo", map[string]string{"busNo": "HIS0001", "busDateTime": "20261125093015123"})
		var found map[string]string
		json.Unmarshal(msg, &found)
		if code != his.ResultOK || found["billNo"] != first["billNo"] || found["random"] != first["random"] {
			t.Fatalf("getEBillByBusNo: %s %s", code, msg)
		}
		if code, _ = c.call("getEBillByBusNo", map[string]string{"busNo": "NOPE"}); code != his.ResultNotFound {
			t.Fatalf("unknown busNo: %s", code)
		}
		// Reverse once; the second time says 已冲销.
		wo := map[string]string{"billBatchCode": first["billBatchCode"], "billNo": first["billNo"], "reason": "退费", "operator": "林小燕",
			"busDateTime": "20261125103015123", "placeCode": "H01"}
		code, msg = c.call("writeOffEBill", wo)
		var red map[string]string
		json.Unmarshal(msg, &red)
		if code != his.ResultOK || red["eScarletBillNo"] == "" || count() != 2 {
			t.Fatalf("writeOffEBill: %s %s", code, msg)
		}
		code, msg = c.call("writeOffEBill", wo)
		if code != his.ResultReversed || !strings.Contains(string(msg), "已冲销") || count() != 2 {
			t.Fatalf("second writeOffEBill: %s %s", code, msg)
		}
		code, msg = c.call("getEBillStatesByBillInfo", map[string]string{"billBatchCode": first["billBatchCode"], "billNo": first["billNo"]})
		if code != his.ResultOK || !strings.Contains(string(msg), `"isScarlet":"1"`) || !strings.Contains(string(msg), `"state":"2"`) {
			t.Fatalf("state: %s %s", code, msg)
		}
		// What the server issued verifies like a station's upload: the chain of H01 holds two bills.
		p, err := s.Point(ctx, "H01")
		must(t, err)
		if p.ChainSeq != 2 {
			t.Fatalf("H01 chain at %d", p.ChainSeq)
		}

		// Failures: each its own code, nothing stored.
		before := count()
		for _, tc := range []struct {
			name, service string
			business      any
			mutate        func(map[string]string)
			want          string
		}{
			{"wrong sign", "invoiceEBillOutpatient", outpatientForHIS(t, "HIS0002"), func(e map[string]string) { e["sign"] = strings.Repeat("0", 32) }, his.ResultBadSign},
			{"unknown appid", "invoiceEBillOutpatient", outpatientForHIS(t, "HIS0002"), func(e map[string]string) { e["appid"] = "nobody" }, his.ResultUnknownApp},
			{"unknown service", "makeMeRich", map[string]string{}, nil, his.ResultUnknownSvc},
			{"bad base64", "invoiceEBillOutpatient", nil, func(e map[string]string) {
				e["data"] = "%%%not base64%%%"
				e["sign"] = hisSign(e["appid"], e["data"], e["noise"], hisKey, e["version"])
			}, his.ResultBadBase64},
			{"bad JSON", "invoiceEBillOutpatient", "{not json", nil, his.ResultBadData},
			{"another point", "invoiceEBillOutpatient", func() map[string]any { m := outpatientForHIS(t, "HIS0003"); m["placeCode"] = "H02"; return m }(), nil, his.ResultNotYourPoint},
			{"totals wrong", "invoiceEBillOutpatient", func() map[string]any { m := outpatientForHIS(t, "HIS0004"); m["totalAmt"] = "999.99"; return m }(), nil, his.ResultInvalid},
		} {
			var mut []func(map[string]string)
			if tc.mutate != nil {
				mut = append(mut, tc.mutate)
			}
			if code, msg := c.call(tc.service, tc.business, mut...); code != tc.want {
				t.Errorf("%s: %s %s, want %s", tc.name, code, msg, tc.want)
			}
		}
		// A replayed noise is refused.
		replay := func(e map[string]string) {
			e["noise"] = "fixed-noise-0001"
			e["sign"] = hisSign(e["appid"], e["data"], e["noise"], hisKey, e["version"])
		}
		if code, _ := c.call("getEBillByBusNo", map[string]string{"busNo": "HIS0001"}, replay); code != his.ResultOK {
			t.Fatalf("first use of a noise: %s", code)
		}
		if code, _ := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "HIS0005"), replay); code != his.ResultReplay {
			t.Fatalf("replayed noise: %s", code)
		}
		if n := count(); n != before {
			t.Fatalf("failures stored bills: %d → %d", before, n)
		}
		// A body over the limit.
		big := bytes.Repeat([]byte("x"), his.MaxMedicalBodyBytes+10)
		resp, err := http.Post(ts.URL+his.MedicalPathPrefix+"invoiceEBillOutpatient", "application/json", bytes.NewReader(big))
		must(t, err)
		var out his.MedicalResponse
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		decoded, _ := base64.StdEncoding.DecodeString(out.Data)
		if resp.StatusCode != 200 || !strings.Contains(string(decoded), his.ResultTooLarge) {
			t.Fatalf("a body over the limit: %d %s", resp.StatusCode, decoded)
		}
	})
}

func TestVerificationPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, _, c := hisServer(t, s)
		_, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "HIS0100"))
		var issued map[string]string
		json.Unmarshal(msg, &issued)
		get := func(url string) string {
			resp, err := http.Get(url)
			must(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		page := get(issued["pictureUrl"]) // the QR code's link
		if !strings.Contains(page, issued["billNo"]) || !strings.Contains(page, `id="state">正常`) || !strings.Contains(page, "张*") {
			t.Fatalf("the QR link's page:\n%s", page)
		}
		// The QR link's page offers the bill's PDF and OFD (issue 21).
		link := func(page, id string) string {
			m := regexp.MustCompile(`id="` + id + `" href="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				return ""
			}
			return html.UnescapeString(m[1])
		}
		base := issued["pictureUrl"][:strings.Index(issued["pictureUrl"], "/v?")]
		fetch := func(u string) (int, string, []byte) {
			resp, err := http.Get(u)
			must(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Content-Type"), b
		}
		pdfLink, ofdLink := link(page, "pdf"), link(page, "ofd")
		if status, ctype, pdf := fetch(base + pdfLink); pdfLink == "" || status != 200 || ctype != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("the page's PDF %q: %d %s", pdfLink, status, ctype)
		}
		status, ctype, ofd := fetch(base + ofdLink)
		if ofdLink == "" || status != 200 || ctype != "application/ofd" {
			t.Fatalf("the page's OFD %q: %d %s", ofdLink, status, ctype)
		}
		if p := ofdcheck.Must(t, ofd); !bytes.Contains(p.Files["OFD.xml"], []byte(`Name="票据号码">`+issued["billNo"]+`<`)) {
			t.Fatalf("the page's OFD: %s", p.Files["OFD.xml"])
		}
		// Typed in by hand (no token), the page confirms the bill but hands
		// out no file; a file link without its token or with another is
		// not found.
		byHand := base + "/v?c=" + issued["billBatchCode"] + "&n=" + issued["billNo"] + "&k=" + issued["random"]
		if page := get(byHand); !strings.Contains(page, `id="state">正常`) || strings.Contains(page, `id="pdf"`) {
			t.Fatalf("typed in by hand:\n%s", page)
		}
		for _, u := range []string{base + "/v/file?c=" + issued["billBatchCode"] + "&n=" + issued["billNo"] + "&k=" + issued["random"] + "&t=pdf",
			base + regexp.MustCompile(`s=[0-9a-f]+`).ReplaceAllString(pdfLink, "s=00000000")} {
			if status, _, body := fetch(u); status != 404 || !strings.Contains(string(body), "查无此票") {
				t.Fatalf("%s: %d %s", u, status, body)
			}
		}
		wrong := strings.Replace(issued["pictureUrl"], "k="+issued["random"], "k=000000", 1)
		if page := get(wrong); !strings.Contains(page, "查无此票") || strings.Contains(page, issued["billNo"]) {
			t.Fatalf("a wrong check code shows:\n%s", page)
		}
		edited := strings.Replace(issued["pictureUrl"], "a=123.45", "a=1.00", 1)
		if page := get(edited); !strings.Contains(page, "查无此票") {
			t.Fatal("an edited amount was confirmed")
		}
		// Converted to paper: still valid, and the page names the paper to reimburse with.
		ctx := context.Background()
		_, err := s.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 100})
		must(t, err)
		_, err = s.AssignPaper(ctx, "H01", "35062601", 10)
		must(t, err)
		if code, msg := c.call("turnPaper", map[string]string{"billBatchCode": issued["billBatchCode"], "billNo": issued["billNo"],
			"pBillBatchCode": "35062601", "pBillNo": "1", "placeCode": "H01", "operator": "林小燕"}); code != his.ResultOK {
			t.Fatalf("turnPaper: %s %s", code, msg)
		}
		if page := get(issued["pictureUrl"]); !strings.Contains(page, `class="state ok" id="state">正常（已换开纸质票据）`) ||
			!strings.Contains(page, `id="paper">35062601 0000000001`) || !strings.Contains(page, "请凭纸质票据报销") {
			t.Fatalf("on paper:\n%s", page)
		}
		if status, _, _ := fetch(base + pdfLink); status != 404 || strings.Contains(get(issued["pictureUrl"]), `id="pdf"`) {
			t.Fatalf("on paper the e-bill is still handed out: %d", status)
		}
		c.call("writeOffEBill", map[string]string{"billBatchCode": issued["billBatchCode"], "billNo": issued["billNo"], "reason": "退费"})
		if page := get(issued["pictureUrl"]); !strings.Contains(page, `class="state bad" id="state">已冲红`) || strings.Contains(page, `id="paper"`) {
			t.Fatalf("after reversal (which voids the paper):\n%s", page)
		}
	})
}

// TestMedicalQueries: the reconciliation calls count by business day, as
// HIS does — three settlements made at 23:59:59 yesterday whose bills are
// issued today belong to yesterday; a refund (red bill) belongs to the
// day it is made.
func TestMedicalQueries(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, _, c := hisServer(t, s)
		now := time.Now().In(bill.Beijing)
		today, yesterday := now.Format("20060102"), now.AddDate(0, 0, -1).Format("20060102")
		var issued []map[string]string
		for _, bus := range []string{"Q1", "Q2", "Q3"} {
			m := outpatientForHIS(t, bus)
			m["busDateTime"] = yesterday + "235959500"
			code, msg := c.call("invoiceEBillOutpatient", m)
			var out map[string]string
			json.Unmarshal(msg, &out)
			// billBusDate is the settlement's time in the 17-digit form
			// HIS parses (yyyyMMddHHmmssSSS), not the 8-digit day.
			if code != his.ResultOK || out["billBusDate"] != yesterday+"235959500" {
				t.Fatalf("issue %s: %s %s", bus, code, msg)
			}
			issued = append(issued, out)
		}
		code, msg := c.call("writeOffEBill", map[string]string{"billBatchCode": issued[1]["billBatchCode"], "billNo": issued[1]["billNo"], "reason": "退费"})
		var red map[string]string
		json.Unmarshal(msg, &red)
		if code != his.ResultOK || len(red["billBusDate"]) != 17 || red["billBusDate"][:8] != today {
			t.Fatalf("write-off: %s %s", code, msg)
		}
		for _, f := range []string{"createTime", "billBusDate"} {
			if _, err := time.ParseInLocation("20060102150405.000", red[f][:14]+"."+red[f][14:], bill.Beijing); err != nil || len(red[f]) != 17 {
				t.Fatalf("write-off %s %q is not yyyyMMddHHmmssSSS", f, red[f])
			}
		}
		list := func(day, dataType, page string) (int, []map[string]any) {
			code, msg := c.call("getBillByBusDate", map[string]string{"busBgnDate": day, "busEndDate": day, "placeCode": "H01",
				"dataType": dataType, "pageNo": page, "pageSize": "2"})
			if code != his.ResultOK {
				t.Fatalf("getBillByBusDate %s: %s %s", dataType, code, msg)
			}
			var out struct {
				Total    int              `json:"total"`
				BillList []map[string]any `json:"billList"`
			}
			json.Unmarshal(msg, &out)
			return out.Total, out.BillList
		}
		if total, rows := list(yesterday, "1", "1"); total != 3 || len(rows) != 2 {
			t.Fatalf("normal bills, page 1: %d %v", total, rows)
		}
		if total, rows := list(yesterday, "1", "2"); total != 3 || len(rows) != 1 {
			t.Fatalf("normal bills, page 2: %d %v", total, rows)
		}
		if total, rows := list(today, "1", "1"); total != 0 {
			t.Fatalf("normal bills of today, their issue day: %d %v", total, rows)
		}
		if total, rows := list(today, "2", "1"); total != 1 || rows[0]["isScarlet"] != "1" || rows[0]["totalAmt"] != "-123.45" {
			t.Fatalf("red bills: %d %v", total, rows)
		}
		if total, _ := list(yesterday, "2", "1"); total != 0 {
			t.Fatalf("%d red bills yesterday", total)
		}
		if code, _ := c.call("getBillByBusDate", map[string]string{"busBgnDate": today, "busEndDate": today, "pageSize": "500"}); code != his.ResultInvalid {
			t.Fatalf("pageSize 500: %s", code)
		}
		totals := func(service, day, busType string) map[string]string {
			code, msg := c.call(service, map[string]string{"placeCode": "H01", "busDate": day, "busType": busType})
			var m map[string]string
			json.Unmarshal(msg, &m)
			if code != his.ResultOK {
				t.Fatalf("%s: %s %s", service, code, msg)
			}
			return m
		}
		// One more charge today, so today has a blue bill and a red one.
		q4 := outpatientForHIS(t, "Q4")
		q4["busDateTime"] = bill.FormatBusDateTime(time.Now())
		if code, msg := c.call("invoiceEBillOutpatient", q4); code != his.ResultOK {
			t.Fatalf("issue Q4: %s %s", code, msg)
		}
		// checkTotalData covers every bill of the business day, red bills
		// negative; checkTotalData − checkWriteOffData is the day's charges.
		for _, tc := range []struct{ service, day, busType, num, amt string }{
			{"checkTotalData", yesterday, "", "3", "370.35"},
			{"checkTotalData", yesterday, "02", "3", "370.35"},
			{"checkTotalData", yesterday, "01", "0", "0.00"},
			{"checkTotalData", today, "", "2", "0.00"},
			{"checkTotalData", today, "02", "2", "0.00"},
			{"checkWriteOffData", today, "", "1", "-123.45"},
			{"checkWriteOffData", yesterday, "", "0", "0.00"},
		} {
			if m := totals(tc.service, tc.day, tc.busType); m["allTotalNum"] != tc.num || m["allTotalAmt"] != tc.amt {
				t.Errorf("%s %s busType %q: %v, want %s bills, %s", tc.service, tc.day, tc.busType, m, tc.num, tc.amt)
			}
		}
		for _, day := range []string{yesterday, today} {
			all, refunds := totals("checkTotalData", day, ""), totals("checkWriteOffData", day, "")
			n1, _ := strconv.Atoi(all["allTotalNum"])
			n2, _ := strconv.Atoi(refunds["allTotalNum"])
			a1, _ := bill.ParseMoney(all["allTotalAmt"])
			a2, _ := bill.ParseMoney(refunds["allTotalAmt"])
			if want := map[string]string{yesterday: "3 370.35", today: "1 123.45"}[day]; fmt.Sprintf("%d %s", n1-n2, a1-a2) != want {
				t.Errorf("%s: checkTotalData − checkWriteOffData = %d bills %s, want the day's charges %s", day, n1-n2, a1-a2, want)
			}
		}
		code, msg = c.call("getEBillUnPrintList", map[string]string{"cardNo": "M0012345678"})
		if code != his.ResultOK || !strings.Contains(string(msg), `"total":3`) || strings.Contains(string(msg), issued[1]["billNo"]) {
			t.Fatalf("kiosk list: %s %s", code, msg)
		}
		code, msg = c.call("getBillDetail", map[string]string{"billBatchCode": issued[0]["billBatchCode"], "billNo": issued[0]["billNo"]})
		if code != his.ResultOK || !strings.Contains(string(msg), `"payer":"张三"`) || !strings.Contains(string(msg), `"state":"1"`) {
			t.Fatalf("detail: %s %s", code, msg)
		}
	})
}

func TestMedicalPlatformFieldNames(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, c := hisServer(t, s)
		m := outpatientForHIS(t, "V2-0001")
		delete(m, "patientCategory")
		delete(m, "patientCategoryCode")
		m["category"], m["categoryCode"] = "内科门诊", "0301"
		code, msg := c.call("invoiceEBillOutpatient", m)
		if code != his.ResultOK {
			t.Fatalf("category instead of patientCategory: %s %s", code, msg)
		}
		var r map[string]string
		json.Unmarshal(msg, &r)
		n, _ := bill.ParseBillNo(r["billNo"])
		lb, err := s.LedgerBill(ctx, r["billBatchCode"], n)
		must(t, err)
		if lb.Bill.Settlement.PatientCategory != "内科门诊" || lb.Bill.Settlement.PatientCategoryCode != "0301" {
			t.Fatalf("stored %q %q", lb.Bill.Settlement.PatientCategory, lb.Bill.Settlement.PatientCategoryCode)
		}
	})
}

func TestMedicalPaper(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, c := hisServer(t, s)
		_, err := s.ReceiveStock(ctx, server.StockPaper, bill.Segment{Code: "35062601", Start: 1, End: 1000})
		must(t, err)
		r, err := s.AssignPaper(ctx, "H01", "35062601", 100)
		must(t, err)
		if r.Start != 1 || r.End != 100 {
			t.Fatalf("assigned %+v", r)
		}
		ok := func(service string, req map[string]string) map[string]string {
			t.Helper()
			code, msg := c.call(service, req)
			if code != his.ResultOK {
				t.Fatalf("%s %v: %s %s", service, req, code, msg)
			}
			var m map[string]string
			json.Unmarshal(msg, &m)
			return m
		}
		fails := func(service string, req map[string]string, want, text string) {
			t.Helper()
			if code, msg := c.call(service, req); code != want || !strings.Contains(string(msg), text) {
				t.Fatalf("%s %v: %s %s, want %s with %q", service, req, code, msg, want, text)
			}
		}
		current := func() string {
			return ok("getPaperBillNo", map[string]string{"placeCode": "H01", "pBillBatchCode": "35062601"})["pBillNo"]
		}
		if code, msg := c.call("getValidBillBatchCode", map[string]string{"placeCode": "H01"}); code != his.ResultOK ||
			!strings.Contains(string(msg), `"pBillNo":"0000000001"`) {
			t.Fatalf("paper codes: %s %s", code, msg)
		}
		var a, b map[string]string
		for i, bus := range []string{"P1", "P2"} {
			_, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, bus))
			m := map[string]string{}
			json.Unmarshal(msg, &m)
			if i == 0 {
				a = m
			} else {
				b = m
			}
		}
		turn := func(m map[string]string, no string) map[string]string {
			return map[string]string{"billBatchCode": m["billBatchCode"], "billNo": m["billNo"], "pBillBatchCode": "35062601",
				"pBillNo": no, "placeCode": "H01", "operator": "林小燕"}
		}
		fails("turnPaper", turn(a, "2"), his.ResultConflict, "不一致")
		ok("turnPaper", turn(a, "1"))
		if current() != "0000000002" {
			t.Fatalf("after a conversion the current number is %s", current())
		}
		fails("turnPaper", turn(a, "2"), his.ResultConflict, "已换开")
		ok("reTurnPaper", turn(a, "2"))
		if _, err := s.PaperBill(ctx, "H01", "35062601", 1); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("paper 1 after the reprint: %v", err)
		}
		ok("invalidBlankBillNo", map[string]string{"pBillBatchCode": "35062601", "pBillNoStart": "3", "pBillNoEnd": "4",
			"placeCode": "H01", "author": "林小燕", "reason": "走纸"})
		if current() != "0000000005" {
			t.Fatalf("after blank void the current number is %s", current())
		}
		ok("turnPaper", turn(b, "5"))
		if st := ok("getEBillStatesByBillInfo", map[string]string{"billBatchCode": b["billBatchCode"], "billNo": b["billNo"]}); st["state"] != "1" ||
			st["isPrtPaper"] != "1" || st["pBillBatchCode"] != "35062601" || st["pBillNo"] != "0000000005" || st["eScarletBillNo"] != "" {
			t.Fatalf("the state of a bill on paper: %v", st)
		}
		red := ok("invalidPaper", map[string]string{"pBillBatchCode": "35062601", "pBillNo": "5", "placeCode": "H01",
			"author": "林小燕", "reason": "患者退费"})
		if red["eScarletBillNo"] == "" {
			t.Fatalf("invalidPaper gave %v", red)
		}
		if st := ok("getEBillStatesByBillInfo", map[string]string{"billBatchCode": b["billBatchCode"], "billNo": b["billNo"]}); st["state"] != "2" ||
			st["isScarlet"] != "1" || st["eScarletBillNo"] != red["eScarletBillNo"] || st["eScarletRandom"] != red["eScarletRandom"] || st["isPrtPaper"] != "0" {
			t.Fatalf("the e-bill of a voided paper: %v", st)
		}
		if _, err := s.PaperBill(ctx, "H01", "35062601", 5); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("paper 5 after invalidPaper: %v", err)
		}
		// Reversing a bill voids its live paper copy.
		ok("writeOffEBill", map[string]string{"billBatchCode": a["billBatchCode"], "billNo": a["billNo"], "reason": "退费"})
		if _, err := s.PaperBill(ctx, "H01", "35062601", 2); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("paper 2 after the write-off: %v", err)
		}
		fails("turnPaper", turn(a, "6"), his.ResultReversed, "已冲销")
		// Paper in the period lists: 3 live copies, 4 voided copies, 5 blank voids.
		today := time.Now().In(bill.Beijing).Format("20060102")
		for dataType, want := range map[string]string{"3": `"total":0`, "4": `"total":3`, "5": `"total":2`} {
			code, msg := c.call("getBillByBusDate", map[string]string{"busBgnDate": today, "busEndDate": today, "placeCode": "H01",
				"dataType": dataType, "pageNo": "1", "pageSize": "50"})
			if code != his.ResultOK || !strings.Contains(string(msg), want) {
				t.Errorf("paper dataType %s: %s %s, want %s", dataType, code, msg, want)
			}
		}
	})
}

func TestMedicalExamBatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, c := hisServer(t, s)
		raw, err := os.ReadFile("../examples/exam.json")
		must(t, err)
		person := func(i int, name string) map[string]any {
			var m map[string]any
			json.Unmarshal(raw, &m)
			m["busNo"], m["payer"], m["placeCode"] = "TJB-"+string(rune('A'+i)), name, "H01"
			delete(m, "idCardNo")
			return m
		}
		count := func() int {
			list, err := s.LedgerBills(ctx, server.LedgerFilter{Limit: 1000})
			must(t, err)
			return len(list)
		}
		bad := person(1, "李四")
		bad["totalAmt"] = "1.00"
		code, msg := c.call("invEBillCheckUpBatch", map[string]any{"placeCode": "H01", "batchNo": "ACME-2026",
			"items": []any{person(0, "张三"), bad, person(2, "王五")}})
		if code != his.ResultInvalid || !strings.Contains(string(msg), "第 2 人（李四）") || count() != 0 {
			t.Fatalf("a batch with one bad person: %s %s, %d bills", code, msg, count())
		}
		code, msg = c.call("invEBillCheckUpBatch", map[string]any{"placeCode": "H01", "batchNo": "ACME-2026",
			"items": []any{person(0, "张三"), person(1, "李四"), person(2, "王五")}})
		var rep struct {
			Count    int    `json:"count"`
			TotalAmt string `json:"totalAmt"`
			Bills    []map[string]string
		}
		json.Unmarshal(msg, &rep)
		if code != his.ResultOK || rep.Count != 3 || rep.TotalAmt != "1680.00" || count() != 3 {
			t.Fatalf("one bill per person: %s %s", code, msg)
		}
		// One bill to the unit for another batch.
		people := []any{person(3, "赵六"), person(4, "钱七")}
		code, msg = c.call("invEBillCheckUpBatch", map[string]any{"placeCode": "H01", "batchNo": "ACME-UNIT", "mode": "unit",
			"unit": map[string]string{"payer": "厦门海湾科技有限公司"}, "items": people})
		json.Unmarshal(msg, &rep)
		if code != his.ResultOK || rep.Count != 1 || rep.TotalAmt != "1120.00" || rep.Bills[0]["payer"] != "厦门海湾科技有限公司" || count() != 4 {
			t.Fatalf("one bill to the unit: %s %s", code, msg)
		}
	})
}

// TestMedicalBatchIssue: a batch issues each settlement as if sent alone —
// a bad one fails with its reason, the others are issued — and
// getBatchInvoiceEBill answers each outcome; the batch sent again issues
// nothing twice.
func TestMedicalBatchIssue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, _, c := hisServer(t, s)
		bad := outpatientForHIS(t, "B-2")
		bad["totalAmt"] = "1.00" // does not add up
		batch := map[string]any{"batchNo": "BATCH-1", "eBillList": []any{outpatientForHIS(t, "B-1"), bad, outpatientForHIS(t, "B-3")}}
		for range 2 {
			if code, msg := c.call("batchInvoiceEBillOutpatient", batch); code != his.ResultOK || string(msg) != "成功" {
				t.Fatalf("batch: %s %s", code, msg)
			}
		}
		code, msg := c.call("getBatchInvoiceEBill", map[string]string{"batchNo": "BATCH-1"})
		var out struct {
			Count     int
			EBillList []struct {
				BusNo, ErrMsg, BillNo, PictureURL string
				Status                            int
			}
		}
		json.Unmarshal(msg, &out)
		if code != his.ResultOK || out.Count != 3 || len(out.EBillList) != 3 {
			t.Fatalf("results: %s %s", code, msg)
		}
		for i, want := range []int{1, 2, 1} {
			it := out.EBillList[i]
			if it.Status != want || (want == 1) != (len(it.BillNo) == 10) || (want == 2) != strings.Contains(it.ErrMsg, "totalAmt") {
				t.Errorf("item %d: %+v", i, it)
			}
		}
		n, _, err := s.CountLedger(context.Background(), server.LedgerFilter{Point: "H01"})
		if err != nil || n != 2 {
			t.Fatalf("%d bills after the batch sent twice (%v)", n, err)
		}
		if code, _ := c.call("getBatchInvoiceEBill", map[string]string{"batchNo": "NO-SUCH"}); code != his.ResultNotFound {
			t.Fatalf("an unknown batch: %s", code)
		}
	})
}
