package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// benchHIS: clients concurrent HIS clients issue outpatient bills through
// the medical API (signed envelopes over HTTP, load generator on the same
// machine) for the given time, against a server store on PostgreSQL (or
// SQLite when no DSN is given).
func benchHIS(clients int, dur time.Duration, dir, example, pgDSN string) error {
	ctx := server.WithActor(context.Background(), server.Actor{Who: "cli:bench", From: "local"})
	dsn, cleanup, err := freshSchema(pgDSN)
	if err != nil {
		return err
	}
	defer cleanup()
	store, err := server.OpenStore(ctx, dsn, dir+"-his", server.WithStoreLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.SetUnit(ctx, server.Unit{Name: "演示医院", CreditCode: "123502004266001233"}); err != nil {
		return err
	}
	if err := store.SetBillKind(ctx, bill.Outpatient, "35060126"); err != nil {
		return err
	}
	if _, err := store.ReceiveStock(ctx, server.StockEInvoice, bill.Segment{Code: "35060126", Start: 1, End: 50_000_000}); err != nil {
		return err
	}
	points := []string{}
	for i := 1; i <= 4; i++ {
		p := fmt.Sprintf("H%02d", i)
		if err := store.AddPoint(ctx, p, "HIS 开票点", server.PointServer); err != nil {
			return err
		}
		points = append(points, p)
	}
	const appid, key = "bench-his", "bench-key-0123456789"
	if err := store.AddHISApp(ctx, server.HISApp{AppID: appid, Points: points}, key); err != nil {
		return err
	}
	api := server.NewAPI(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	api.SetPublicURL("https://pj.example-hospital.cn")
	ts := httptest.NewServer(api)
	defer ts.Close()
	raw, err := os.ReadFile(example)
	if err != nil {
		return err
	}
	var base map[string]any
	if err := json.Unmarshal(raw, &base); err != nil {
		return err
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var seq atomic.Int64
	call := func(point string) (time.Duration, error) {
		n := seq.Add(1)
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		m["busNo"], m["placeCode"] = fmt.Sprintf("BENCH%09d", n), point
		business, _ := json.Marshal(m)
		data := base64.StdEncoding.EncodeToString(business)
		noise := fmt.Sprintf("%d-%d", time.Now().UnixNano(), n)
		sum := md5.Sum([]byte("appid=" + appid + "&data=" + data + "&noise=" + noise + "&key=" + key + "&version=1.0"))
		body, _ := json.Marshal(map[string]string{"appid": appid, "data": data, "noise": noise, "version": "1.0",
			"sign": strings.ToUpper(hex.EncodeToString(sum[:]))})
		start := time.Now()
		resp, err := httpc.Post(ts.URL+server.MedicalPathPrefix+"invoiceEBillOutpatient", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		var out server.MedicalResponse
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		dec, _ := base64.StdEncoding.DecodeString(out.Data)
		if !bytes.Contains(dec, []byte(`"S0000"`)) {
			var r server.MedicalResult
			json.Unmarshal(dec, &r)
			msg, _ := base64.StdEncoding.DecodeString(r.Message)
			return 0, fmt.Errorf("%s %s", r.Result, msg)
		}
		return took, nil
	}
	var mu gosync.Mutex
	var lat []time.Duration
	var failed error
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg gosync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			point := points[c%len(points)]
			for time.Now().Before(deadline) {
				d, err := call(point)
				mu.Lock()
				if err != nil && failed == nil {
					failed = err
				}
				lat = append(lat, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed != nil {
		return fmt.Errorf("HIS bench: %w", failed)
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(float64(len(lat)-1)*q)].Microseconds()) / 1000 }
	db := "sqlite"
	if dsn != "" {
		db = "postgres"
	}
	rate := float64(len(lat)) / elapsed.Seconds()
	fmt.Printf("HIS interface: %d concurrent clients issuing outpatient bills through the medical API (%s, %d server points, %s)\n",
		clients, db, len(points), dur)
	fmt.Printf("%-10s %10s %10s %10s %10s\n", "bills", "bills/s", "p50 ms", "p99 ms", "max ms")
	fmt.Printf("%-10d %10.0f %10.1f %10.1f %10.1f\n", len(lat), rate, p(.5), p(.99), p(1))
	fmt.Printf("bills/s: %.0f   target ≥ 1000: %s      p99: %.1f ms   target ≤ 100 ms: %s\n", rate, verdictOf(rate >= 1000), p(.99), verdictOf(p(.99) <= 100))
	return nil
}
