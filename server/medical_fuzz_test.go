package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

// FuzzMedicalRequest throws arbitrary envelopes, and correctly signed
// envelopes around arbitrary business JSON, at the medical API: it must
// never panic, must answer with a result code, and a failure stores nothing.
func FuzzMedicalRequest(f *testing.F) {
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:fuzz", From: "local", System: true})
	s, err := server.OpenStore(ctx, "", f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	setupUnit(f, s)
	if err := s.AddPoint(ctx, "H01", "HIS", server.PointServer); err != nil {
		f.Fatal(err)
	}
	if err := s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}}, hisKey); err != nil {
		f.Fatal(err)
	}
	ad := his.New(s, nil)
	services := ad.MedicalServices("https://pj.example.cn")
	f.Add([]byte(`{"appid":"his-demo","data":"e30=","noise":"1","version":"1.0","sign":"x"}`), []byte(`{}`), true)
	f.Add([]byte(`not json`), []byte(`{"busNo":"X","placeCode":"H01","totalAmt":-2.0E-4}`), false)
	f.Add([]byte(`{}`), []byte(`{"busNo":null,"placeCode":"H01","payer":"张三","chargeDetail":[{"amt":"1e400"}]}`), true)
	noise := 0
	f.Fuzz(func(t *testing.T, envelope, business []byte, signed bool) {
		// Counted, not listed: a listing of the growing ledger on every input
		// slowed the fuzzing down until its workers missed the deadline.
		before, _, err := s.CountLedger(ctx, server.LedgerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		body := envelope
		if signed {
			noise++
			data := base64.StdEncoding.EncodeToString(business)
			n := "fuzz-" + string(rune('a'+noise%26)) + base64.RawURLEncoding.EncodeToString([]byte{byte(noise), byte(noise >> 8), byte(noise >> 16)})
			body, _ = json.Marshal(map[string]string{"appid": hisAppID, "data": data, "noise": n, "version": "1.0",
				"sign": hisSign(hisAppID, data, n, hisKey, "1.0")})
		}
		resp, err := ad.HandleMedical(ctx, "invoiceEBillOutpatient", body, services)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(resp.Data)
		if err != nil {
			t.Fatalf("response data not Base64: %v", err)
		}
		var res his.MedicalResult
		if err := json.Unmarshal(raw, &res); err != nil || res.Result == "" {
			t.Fatalf("response %q: %v", raw, err)
		}
		after, _, err := s.CountLedger(ctx, server.LedgerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Result != his.ResultOK && after != before {
			t.Fatalf("%s stored a bill", res.Result)
		}
		if res.Result == his.ResultInternal {
			t.Fatalf("internal error for %q / %q", envelope, business)
		}
	})
}
