package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

// TestNoiseWindow: a noise is refused within the window and fresh again after it.
func TestNoiseWindow(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	s, err := server.OpenStore(context.Background(), "", t.TempDir(), server.WithStoreClock(clk.now))
	must(t, err)
	defer s.Close()
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:test", From: "local", System: true})
	setupUnit(t, s)
	must(t, s.AddPoint(ctx, "H01", "HIS", server.PointServer))
	must(t, s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}}, hisKey))
	ad := his.New(s, nil)
	services := ad.MedicalServices("")
	call := func() string {
		data := base64.StdEncoding.EncodeToString([]byte(`{"busNo":"NONE"}`))
		body, _ := json.Marshal(map[string]string{"appid": hisAppID, "data": data, "noise": "same-noise", "version": "1.0",
			"sign": hisSign(hisAppID, data, "same-noise", hisKey, "1.0")})
		resp, err := ad.HandleMedical(ctx, "getEBillByBusNo", body, services)
		must(t, err)
		raw, _ := base64.StdEncoding.DecodeString(resp.Data)
		var r his.MedicalResult
		json.Unmarshal(raw, &r)
		return r.Result
	}
	if got := call(); got != his.ResultNotFound {
		t.Fatalf("first use: %s", got)
	}
	clk.t = clk.t.Add(23 * time.Hour)
	if got := call(); got != his.ResultReplay {
		t.Fatalf("within the window: %s", got)
	}
	clk.t = clk.t.Add(2 * time.Hour)
	if got := call(); got != his.ResultNotFound {
		t.Fatalf("after the window: %s", got)
	}
}

// TestNoiseReplayedConcurrently: of many requests sent at once with one
// noise, exactly one is answered and the rest are refused as replays (they
// land in the same recording batch or in the next); requests with their
// own noises all pass.
func TestNoiseReplayedConcurrently(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		hisServer(t, s)
		ad := his.New(s, nil)
		services := ad.MedicalServices("")
		call := func(noise string) string {
			data := base64.StdEncoding.EncodeToString([]byte(`{"busNo":"NONE"}`))
			body, _ := json.Marshal(map[string]string{"appid": hisAppID, "data": data, "noise": noise, "version": "1.0",
				"sign": hisSign(hisAppID, data, noise, hisKey, "1.0")})
			resp, err := ad.HandleMedical(context.Background(), "getEBillByBusNo", body, services)
			if err != nil {
				return err.Error()
			}
			raw, _ := base64.StdEncoding.DecodeString(resp.Data)
			var r his.MedicalResult
			json.Unmarshal(raw, &r)
			return r.Result
		}
		const n = 32
		for _, same := range []bool{true, false} {
			results := make(chan string, n)
			for i := range n {
				go func() {
					noise := "concurrent-noise"
					if !same {
						noise = fmt.Sprintf("own-noise-%d", i)
					}
					results <- call(noise)
				}()
			}
			count := map[string]int{}
			for range n {
				count[<-results]++
			}
			want := map[string]int{his.ResultNotFound: 1, his.ResultReplay: n - 1}
			if !same {
				want = map[string]int{his.ResultNotFound: n}
			}
			if len(count) != len(want) || count[his.ResultNotFound] != want[his.ResultNotFound] {
				t.Fatalf("same noise %v: %v, want %v", same, count, want)
			}
		}
	})
}

// TestHISMetrics: /metrics counts HIS calls by service id and result code;
// a made-up service id is counted as "unknown", not as a label of its own.
func TestHISMetrics(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		_, _, ts, c := hisServer(t, s)
		c.call("invoiceEBillOutpatient", outpatientForHIS(t, "M1"))
		c.call("invoiceEBillOutpatient", outpatientForHIS(t, "M2"))
		c.call("getEBillByBusNo", map[string]string{"busNo": "NONE"})
		c.call("getEBillByBusNo", map[string]string{"busNo": "M1"}, func(env map[string]string) { env["sign"] = "WRONG" })
		c.call("noSuchService-x1", map[string]string{})
		resp, err := http.Get(ts.URL + "/metrics")
		must(t, err)
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`ebill_his_calls_total{result="S0000",service="invoiceEBillOutpatient"} 2`,
			`ebill_his_calls_total{result="E2003",service="getEBillByBusNo"} 1`,
			`ebill_his_calls_total{result="E1003",service="getEBillByBusNo"} 1`,
			`ebill_his_calls_total{result="E1008",service="unknown"} 1`,
			`ebill_his_call_seconds_count{service="invoiceEBillOutpatient"} 2`,
		} {
			if !strings.Contains(string(text), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(string(text), "noSuchService") {
			t.Error("a made-up service id became a metric label")
		}
	})
}

