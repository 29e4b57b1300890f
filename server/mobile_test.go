package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/internal/ofdcheck"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

func TestMobileAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, api, ts, c := hisServer(t, s)
		smsLog := filepath.Join(t.TempDir(), "sms.log")
		api.SetSender(&server.LogSender{Path: smsLog})
		for _, bus := range []string{"M1", "M2"} {
			if code, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, bus)); code != his.ResultOK {
				t.Fatalf("issue: %s %s", code, msg)
			}
		}
		post := func(path string, body any) (int, map[string]any) {
			b, _ := json.Marshal(body)
			resp, err := http.Post(ts.URL+path, "application/json", bytes.NewReader(b))
			must(t, err)
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		get := func(path, token string) (*http.Response, []byte) {
			req, _ := http.NewRequest("GET", ts.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b
		}
		// A wrong name gets the same answer, and no message is sent.
		if status, out := post("/api/mobile/v1/code", map[string]string{"cardNo": "M0012345678", "name": "李四"}); status != 200 || out["sent"] != true {
			t.Fatalf("wrong name: %d %v", status, out)
		}
		if _, err := os.Stat(smsLog); err == nil {
			t.Fatal("a code was sent for a name that does not match")
		}
		if status, _ := post("/api/mobile/v1/code", map[string]string{"cardNo": "M0012345678", "name": "张三"}); status != 200 {
			t.Fatalf("code: %d", status)
		}
		var sent []byte
		for range 100 { // sent after the answer
			if sent, _ = os.ReadFile(smsLog); len(sent) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		m := regexp.MustCompile(`"phone":"13800000000","text":"[^"]*验证码 (\d{6})`).FindSubmatch(sent)
		if m == nil {
			t.Fatalf("sms log: %s", sent)
		}
		// Asked again within the minute: the same answer as for an unknown
		// card (issue 18 #5), and no second message.
		status1, again := post("/api/mobile/v1/code", map[string]string{"cardNo": "M0012345678", "name": "张三"})
		status2, unknown := post("/api/mobile/v1/code", map[string]string{"cardNo": "M9999999999", "name": "张三"})
		if status1 != 200 || status2 != 200 || fmt.Sprint(again) != fmt.Sprint(unknown) {
			t.Fatalf("a repeat %d %v, an unknown card %d %v", status1, again, status2, unknown)
		}
		time.Sleep(100 * time.Millisecond)
		if after, _ := os.ReadFile(smsLog); bytes.Count(after, []byte("验证码")) != 1 {
			t.Fatalf("a second code within a minute was sent: %s", after)
		}
		if status, _ := post("/api/mobile/v1/session", map[string]string{"cardNo": "M0012345678", "name": "张三", "code": "000000"}); status == 200 && string(m[1]) != "000000" {
			t.Fatal("a wrong code opened a session")
		}
		status, out := post("/api/mobile/v1/session", map[string]string{"cardNo": "M0012345678", "name": "张三", "code": string(m[1])})
		token, _ := out["token"].(string)
		if status != 200 || token == "" {
			t.Fatalf("session: %d %v", status, out)
		}
		if status, _ := post("/api/mobile/v1/session", map[string]string{"cardNo": "M0012345678", "name": "张三", "code": string(m[1])}); status == 200 {
			t.Fatal("a code was used twice")
		}
		resp, body := get("/api/mobile/v1/bills", token)
		var list struct {
			Bills []map[string]string `json:"bills"`
		}
		json.Unmarshal(body, &list)
		if resp.StatusCode != 200 || len(list.Bills) != 2 || list.Bills[0]["state"] != "正常" {
			t.Fatalf("bills: %d %s", resp.StatusCode, body)
		}
		resp, pdf := get("/api/mobile/v1/bills/"+list.Bills[0]["billBatchCode"]+"/"+list.Bills[0]["billNo"]+".pdf", token)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Fatalf("pdf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		// The same bill as OFD (issue 21), by suffix or by ?type=ofd: it
		// passes the structural check, names the bill, and carries no phone
		// or card number whole (PI-2).
		code, no := list.Bills[0]["billBatchCode"], list.Bills[0]["billNo"]
		for _, path := range []string{"/api/mobile/v1/bills/" + code + "/" + no + ".ofd", "/api/mobile/v1/bills/" + code + "/" + no + "?type=OFD"} {
			resp, ofd := get(path, token)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ofd" ||
				!strings.Contains(resp.Header.Get("Content-Disposition"), code+"-"+no+".ofd") {
				t.Fatalf("%s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), ofd)
			}
			p := ofdcheck.Must(t, ofd)
			if !bytes.Contains(p.Files["OFD.xml"], []byte(`Name="票据号码">`+no+`<`)) || p.Contains("13800000000") || p.Contains("M0012345678") {
				t.Fatalf("%s: OFD.xml %s", path, p.Files["OFD.xml"])
			}
		}
		if resp, body := get("/api/mobile/v1/bills/"+code+"/"+no+"?type=doc", token); resp.StatusCode != 400 || !strings.Contains(string(body), "PDF 或 OFD") {
			t.Fatalf("type=doc: %d %s", resp.StatusCode, body)
		}
		if resp, _ := get("/api/mobile/v1/bills/"+code+"/"+no+".ofd", "forged"); resp.StatusCode == 200 {
			t.Fatal("an OFD with a forged token")
		}
		if resp, _ := get("/api/mobile/v1/bills", ""); resp.StatusCode == 200 {
			t.Fatal("bills without a session")
		}
		if resp, _ := get("/api/mobile/v1/bills/35060126/0000000001.pdf", "forged"); resp.StatusCode == 200 {
			t.Fatal("a PDF with a forged token")
		}
	})
}

// TestCardNumbersBackfilled: bills stored before migration 00005 get their
// card number from their signed content when it runs.
func TestCardNumbersBackfilled(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, _, c := hisServer(t, s)
		if code, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "CARD-1")); code != his.ResultOK {
			t.Fatalf("issue: %s %s", code, msg)
		}
		ctx := context.Background()
		must(t, s.MigrateTo(ctx, 4)) // as before 00005: no card_no column
		must(t, s.MigrateTo(ctx, 5))
		var card string
		must(t, s.DB().QueryRowContext(ctx, "SELECT card_no FROM bills WHERE bus_no = 'CARD-1'").Scan(&card))
		if card != "M0012345678" {
			t.Fatalf("card_no after the migration: %q", card)
		}
		must(t, s.MigrateTo(ctx, -1))
	})
}
