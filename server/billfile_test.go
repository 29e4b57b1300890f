package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ebill/ebill/internal/ofdcheck"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

// TestHISBillFile (issue 21): getEBillFile, our service beside the
// reference, hands HIS the e-bill as OFD or PDF — the same file a patient
// downloads, with the QR code of its verification page, 已冲红 once
// reversed, and no ID or phone number whole.
func TestHISBillFile(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, ts, c := hisServer(t, s)
		code, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "F1"))
		var issued map[string]string
		json.Unmarshal(msg, &issued)
		if code != his.ResultOK {
			t.Fatalf("issue: %s %s", code, msg)
		}
		file := func(fileType string) (string, map[string]string, []byte) {
			t.Helper()
			code, msg := c.call("getEBillFile", map[string]string{"billBatchCode": issued["billBatchCode"], "billNo": issued["billNo"],
				"random": issued["random"], "fileType": fileType})
			var out map[string]string
			json.Unmarshal(msg, &out)
			data, err := base64.StdEncoding.DecodeString(out["fileData"])
			if code == his.ResultOK && err != nil {
				t.Fatalf("%s: fileData is not Base64: %v", fileType, err)
			}
			return code, out, data
		}

		code, out, ofd := file("OFD")
		if code != his.ResultOK || out["fileType"] != "OFD" || out["fileName"] != issued["billBatchCode"]+"-"+issued["billNo"]+".ofd" {
			t.Fatalf("OFD: %s %v", code, out["fileName"])
		}
		p := ofdcheck.Must(t, ofd)
		if saysReversed(p) {
			t.Error("a bill in force says 已冲红")
		}
		var att printing.BillOFDData
		if err := json.Unmarshal(p.Files["Doc_0/Attachs/bill.json"], &att); err != nil {
			t.Fatal(err)
		}
		if !att.Masked || len(att.Signature) == 0 || att.CheckCode != issued["random"] || !strings.HasPrefix(att.VerifyURL, ts.URL+"/v?") {
			t.Errorf("attachment: masked %v, signature %d bytes, check code %s, verify URL %s", att.Masked, len(att.Signature), att.CheckCode, att.VerifyURL)
		}
		if _, ok := p.Files["Doc_0/Res/image_0.png"]; !ok {
			t.Error("the OFD has no QR code")
		}
		for _, whole := range []string{"13800000000", "350203198503122015", "M0012345678"} {
			if p.Contains(whole) {
				t.Errorf("the OFD holds %s whole", whole)
			}
		}
		for _, ft := range []string{"", "pdf", ".PDF"} {
			if code, out, pdf := file(ft); code != his.ResultOK || out["fileType"] != "PDF" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Fatalf("fileType %q: %s %s", ft, code, out["fileType"])
			}
		}
		if code, _, _ := file("doc"); code != his.ResultInvalid {
			t.Fatalf("fileType doc: %s", code)
		}
		code, msg = c.call("getEBillFile", map[string]string{"billBatchCode": issued["billBatchCode"], "billNo": issued["billNo"], "random": "ffffff"})
		if code != his.ResultNotFound || !strings.Contains(string(msg), "校验码不符") {
			t.Fatalf("wrong check code: %s %s", code, msg)
		}

		// Reversed, the file says so.
		if code, msg := c.call("writeOffEBill", map[string]string{"billBatchCode": issued["billBatchCode"], "billNo": issued["billNo"],
			"reason": "退费", "operator": "林小燕", "busDateTime": "20261125103015123", "placeCode": "H01"}); code != his.ResultOK {
			t.Fatalf("writeOffEBill: %s %s", code, msg)
		}
		_, _, ofd = file("OFD")
		if !saysReversed(ofdcheck.Must(t, ofd)) {
			t.Error("the reversed bill's OFD does not say 已冲红")
		}
	})
}

func saysReversed(p *ofdcheck.Package) bool {
	for _, tx := range p.Texts {
		if strings.Contains(tx.Text, "已冲红") {
			return true
		}
	}
	return false
}
