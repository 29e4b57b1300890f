package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

func TestHealthReport(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *server.Store) {
		ctx, _, _, c := hisServer(t, s)
		var first map[string]string
		for _, bus := range []string{"R1", "R2"} {
			_, msg := c.call("invoiceEBillOutpatient", outpatientForHIS(t, bus))
			if first == nil {
				json.Unmarshal(msg, &first)
			}
		}
		c.call("writeOffEBill", map[string]string{"billBatchCode": first["billBatchCode"], "billNo": first["billNo"], "reason": "退费"})
		today := time.Now().In(bill.Beijing)
		rep, err := s.BuildHealthReport(ctx, today)
		must(t, err)
		if rep.Format != server.HealthFormat || rep.Version != 1 || len(rep.Rows) != 1 {
			t.Fatalf("report %+v", rep)
		}
		r := rep.Rows[0]
		// Two blue bills of 123.45 and one red; the split nets out the reversed one.
		if r.Point != "H01" || r.Kind != "outpatient" || r.Bills != 2 || r.Amount != 24690 || r.RedBills != 1 || r.RedAmount != -12345 ||
			r.FundPay != 6000 || rep.Totals.Bills != 2 {
			t.Fatalf("row %+v", r)
		}
		raw, _ := json.Marshal(rep)
		var generic map[string]any
		json.Unmarshal(raw, &generic)
		if generic["rows"].([]any)[0].(map[string]any)["amount"] != "246.90" {
			t.Fatalf("amounts are not yuan strings: %s", raw)
		}
		// Push: the receiver fails once, then accepts; a day sent is not sent again.
		var calls atomic.Int32
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			var got server.HealthReport
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil || got.Date != rep.Date {
				http.Error(w, "bad", http.StatusBadRequest)
			}
		}))
		defer recv.Close()
		sent, err := s.PushHealthReport(ctx, recv.Client(), recv.URL, today)
		if err != nil || !sent || calls.Load() != 2 {
			t.Fatalf("push: %v %v after %d calls", sent, err, calls.Load())
		}
		sent, err = s.PushHealthReport(ctx, recv.Client(), recv.URL, today)
		if err != nil || sent || calls.Load() != 2 {
			t.Fatalf("second push: %v %v, %d calls", sent, err, calls.Load())
		}
	})
}