func TestDisabledHISApp(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, c := hisServer(t, s)
		if code, _ := c.call("getEBillByBusNo", map[string]string{"busNo": "X"}); code != his.ResultNotFound {
			t.Fatalf("before: %s", code)
		}
		must(t, s.DisableHISApp(ctx, hisAppID))
		if code, _ := c.call("getEBillByBusNo", map[string]string{"busNo": "X"}); code != his.ResultUnknownApp {
			t.Fatalf("after disable: %s", code)
		}
		if err := s.DisableHISApp(ctx, "nobody"); bill.ErrorCode(err) != bill.ENotFound {
			t.Fatalf("unknown app: %v", err)
		}
		must(t, s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}}, hisKey))
		if code, _ := c.call("getEBillByBusNo", map[string]string{"busNo": "X"}); code != his.ResultNotFound {
			t.Fatalf("enabled again: %s", code)
		}
	})
}

// TestHISAllowFrom: an app limited to some addresses is refused (E1010,
// nothing stored) from any other; a bad range is refused when registered and
// leaves the app as it was.
func TestHISAllowFrom(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, c := hisServer(t, s)
		count := func() int {
			list, err := s.LedgerBills(ctx, server.LedgerFilter{Limit: 10})
			must(t, err)
			return len(list)
		}
		must(t, s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}, AllowFrom: []string{"10.1.2.3", "192.168.0.0/16"}}, hisKey))
		if code, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "ALLOW-1")); code != his.ResultNotFromHere ||
			!strings.Contains(string(msg), "127.0.0.1") || count() != 0 {
			t.Fatalf("from 127.0.0.1: %s %s, %d bills", code, msg, count())
		}
		if err := s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}, AllowFrom: []string{"127.0.0.300"}}, hisKey); bill.ErrorCode(err) != bill.EInvalid {
			t.Fatalf("a bad range: %v", err)
		}
		apps, err := s.HISApps(ctx)
		must(t, err)
		if len(apps) != 1 || strings.Join(apps[0].AllowFrom, ",") != "10.1.2.3,192.168.0.0/16" {
			t.Fatalf("after a refused change: %+v", apps)
		}
		must(t, s.AddHISApp(ctx, server.HISApp{AppID: hisAppID, Points: []string{"H01"}, AllowFrom: []string{"10.1.2.3", "127.0.0.0/8"}}, hisKey))
		if code, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, "ALLOW-1")); code != his.ResultOK || count() != 1 {
			t.Fatalf("from an allowed range: %s %s", code, msg)
		}
	})
}

func TestMayCallFrom(t *testing.T) {
	app := server.HISApp{AllowFrom: []string{"192.168.1.20", "10.8.0.0/16", "2001:db8::/32"}}
	for addr, want := range map[string]bool{
		"192.168.1.20:51234": true, "192.168.1.21:51234": false, "10.8.3.4:1": true, "10.9.0.1:1": false,
		"[::ffff:192.168.1.20]:443": true, "[2001:db8::1]:443": true, "[2001:db9::1]:443": false, "local": false, "": false,
	} {
		if got := app.MayCallFrom(addr); got != want {
			t.Errorf("%q: %v, want %v", addr, got, want)
		}
	}
	if !(&server.HISApp{}).MayCallFrom("203.0.113.9:1") {
		t.Error("an app without ranges is refused")
	}
}
